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

    /// Plans and runs the sync.
    public func sync(progress: @escaping @Sendable (SyncProgress) -> Void = { _ in }) async throws -> (
        SyncPlan, SyncSummary
    ) {
        let plan = try await plan()
        return (plan, try await run(plan, progress: progress))
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
    /// - Throws: ``SyncError/Kind/destinationBusy`` when another sync holds the destination, or
    ///   ``SyncError/Kind/localIO`` when the destination folder cannot be created.
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
        let limits = TransferLimits(configuration)
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
        summary.seconds = elapsed.seconds
        await state.finalReport()
        return summary
    }
}
