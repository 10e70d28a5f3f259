import Foundation
import S3Sync

/// Where snapshots live: `s3://bucket/prefix<id>/…`.
public struct SnapshotLocation: Sendable, Equatable {
    /// The bucket.
    public var bucket: String
    /// The prefix (empty, or ending in `/`).
    public var prefix: String

    /// Creates a location; a non-empty prefix gets a trailing `/`.
    public init(bucket: String, prefix: String = "snapshots/") {
        self.bucket = bucket
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    /// The key prefix of snapshot `id`.
    public func prefix(of id: String) -> String { "\(prefix)\(id)/" }

    /// The content store every snapshot's shared homes point into (``HomeManifest``).
    public var contentPrefix: String { prefix + HomeManifest.contentFolder }

    /// The ids of the complete snapshots (those with a manifest), oldest first, and of the
    /// incomplete ones.
    ///
    /// Lists only the folders below the prefix (a delimited listing), then looks for each one's
    /// manifest, so the millions of objects in the content store and in the snapshots are never
    /// listed here.
    public func snapshots(_ s3: S3Client) async throws -> (complete: [String], incomplete: [String]) {
        var ids: [String] = []
        var token: String?
        repeat {
            let page = try await s3.listObjectsV2(
                bucket: bucket, prefix: prefix, delimiter: "/", continuationToken: token)
            for folder in page.commonPrefixes {
                let id = String(folder.dropFirst(prefix.count).dropLast())
                // The content store is shared by all snapshots, and is none of them.
                if !id.isEmpty && id + "/" != HomeManifest.contentFolder { ids.append(id) }
            }
            guard page.nextContinuationToken == nil || page.nextContinuationToken != token else {
                throw DataRefreshError(
                    "listing s3://\(bucket)/\(prefix) returned the same continuation token twice; the server is looping, so the snapshots cannot be listed"
                )
            }
            token = page.nextContinuationToken
        } while token != nil
        var complete: [String] = []
        var incomplete: [String] = []
        for id in ids.sorted() {
            if try await s3.headObject(bucket: bucket, key: prefix(of: id) + SnapshotManifest.fileName) != nil {
                complete.append(id)
            } else {
                incomplete.append(id)
            }
        }
        return (complete, incomplete)
    }

    /// The manifest of snapshot `id`.
    ///
    /// - Throws: ``DataRefreshError`` when it is missing or unreadable.
    public func manifest(_ id: String, _ s3: S3Client) async throws -> SnapshotManifest {
        guard let data = try await s3.getObjectData(bucket: bucket, key: prefix(of: id) + SnapshotManifest.fileName)
        else {
            throw DataRefreshError(
                "snapshot \(id) in s3://\(bucket)/\(prefix) has no manifest: it is incomplete and is never restored")
        }
        do {
            return try JSONDecoder().decode(SnapshotManifest.self, from: data)
        } catch {
            throw DataRefreshError("the manifest of snapshot \(id) is unreadable (\(error)); choose another snapshot")
        }
    }
}
