
extension SyncEngine {
    /// Tuning and behaviour.
    public struct Configuration: Sendable {
        /// Compare mode, delete, filter and shard.
        public var options: SyncOptions
        /// Requests in flight at once.
        public var concurrency: Int
        /// Bytes held in part and small-object buffers at once (at least one part); this bounds
        /// memory whatever the file sizes.
        public var memoryLimit: Int64
        /// Uploads and copies of at least this size use parts (16 MiB by default).
        public var multipartThreshold: Int64
        /// The size of upload and copy parts: 16 MiB by default, within AWS's 8–16 MB guidance,
        /// and measured cheaper than 8 MiB for client and server alike (fewer requests; see
        /// `Benchmarks/README.md`). Raised for huge objects to stay within 10,000 parts.
        public var partSize: Int64
        /// Objects up to this size download in one request, checked whole against their CRC32C or
        /// MD5; larger ones in ranges of this size, in parallel (64 MiB by default, at least
        /// 1 MiB). A download streams to disk, so its memory does not grow with the range; fewer
        /// ranges cost client and server less CPU (measured in `Benchmarks/README.md`).
        public var rangeSize: Int64
        /// Settings for written objects (encryption, storage class, ACL).
        public var writeOptions: S3Client.WriteOptions
        /// What the local lister does with symbolic links.
        public var symlinks: SymlinkPolicy
        /// How long the endpoint may stay unreachable before the sync gives up.
        public var giveUpAfter: Duration
        /// Flush each downloaded file to disk (`fsync`) before renaming it into place, so even a
        /// power cut cannot leave an empty file under a final name.
        ///
        /// Off by default, as in `rsync` (`--fsync`), `aws s3 sync` and s5cmd: every file is
        /// written under a temporary name and renamed only when complete either way, and a power
        /// cut can at worst leave a short or empty file, which the next sync sees by its size and
        /// fetches again. Waiting for the disk roughly doubles the time of a large restore.
        public var durableDownloads: Bool
        /// For an S3 destination: before its transfers, a run aborts the open multipart uploads
        /// (ListMultipartUploads under the destination prefix) that an earlier, interrupted run of
        /// this sync left, and reports them (``SyncSummary/abortedStaleUploads``); `nil` turns
        /// this off.
        ///
        /// S3 lists no metadata or tags of an open upload, so "left by this sync" is decided by
        /// what is listed: an upload is aborted only when its key is one this run is about to
        /// write, and it was started before this run by more than this age (and a second, since
        /// some servers give the time to the second). So an upload another writer started after
        /// this run began is never touched, nor one of a key this run does not write (a bucket
        /// lifecycle rule, `AbortIncompleteMultipartUpload`, is the tool for those). An upload
        /// of the same key that a concurrent writer is still sending after this age would be
        /// aborted; that writer's completion then fails, and this run writes the object anyway.
        /// One hour by default, so that neither a concurrent writer's upload of a few minutes nor
        /// a clock skew between this machine and S3 counts as stale; `.zero` aborts every such
        /// upload started before this run (when nothing else writes these keys).
        public var staleUploadAge: Duration?
        /// A local file where ``SyncEngine/sync(progress:)`` keeps its ``SyncCheckpoint``, so an
        /// interrupted sync resumes where it stopped instead of listing everything again; `nil`
        /// (the default) keeps none. One path per sync: a checkpoint of another sync is refused.
        public var checkpoint: String?

        /// Creates a configuration.
        public init(
            options: SyncOptions = SyncOptions(), concurrency: Int = 64, memoryLimit: Int64 = 64 << 20,
            multipartThreshold: Int64 = 16 << 20,
            partSize: Int64 = 16 << 20, rangeSize: Int64 = 64 << 20,
            writeOptions: S3Client.WriteOptions = S3Client.WriteOptions(), symlinks: SymlinkPolicy = .follow,
            giveUpAfter: Duration = .seconds(120), durableDownloads: Bool = false,
            staleUploadAge: Duration? = .seconds(3600), checkpoint: String? = nil
        ) {
            self.checkpoint = checkpoint
            self.durableDownloads = durableDownloads
            self.staleUploadAge = staleUploadAge
            self.options = options
            self.concurrency = max(1, concurrency)
            self.memoryLimit = max(memoryLimit, max(partSize, S3Client.minimumPartSize), multipartThreshold)
            self.multipartThreshold = max(multipartThreshold, S3Client.minimumPartSize)
            self.partSize = max(partSize, S3Client.minimumPartSize)
            self.rangeSize = max(rangeSize, 1 << 20)
            self.writeOptions = writeOptions
            self.symlinks = symlinks
            self.giveUpAfter = giveUpAfter
        }
    }
}
