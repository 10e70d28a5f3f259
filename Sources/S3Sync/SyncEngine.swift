import AWSCore
import AWSSigning
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import RelayFoundation
import Synchronization

/// Runs a sync between a local directory and S3, or between two S3 locations.
///
/// Lists both sides, plans with ``SyncPlanner``, then transfers with at most
/// ``Configuration/concurrency`` requests in flight, so memory stays within concurrency × part size
/// whatever the file sizes. Small objects go in one request, larger ones in parallel parts
/// (multipart upload, ranged download, UploadPartCopy). Downloads land in a partial file that is
/// renamed only when complete and verified, with the object's `LastModified` as its time, so the
/// next sync finds nothing to do. Failed transfers are reported, never hidden; deletions happen
/// only when every transfer succeeded. When the endpoint stays unreachable for
/// ``Configuration/giveUpAfter``, the remaining transfers are abandoned and reported.
///
/// Cancelling the task that runs ``run(_:progress:)`` (as `s3sync` does on SIGINT or SIGTERM)
/// stops it cleanly: no new transfer starts, the ones in flight are cut short, every multipart
/// upload they had started is aborted (each abort is sent from a task of its own, which the
/// cancellation does not reach, and may take ``abortTimeout``), and `run` returns a summary with
/// ``SyncSummary/cancelled`` set. Uploads an earlier run could not abort (it was killed, say) are
/// found and aborted by the next run of the same sync (``Configuration/staleUploadAge``).
public struct SyncEngine: Sendable {
    /// The most one AbortMultipartUpload may take over all its attempts, so a cancelled run
    /// returns promptly even when the endpoint has gone.
    public static let abortTimeout: Duration = .seconds(10)

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

        /// Creates a configuration.
        public init(
            options: SyncOptions = SyncOptions(), concurrency: Int = 64, memoryLimit: Int64 = 64 << 20,
            multipartThreshold: Int64 = 16 << 20,
            partSize: Int64 = 16 << 20, rangeSize: Int64 = 64 << 20,
            writeOptions: S3Client.WriteOptions = S3Client.WriteOptions(), symlinks: SymlinkPolicy = .follow,
            giveUpAfter: Duration = .seconds(120), durableDownloads: Bool = false,
            staleUploadAge: Duration? = .seconds(3600)
        ) {
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

    /// Where data comes from.
    public let source: SyncLocation
    /// Where it goes.
    public let destination: SyncLocation
    /// The client for an S3 source.
    public let sourceClient: S3Client?
    /// The client for an S3 destination (may be the source's, or another account's).
    public let destinationClient: S3Client?
    /// Tuning and behaviour.
    public let configuration: Configuration

    /// Creates an engine.
    ///
    /// - Parameters:
    ///   - sourceClient: required when `source` is S3.
    ///   - destinationClient: required when `destination` is S3; for S3→S3 with the same client
    ///     objects are copied server-side, with different clients (separate credentials per
    ///     account) they stream through this machine.
    /// - Throws: ``SyncError/invalidArgument(_:)`` for local→local or a missing client.
    public init(
        source: SyncLocation, destination: SyncLocation, sourceClient: S3Client? = nil,
        destinationClient: S3Client? = nil, configuration: Configuration = Configuration()
    ) throws {
        switch (source, destination) {
        case (.local, .local):
            throw SyncError.invalidArgument("both sides are local folders; one side must be s3://bucket/prefix")
        case (.s3, _) where sourceClient == nil, (_, .s3) where destinationClient == nil:
            throw SyncError.invalidArgument("an S3 side needs an S3 client")
        case (.s3(let sourceBucket, let sourcePrefix), .s3(let bucket, let prefix))
        where sourceBucket == bucket && (sourcePrefix.hasPrefix(prefix) || prefix.hasPrefix(sourcePrefix)):
            // Bucket names are global, so the same name is the same bucket.
            throw SyncError.overlap(
                "\(source) and \(destination) overlap (one is inside the other): a sync would copy into its own source and --delete would remove it; use prefixes that do not contain each other"
            )
        default:
            break
        }
        self.source = source
        self.destination = destination
        self.sourceClient = sourceClient
        self.destinationClient = destinationClient
        self.configuration = configuration
    }

    /// Lists both sides and plans the sync, touching nothing (this is the dry run).
    ///
    /// With ``CompareMode/checksum``, entries present on both sides with equal sizes get their
    /// checksums first: local files are read and hashed (MD5 and CRC32C), S3 objects whose ETag
    /// is not an MD5 are asked for their stored checksums.
    ///
    /// Source keys that cannot be placed below the destination are refused (``SyncPlan/refused``);
    /// a local source that does not exist throws ``SyncError/sourceMissing(_:)``; with
    /// ``SyncOptions/delete``, a source that lists nothing beside a destination that has entries
    /// throws ``SyncError/emptySource(_:)`` unless ``SyncOptions/allowEmptySource`` is set.
    public func plan() async throws -> SyncPlan {
        async let sourceEntries = list(source, client: sourceClient, isSource: true)
        async let destinationEntries = list(destination, client: destinationClient, isSource: false)
        var sources = try await sourceEntries
        var destinations = try await destinationEntries
        let options = configuration.options
        var refused: [(entry: SyncEntry, reason: String)] = []
        sources.removeAll { entry in
            guard let reason = refusal(of: entry) else { return false }
            if options.covers(entry.key) { refused.append((entry, reason)) }
            return true
        }
        if configuration.options.compare == .checksum {
            let sizes = Dictionary(destinations.map { ($0.key, $0.size) }, uniquingKeysWith: { first, _ in first })
            let sourceSizes = Dictionary(sources.map { ($0.key, $0.size) }, uniquingKeysWith: { first, _ in first })
            sources = try await withChecksums(sources, at: source, client: sourceClient) { sizes[$0.key] == $0.size }
            destinations = try await withChecksums(destinations, at: destination, client: destinationClient) {
                sourceSizes[$0.key] == $0.size
            }
        }
        var plan = SyncPlanner.plan(source: sources, destination: destinations, options: options)
        plan.refused = refused
        let sourceCount = plan.transfers.count + plan.unchanged + plan.skipped.count + plan.refused.count
        if options.delete && !options.allowEmptySource && sourceCount == 0 && !plan.deletes.isEmpty {
            throw SyncError.emptySource(
                "the source \(source) lists nothing, so --delete would remove all \(plan.deletes.count) entries of \(destination); check the source (a wrong path, an unmounted file system), or allow it explicitly (--allow-empty-source)"
            )
        }
        if case .local(let root) = destination {
            // A folder marker whose folder exists is in sync.
            let folders = plan.transfers.map(\.entry).filter { $0.kind == .folder }
            if !folders.isEmpty {
                let existing = try await LocalFile.run {
                    Set(folders.filter { LocalFile.isDirectory(root + "/" + $0.key.string) }.map(\.key))
                }
                plan.transfers.removeAll { $0.entry.kind == .folder && existing.contains($0.entry.key) }
                plan.unchanged += existing.count
            }
        }
        return plan
    }

    /// Why a source entry cannot be synced to this destination, or `nil`.
    func refusal(of entry: SyncEntry) -> String? {
        if let reason = entry.key.unsafeReason {
            return
                "refused: the key \(describe(entry.key)) cannot be placed below \(destination): \(reason); rename the object or exclude it"
        }
        if case .local = destination, entry.kind == .folder, entry.size > 0 {
            return
                "refused: \(describe(entry.key)) ends in '/' but holds \(entry.size) bytes, so it cannot be a local file; rename the object or exclude it"
        }
        return nil
    }

    /// A key as the source names it, with control characters escaped so a hostile key cannot
    /// rewrite the terminal or the log.
    func describe(_ key: SyncKey) -> String {
        let full: String
        switch source {
        case .local(let root): full = root + "/" + key.string
        case .s3(let bucket, let prefix): full = "s3://\(bucket)/\(prefix)\(key.string)"
        }
        return "'"
            + full.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? $0.escaped(asASCII: true) : String($0) }
            .joined() + "'"
    }

    /// Adds checksums to the entries `needed` selects, `concurrency` at a time.
    func withChecksums(
        _ entries: [SyncEntry], at location: SyncLocation, client: S3Client?, needed: (SyncEntry) -> Bool
    ) async throws -> [SyncEntry] {
        let indices = entries.indices.filter { entries[$0].kind == .file && needed(entries[$0]) }
        var result = entries
        let limits = Limits(configuration)
        try await withThrowingTaskGroup(of: (Int, [ContentChecksum]).self) { group in
            for index in indices {
                let entry = entries[index]
                group.addTask {
                    try await limits.run {
                        switch location {
                        case .local(let root):
                            return (index, try await Self.hashFile(root + "/" + entry.key.string, size: entry.size))
                        case .s3(let bucket, let prefix):
                            if entry.eTag.map(ContentChecksum.isPlainMD5ETag) == true { return (index, []) }
                            let head = try await client!.headObject(bucket: bucket, key: prefix + entry.key.string)
                            return (index, head?.checksums ?? [])
                        }
                    }
                }
            }
            for try await (index, checksums) in group { result[index].checksums += checksums }
        }
        return result
    }

    /// MD5 and CRC32C of a local file, read in 1 MiB pieces.
    static func hashFile(_ path: String, size: Int64) async throws -> [ContentChecksum] {
        try await LocalFile.withReading(path) { try await hash($0, size: size) }
    }

    static func hash(_ file: LocalFile, size: Int64) async throws -> [ContentChecksum] {
        var md5 = Insecure.MD5()
        var crc = CRC32C()
        var offset: Int64 = 0
        while offset < size {
            let count = Int(min(1 << 20, size - offset))
            let buffer = try await file.read(offset: offset, count: count)
            md5.update(data: buffer.readableBytesView)
            crc.update(buffer.readableBytesView)
            offset += Int64(count)
        }
        return [
            ContentChecksum(.md5, hex: Hex.string(md5.finalize())),
            ContentChecksum(.crc32c, hex: crc.hex),
        ]
    }

    /// Plans and runs the sync.
    public func sync(progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> (
        SyncPlan, SyncSummary
    ) {
        let plan = try await plan()
        return (plan, try await run(plan, progress: progress))
    }

    /// Lists one side; a local source must exist, a local destination may not yet.
    func list(_ location: SyncLocation, client: S3Client?, isSource: Bool) async throws -> [SyncEntry] {
        switch location {
        case .local(let path):
            return try await LocalLister.list(root: path, symlinks: configuration.symlinks, mustExist: isSource)
        case .s3(let bucket, let prefix):
            guard let client else { throw SyncError.invalidArgument("an S3 side needs an S3 client") }
            // Each page gives up after giveUpAfter, but never under 5 s, so a slow page on a busy
            // server is not taken for an unreachable one.
            return try await client.listAllObjects(
                bucket: bucket, prefix: prefix, giveUpAfter: max(configuration.giveUpAfter, .seconds(5))
            ).map { object in
                guard let key = SyncKey.relative(object.key, below: prefix) else {
                    throw SyncError.malformedListing(
                        "listing s3://\(bucket)/\(prefix) returned the key '\(object.key)', which is outside that prefix; the server (or a proxy) is not answering the request that was made, so nothing was synced"
                    )
                }
                return SyncEntry(
                    key: key, size: object.size, lastModified: object.lastModified, eTag: object.eTag,
                    kind: key.isFolderMarker ? .folder : .file)
            }
        }
    }

    /// Runs `plan`: transfers, then (if all succeeded) deletions.
    ///
    /// A local destination is locked for the run (an advisory `flock` on the folder), so two syncs
    /// can never write the same files at once. Transfers that fail, and refused keys, are reported in the
    /// summary, never thrown. An S3 destination first has its stale uploads aborted
    /// (``Configuration/staleUploadAge``). When the calling task is cancelled, `run` returns once
    /// the transfers in flight have stopped and their multipart uploads are aborted, with
    /// ``SyncSummary/cancelled`` set.
    ///
    /// - Throws: ``SyncError/destinationBusy(_:)`` when another sync holds the destination, or
    ///   ``SyncError/localIO(_:)`` when the destination folder cannot be created.
    public func run(_ plan: SyncPlan, progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws
        -> SyncSummary
    {
        var lock: DestinationLock?
        if case .local(let root) = destination { lock = try await DestinationLock.acquire(root) }
        defer { lock?.release() }
        let started = ContinuousClock.now
        let staleCleanup = await abortStaleUploads(writing: plan, before: Date())
        let state = RunState(
            total: plan.transfers.count, bytes: plan.transferBytes, giveUpAfter: configuration.giveUpAfter,
            report: progress)
        let limits = Limits(configuration)
        await withTaskGroup(of: Void.self) { group in
            var pending = plan.transfers.makeIterator()
            func startNext() -> Bool {
                guard let transfer = pending.next() else { return false }
                group.addTask {
                    if await state.gaveUp || Task.isCancelled {
                        await state.notAttempted()
                        return
                    }
                    do {
                        try await self.transfer(transfer.entry, limits: limits, state: state)
                        await state.succeeded(transfer.entry)
                    } catch  where Task.isCancelled {
                        await state.interrupted(transfer.entry)
                    } catch {
                        await state.failed(transfer.entry, error)
                    }
                }
                return true
            }
            for _ in 0..<configuration.concurrency where startNext() {}
            while await group.next() != nil { _ = startNext() }
        }
        var summary = await state.summary
        summary.cancelled = Task.isCancelled
        (summary.abortedStaleUploads, summary.staleUploadProblem) = staleCleanup
        summary.failures += plan.refused.map { .init(key: $0.entry.key.string, message: $0.reason) }
        summary.unchanged = plan.unchanged
        summary.skipped = plan.skipped.count
        if !plan.deletes.isEmpty {
            if summary.cancelled {
                summary.deletionsWithheld =
                    "\(plan.deletes.count) deletion(s) withheld because the sync was cancelled; sync again to finish"
            } else if summary.failures.isEmpty && summary.notAttempted == 0 {
                await delete(plan.deletes, into: &summary)
            } else {
                summary.deletionsWithheld =
                    "\(plan.deletes.count) deletion(s) withheld because \(summary.failures.count + summary.notAttempted) transfer(s) did not complete; fix the cause and sync again"
            }
        }
        summary.failures.sort { SyncKey($0.key) < SyncKey($1.key) }
        let elapsed = ContinuousClock.now - started
        summary.seconds = Self.seconds(elapsed)
        await state.finalReport()
        return summary
    }

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
        let cutoff = runStart.addingTimeInterval(-(Self.seconds(age) + 1))
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

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    // MARK: - Transfers

    func transfer(_ entry: SyncEntry, limits: Limits, state: RunState) async throws {
        switch (source, destination) {
        case (.s3, .local(let root)) where entry.kind == .folder:
            try await LocalFile.makeDirectory(root + "/" + entry.key.string)
        case (.local(let root), .s3(let bucket, let prefix)):
            try await upload(
                path: root + "/" + entry.key.string, size: entry.size, bucket: bucket, key: prefix + entry.key.string,
                limits: limits, state: state)
        case (.s3(let bucket, let prefix), .local(let root)):
            try await download(
                bucket: bucket, key: prefix + entry.key.string, entry: entry, path: root + "/" + entry.key.string,
                limits: limits,
                state: state)
        case (.s3(let sourceBucket, let sourcePrefix), .s3(let bucket, let prefix)):
            try await copy(
                sourceBucket: sourceBucket, sourceKey: sourcePrefix + entry.key.string, size: entry.size,
                bucket: bucket,
                key: prefix + entry.key.string, limits: limits, state: state)
        case (.local, .local):
            preconditionFailure("rejected in init")
        }
    }

    /// The byte ranges of an object of `size` in parts of about `preferred` bytes (at most 10,000).
    func parts(of size: Int64, preferred: Int64) -> [ClosedRange<Int64>] {
        let part = S3Client.partSize(for: size, preferred: preferred)
        return stride(from: Int64(0), to: size, by: Int(part)).map { $0...min($0 + part, size) - 1 }
    }

    func upload(path: String, size: Int64, bucket: String, key: String, limits: Limits, state: RunState)
        async throws
    {
        try await LocalFile.withReading(path) {
            try await upload(file: $0, size: size, bucket: bucket, key: key, limits: limits, state: state)
        }
    }

    func upload(file: LocalFile, size: Int64, bucket: String, key: String, limits: Limits, state: RunState)
        async throws
    {
        let s3 = destinationClient!
        if size < configuration.multipartThreshold {
            try await limits.run(buffering: size) {
                let data = try await file.read(offset: 0, count: Int(size))
                try await s3.putObject(bucket: bucket, key: key, data: data, options: configuration.writeOptions)
            }
            await state.moved(size)
            return
        }
        try await multipartUpload(
            to: s3, bucket: bucket, key: key, size: size, buffered: true, limits: limits, state: state
        ) {
            uploadId, number, range in
            let data = try await file.read(offset: range.lowerBound, count: range.count, reusing: limits.buffers.take())
            let part = try await s3.uploadPart(
                bucket: bucket, key: key, uploadId: uploadId, partNumber: number, data: data)
            limits.buffers.give(data)
            return part
        }
    }

    /// A multipart upload of `size` bytes: `part` makes each part (in parallel, within `limits`),
    /// then the upload is completed; on any failure, and on cancellation, it is aborted (see
    /// ``abort(_:with:)``) once no part is in flight, before this returns. The upload is tracked
    /// in `state` while open. Its creation and completion are not cut short by a cancellation
    /// (``finishing(_:)``), so the upload id is always known and a complete upload is kept.
    func multipartUpload(
        to s3: S3Client, bucket: String, key: String, size: Int64, buffered: Bool, limits: Limits, state: RunState,
        part:
            @escaping @Sendable (_ uploadId: String, _ number: Int, _ range: ClosedRange<Int64>) async throws
            -> S3Client.CompletedPart
    ) async throws {
        // Finished even when cancelled: a create cut short may still open the upload, unknown to us.
        let uploadId = try await Self.finishing {
            try await s3.createMultipartUpload(bucket: bucket, key: key, options: self.configuration.writeOptions)
        }
        let upload = SyncSummary.OpenUpload(bucket: bucket, key: key, uploadId: uploadId)
        await state.opened(upload)
        do {
            let completed = try await withThrowingTaskGroup(of: S3Client.CompletedPart.self) { group in
                for (index, range) in parts(of: size, preferred: configuration.partSize).enumerated() {
                    group.addTask {
                        let made = try await limits.run(buffering: buffered ? Int64(range.count) : 0) {
                            try await part(uploadId, index + 1, range)
                        }
                        await state.moved(Int64(range.count))
                        return made
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Once every part is there, finishing is better than aborting.
            try await Self.finishing {
                try await s3.completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId, parts: completed)
            }
            await state.closed(upload, aborted: false)
        } catch {
            if await Self.abort(upload, with: s3) { await state.closed(upload, aborted: true) }
            throw error
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

    func download(
        bucket: String, key: String, entry: SyncEntry, path: String, limits: Limits, state: RunState
    ) async throws {
        let s3 = sourceClient!
        let file = try await LocalFile.createPartial(for: path)
        do {
            if entry.size <= configuration.rangeSize {
                try await limits.run(buffering: min(entry.size, DownloadReceiver.bufferLimit)) {
                    _ = try await s3.getObject(
                        bucket: bucket, key: key, receiver: DownloadReceiver(file: file, offset: 0, checking: key))
                }
                await state.moved(entry.size)
            } else {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for range in parts(of: entry.size, preferred: configuration.rangeSize) {
                        group.addTask {
                            try await limits.run(buffering: DownloadReceiver.bufferLimit) {
                                let received = try await s3.getObject(
                                    bucket: bucket, key: key, range: range,
                                    receiver: DownloadReceiver(file: file, offset: range.lowerBound))
                                guard received.end == range.upperBound + 1, received.head.size == entry.size else {
                                    throw SyncError.checksumMismatch(
                                        "s3://\(bucket)/\(key) changed or was cut short while downloading (range \(range), got \(received.end - range.lowerBound) bytes of an object now \(received.head.size) bytes); sync again"
                                    )
                                }
                            }
                            await state.moved(Int64(range.count))
                        }
                    }
                    try await group.waitForAll()
                }
            }
            try await file.setModificationTime(entry.lastModified)
            if configuration.durableDownloads {
                try await file.syncAndClose()
            } else {
                await file.close()
            }
            try await LocalFile.commit(file.path, to: path)
        } catch {
            await file.close()
            try? await LocalFile.remove(file.path)
            throw error
        }
    }

    func copy(
        sourceBucket: String, sourceKey: String, size: Int64, bucket: String, key: String, limits: Limits,
        state: RunState
    ) async throws {
        let from = sourceClient!
        let to = destinationClient!
        let serverSide = from.aws === to.aws
        let options = configuration.writeOptions
        if size < configuration.multipartThreshold {
            try await limits.run(buffering: serverSide ? 0 : size) {
                if serverSide {
                    try await from.copyObject(
                        sourceBucket: sourceBucket, sourceKey: sourceKey, bucket: bucket, key: key, options: options)
                } else {
                    let data = try await Self.readWhole(from, bucket: sourceBucket, key: sourceKey, range: nil)
                    try await to.putObject(bucket: bucket, key: key, data: data, options: options)
                }
            }
            await state.moved(size)
            return
        }
        try await multipartUpload(
            to: to, bucket: bucket, key: key, size: size, buffered: !serverSide, limits: limits, state: state
        ) { uploadId, number, range in
            if serverSide {
                return try await to.uploadPartCopy(
                    bucket: bucket, key: key, uploadId: uploadId, partNumber: number, sourceBucket: sourceBucket,
                    sourceKey: sourceKey, range: range)
            }
            let data = try await Self.readWhole(from, bucket: sourceBucket, key: sourceKey, range: range)
            return try await to.uploadPart(bucket: bucket, key: key, uploadId: uploadId, partNumber: number, data: data)
        }
    }

    static func readWhole(_ s3: S3Client, bucket: String, key: String, range: ClosedRange<Int64>?) async throws
        -> ByteBuffer
    {
        try await s3.getObject(bucket: bucket, key: key, range: range) { _, body in
            try await body.collect(upTo: Int(S3Client.maximumPartSize))
        }
    }

    func delete(_ entries: [SyncEntry], into summary: inout SyncSummary) async {
        switch destination {
        case .s3(let bucket, let prefix):
            do {
                let failures = try await destinationClient!.deleteObjects(
                    bucket: bucket, keys: entries.map { prefix + $0.key.string })
                summary.deleted += entries.count - failures.count
                summary.failures += failures.map {
                    .init(
                        key: String($0.key.utf8.dropFirst(prefix.utf8.count)) ?? $0.key,
                        message: "delete failed: \($0.code) \($0.message)")
                }
            } catch {
                summary.failures += entries.map { .init(key: $0.key.string, message: "delete failed: \(error)") }
            }
        case .local(let root):
            for entry in entries {
                do {
                    try await LocalFile.remove(root + "/" + entry.key.string)
                    summary.deleted += 1
                } catch {
                    summary.failures.append(.init(key: entry.key.string, message: "\(error)"))
                }
            }
        }
    }
}
