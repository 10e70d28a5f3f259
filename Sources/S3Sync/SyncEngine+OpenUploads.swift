import Foundation
import RelayFoundation

/// Multipart uploads are never left open: stale ones of earlier runs are aborted, and a
/// cancelled run still completes or aborts its own.
extension SyncEngine {
    /// Runs `operation` to its end even when the calling task is cancelled (whose own requests
    /// fail at once): in an unstructured task, which the cancellation does not reach, and which
    /// is cancelled only ``abortTimeout`` after the caller was, so a cancelled run still returns
    /// promptly when the endpoint has gone.
    @discardableResult
    static func finishing<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await operation() }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            Task {
                try? await Task.sleep(for: abortTimeout)
                task.cancel()
            }
        }
    }

    /// Aborts `upload`, also from a cancelled task (see ``finishing(_:)``); the abort gives up
    /// after ``abortTimeout``.
    ///
    /// - Returns: whether the upload is gone.
    static func abort(_ upload: SyncSummary.OpenUpload, with s3: S3Client) async -> Bool {
        (try? await finishing {
            do {
                try await s3.abortMultipartUpload(
                    bucket: upload.bucket, key: upload.key, uploadId: upload.uploadId, giveUpAfter: abortTimeout)
                return true
            } catch {
                s3.aws.logger.warning(
                    "multipart upload left open",
                    metadata: [
                        "bucket": "\(upload.bucket)", "key": "\(upload.key)", "uploadId": "\(upload.uploadId)",
                        "error": "\(error)",
                    ])
                return false
            }
        }) ?? false
    }
}

/// The open multipart uploads that earlier runs of a sync left under its S3 destination, older
/// than ``SyncEngine/Configuration/staleUploadAge``: listed once, when the first transfer starts,
/// and each aborted just before its key is written again (uploads to keys this run does not
/// write may be another writer's, and are left alone). A failure here never stops the sync.
actor StaleUploads {
    let engine: SyncEngine
    let cutoff: Date?
    private var open: [String: [S3Client.PendingUpload]]?
    /// The one listing, which transfers starting while it runs wait for (an actor is reentrant).
    private var listing: Task<[String: [S3Client.PendingUpload]], any Error>?
    /// How many were aborted.
    private(set) var aborted = 0
    /// Why some could not be listed or aborted, when they could not.
    private(set) var problem: String?

    init(engine: SyncEngine, runStart: Date) {
        self.engine = engine
        cutoff = engine.configuration.staleUploadAge.map { runStart.addingTimeInterval(-($0.seconds + 1)) }
    }

    /// Aborts the stale uploads of `key` (relative to the destination prefix).
    func abort(before key: SyncKey) async {
        guard case .s3(let bucket, let prefix) = engine.destination, let cutoff, let s3 = engine.destinationClient
        else { return }
        if open == nil {
            let pending =
                listing
                ?? Task { [giveUpAfter = engine.configuration.giveUpAfter] in
                    let uploads = try await s3.listMultipartUploads(
                        bucket: bucket, prefix: prefix, giveUpAfter: giveUpAfter
                    ).filter { $0.initiated.map { $0 < cutoff } ?? false }
                    return Dictionary(grouping: uploads, by: \.key)
                }
            listing = pending
            do {
                let uploads = try await pending.value
                if open == nil { open = uploads }
            } catch {
                if open == nil {
                    open = [:]
                    report(bucket: bucket, prefix: prefix, error)
                }
            }
        }
        let fullKey = prefix + key.string
        guard let uploads = open?.removeValue(forKey: fullKey) else { return }
        for upload in uploads {
            do {
                try await s3.abortMultipartUpload(
                    bucket: bucket, key: upload.key, uploadId: upload.uploadId,
                    giveUpAfter: engine.configuration.giveUpAfter)
                aborted += 1
                s3.aws.logger.notice(
                    "aborted a stale multipart upload", metadata: ["bucket": "\(bucket)", "key": "\(upload.key)"])
            } catch {
                report(bucket: bucket, prefix: prefix, error)
            }
        }
    }

    private func report(bucket: String, prefix: String, _ error: any Error) {
        let problem =
            "\(aborted) open multipart upload(s) of earlier runs under s3://\(bucket)/\(prefix) aborted, then: \(error); the rest keep their parts (and cost) until aborted: allow s3:ListBucketMultipartUploads and s3:AbortMultipartUpload, or add a lifecycle rule AbortIncompleteMultipartUpload"
        engine.destinationClient?.aws.logger.warning(
            "stale multipart uploads not cleaned up", metadata: ["problem": "\(problem)"])
        self.problem = problem
    }
}
