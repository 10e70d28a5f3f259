import Foundation
import RelayFoundation

/// Multipart uploads are never left open: stale ones of earlier runs are aborted, and a
/// cancelled run still completes or aborts its own.
extension SyncEngine {
    /// Aborts the open multipart uploads that earlier runs of this sync left under an S3
    /// destination (the rule is ``Configuration/staleUploadAge``'s), and logs them.
    ///
    /// - Returns: how many were aborted, and why not all could be, when they could not; a
    ///   failure here never stops the sync.
    func abortStaleUploads(writing plan: SyncPlan, before runStart: Date) async -> (aborted: Int, problem: String?) {
        guard case .s3(let bucket, let prefix) = destination, let age = configuration.staleUploadAge,
            let s3 = destinationClient, !plan.transfers.isEmpty
        else { return (0, nil) }
        let planned = Set(plan.transfers.map { prefix + $0.entry.key.string })
        let cutoff = runStart.addingTimeInterval(-(age.seconds + 1))
        var aborted = 0
        do {
            let stale = try await s3.listMultipartUploads(
                bucket: bucket, prefix: prefix, giveUpAfter: configuration.giveUpAfter
            ).filter { upload in planned.contains(upload.key) && (upload.initiated.map { $0 < cutoff } ?? false) }
            for upload in stale {
                try await s3.abortMultipartUpload(
                    bucket: bucket, key: upload.key, uploadId: upload.uploadId, giveUpAfter: configuration.giveUpAfter)
                aborted += 1
            }
            if aborted > 0 {
                s3.aws.logger.notice(
                    "aborted stale multipart uploads",
                    metadata: ["count": "\(aborted)", "bucket": "\(bucket)", "prefix": "\(prefix)"])
            }
            return (aborted, nil)
        } catch {
            let problem =
                "\(aborted) open multipart upload(s) of earlier runs under s3://\(bucket)/\(prefix) aborted, then: \(error); the rest keep their parts (and cost) until aborted: allow s3:ListBucketMultipartUploads and s3:AbortMultipartUpload, or add a lifecycle rule AbortIncompleteMultipartUpload"
            s3.aws.logger.warning("stale multipart uploads not cleaned up", metadata: ["problem": "\(problem)"])
            return (aborted, problem)
        }
    }

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
