import Foundation
import RelayFoundation

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
    ///   - source: where data comes from.
    ///   - destination: where it goes; not inside `source`, nor `source` inside it.
    ///   - sourceClient: required when `source` is S3.
    ///   - destinationClient: required when `destination` is S3; for S3→S3 with the same client
    ///     objects are copied server-side, with different clients (separate credentials per
    ///     account) they stream through this machine.
    ///   - configuration: tuning and behaviour.
    /// - Throws: ``SyncError/Kind/invalidArgument`` for local→local or a missing client.
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

    /// Plans and runs the sync as one stream: transfers start while the listings are still being
    /// read, deletions are spooled to a file and done at the end (if every transfer succeeded and
    /// the guards allow), so memory stays bounded however many keys there are.
    ///
    /// With ``Configuration/checkpoint`` set, an interrupted run (a failure, a cancellation, a
    /// lost endpoint) leaves a ``SyncCheckpoint`` there, and the next run of the same sync lists
    /// only the keys after it.
    ///
    /// - Throws: as ``plan()`` and ``run(_:progress:)`` do; a listing that fails part way throws
    ///   after the transfers in flight have stopped, with the checkpoint written.
    public func sync(progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        let identity = SyncCheckpoint.identity(of: self)
        var resumed: SyncCheckpoint?
        if let path = configuration.checkpoint { resumed = try SyncCheckpoint.load(path, sync: identity) }
        let stream = DecisionStream(engine: self, after: resumed?.after.map { SyncKey($0) })
        let spool =
            try configuration.checkpoint.map {
                try DeleteSpool(
                    path: $0 + ".deletes", keeping: resumed?.spoolLength ?? 0, count: resumed?.spooledDeletes ?? 0)
            } ?? DeleteSpool.temporary()
        return try await execute(
            feed: { try await stream.next() }, spool: spool, resumed: resumed, identity: identity, progress: progress)
    }

    /// Syncs with the source side described by `sourceListing` instead of listed: each entry is
    /// a destination key with the size, time and checksums it must have, and its
    /// ``SyncEntry/sourceKey`` names the object (or file) below ``source`` that holds the content.
    ///
    /// This is how a content-addressed snapshot is restored: the manifest lists paths, the
    /// content store holds one object per distinct content, and only the paths that differ from
    /// the destination are fetched (each checked against its SHA-256 when the entry carries one).
    /// Deletions, their guards and progress work as in ``sync(progress:)``; no checkpoint is kept
    /// (a re-run finds the paths already restored in sync).
    public func sync(sourceListing: any SortedListing, progress: @escaping @Sendable (SyncProgress) -> Void = { _ in })
        async throws -> SyncSummary
    {
        let stream = DecisionStream(engine: self, after: nil, sourceListing: sourceListing)
        return try await execute(
            feed: { try await stream.next() }, spool: try DeleteSpool.temporary(), resumed: nil, identity: nil,
            progress: progress)
    }

    /// Runs decisions made elsewhere, a batch at a time as `feed` yields them (until `nil`):
    /// transfers within the engine's bounds, then deletions behind their guards, as in
    /// ``run(_:progress:)``. A content-addressed snapshot uses it to upload each new content once,
    /// deciding as it walks the tree.
    public func run(
        decisions feed: @escaping () async throws -> [SyncDecision]?,
        progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }
    ) async throws -> SyncSummary {
        var counts = DecisionCounts()
        return try await execute(
            feed: {
                guard let decisions = try await feed() else { return nil }
                for decision in decisions {
                    if case .delete = decision { counts.deletes += 1 } else { counts.sourceEntries += 1 }
                }
                return DecisionBatch(
                    decisions: decisions, countsAfter: Array(repeating: counts, count: decisions.count),
                    through: decisions.last?.key ?? "", counts: counts)
            }, spool: try DeleteSpool.temporary(), resumed: nil, identity: nil, progress: progress)
    }

    /// Runs `plan`: transfers, then (if all succeeded and the guards allow) deletions.
    ///
    /// A local destination is locked for the run (an advisory `flock` on the folder), so two syncs
    /// can never write the same files at once. Transfers that fail, and refused keys, are reported in the
    /// summary, never thrown. An S3 destination first has its stale uploads aborted
    /// (``Configuration/staleUploadAge``). When the calling task is cancelled, `run` returns once
    /// the transfers in flight have stopped and their multipart uploads are aborted, with
    /// ``SyncSummary/cancelled`` set.
    ///
    /// - Throws: ``SyncError/Kind/destinationBusy`` when another sync holds the destination,
    ///   ``SyncError/Kind/localIO`` when the destination folder cannot be created, or
    ///   ``SyncError/Kind/emptySource`` (see ``plan()``).
    public func run(_ plan: SyncPlan, progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws
        -> SyncSummary
    {
        var decisions: [SyncDecision] = plan.transfers.map { .transfer($0) }
        decisions += plan.deletes.map { .delete($0) }
        decisions += plan.skipped.map { .skipped($0.entry, $0.reason) }
        decisions += plan.refused.map { .refused($0.entry, $0.reason) }
        var counts = DecisionCounts(destinationEntries: plan.destinationEntries, deletes: plan.deletes.count)
        counts.sourceEntries = plan.transfers.count + plan.unchanged + plan.skipped.count + plan.refused.count
        var batch: DecisionBatch? = DecisionBatch(
            decisions: decisions, countsAfter: Array(repeating: counts, count: decisions.count), through: "",
            counts: counts)
        var summary = try await execute(
            feed: {
                defer { batch = nil }
                return batch
            }, spool: try DeleteSpool.temporary(), resumed: nil, identity: nil, progress: progress)
        summary.unchanged += plan.unchanged
        return summary
    }
}
