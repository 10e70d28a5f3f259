
/// The outcome of a sync.
public struct SyncSummary: Sendable, Codable, Equatable {
    /// A transfer or deletion that failed.
    public struct Failure: Sendable, Codable, Equatable {
        /// The key relative to the sync root.
        public let key: String
        /// What went wrong.
        public let message: String
    }

    /// Objects transferred.
    public var transferred = 0
    /// Bytes transferred.
    public var transferredBytes: Int64 = 0
    /// Destination objects deleted.
    public var deleted = 0
    /// Objects already in sync.
    public var unchanged = 0
    /// Source entries reported and not synced (links not followed, special files).
    public var skipped = 0
    /// The skipped source entries, with why (the key relative to the sync root).
    public var skips: [Failure] = []
    /// Failures, in key order.
    public var failures: [Failure] = []
    /// Planned transfers never started because the sync gave up.
    public var notAttempted = 0
    /// Why the planned deletions were not done, when they were not, in words.
    public var deletionsWithheld: String?
    /// Why the planned deletions were not done, when they were not.
    public var deletionsWithheldBecause: WithheldReason?

    /// Why a sync did not delete what it had planned to.
    public enum WithheldReason: String, Sendable, Codable, Equatable {
        /// Some transfers failed or were not attempted: the source may not have been read whole.
        case incompleteTransfers
        /// The run was cancelled.
        case cancelled
        /// The deletions would have exceeded ``SyncOptions/maxDelete``.
        case deleteLimit
    }
    /// Seconds from start to end.
    public var seconds: Double = 0

    /// A multipart upload on S3, by its bucket, key and id.
    public struct OpenUpload: Sendable, Codable, Equatable, Hashable {
        /// The bucket.
        public let bucket: String
        /// The object's full key.
        public let key: String
        /// The upload id.
        public let uploadId: String

        /// An upload.
        public init(bucket: String, key: String, uploadId: String) {
            self.bucket = bucket
            self.key = key
            self.uploadId = uploadId
        }
    }

    /// The run was cancelled (the task running it, say on SIGINT) before it finished: transfers
    /// in flight were cut short (``interrupted``), the rest never started (``notAttempted``), and
    /// deletions were withheld.
    public var cancelled = false
    /// Transfers cut short by the cancellation; none left a partial object or file.
    public var interrupted = 0
    /// Multipart uploads this run started and aborted, after a failure or on cancellation, so
    /// their parts do not linger (and cost) on S3.
    public var abortedUploads = 0
    /// Multipart uploads this run started and could neither complete nor abort (the abort itself
    /// failed or timed out): their parts stay on S3 until aborted, by the next run of this sync
    /// (see ``SyncEngine/Configuration/staleUploadAge``), by hand
    /// (`aws s3api abort-multipart-upload`) or by a lifecycle rule.
    public var uploadsLeftOpen: [OpenUpload] = []
    /// Open multipart uploads left by earlier runs of this sync and aborted before the transfers
    /// (see ``SyncEngine/Configuration/staleUploadAge``).
    public var abortedStaleUploads = 0
    /// Why open uploads of earlier runs could not be listed or aborted, when they could not (the
    /// sync went on regardless).
    public var staleUploadProblem: String?

    /// Everything planned was done.
    public var succeeded: Bool {
        failures.isEmpty && notAttempted == 0 && deletionsWithheld == nil && !cancelled && interrupted == 0
            && uploadsLeftOpen.isEmpty
    }
}
