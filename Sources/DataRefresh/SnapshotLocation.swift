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

    /// The ids of the complete snapshots (those with a manifest), oldest first, and of the
    /// incomplete ones.
    public func snapshots(_ s3: S3Client) async throws -> (complete: [String], incomplete: [String]) {
        var ids = Set<String>()
        var complete = Set<String>()
        var token: String?
        repeat {
            let page = try await s3.listObjectsV2(bucket: bucket, prefix: prefix, continuationToken: token)
            for object in page.objects {
                let rest = object.key.dropFirst(prefix.count)
                guard let slash = rest.firstIndex(of: "/") else { continue }
                let id = String(rest[..<slash])
                ids.insert(id)
                if rest[rest.index(after: slash)...] == SnapshotManifest.fileName { complete.insert(id) }
            }
            guard page.nextContinuationToken == nil || page.nextContinuationToken != token else {
                throw DataRefreshError(
                    "listing s3://\(bucket)/\(prefix) returned the same continuation token twice; the server is looping, so the snapshots cannot be listed"
                )
            }
            token = page.nextContinuationToken
        } while token != nil
        return (complete.sorted(), ids.subtracting(complete).sorted())
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
