import Foundation
import Synchronization

/// Carrying out decisions as they come: transfers in a bounded task group, deletions spooled and
/// done last behind their guards, the checkpoint kept.
extension SyncEngine {
    /// Deletions go to S3 (DeleteObjects) or the file system this many at a time.
    static let deleteBatch = 1000

    /// Runs the decisions `feed` yields until it yields `nil`.
    ///
    /// - Parameters:
    ///   - spool: where deletions wait; removed at the end unless a checkpoint needs it.
    ///   - resumed: the checkpoint this run continues from, if any.
    ///   - identity: the sync's identity for its checkpoint (`nil`: keep none).
    func execute(
        feed: () async throws -> DecisionBatch?, spool: DeleteSpool, resumed: SyncCheckpoint?, identity: String?,
        progress: @escaping @Sendable (SyncProgress) -> Void
    ) async throws -> SyncSummary {
        var lock: DestinationLock?
        if case .local(let root) = destination { lock = try await DestinationLock.acquire(root) }
        defer { lock?.release() }
        let started = ContinuousClock.now
        let state = RunState(total: 0, bytes: 0, giveUpAfter: configuration.giveUpAfter, report: progress)
        let limits = TransferLimits(configuration)
        let watermark = WatermarkBox(Watermark(resumed: resumed, identity: identity ?? ""))
        let stale = StaleUploads(engine: self, runStart: Date())
        var unchanged = 0
        var skips: [SyncSummary.Failure] = []
        var refused: [SyncSummary.Failure] = []
        var counts = DecisionCounts()
        var lastSave = ContinuousClock.now

        func save() throws {
            guard identity != nil, let path = configuration.checkpoint else { return }
            try spool.flush()
            try watermark.withLock { $0.checkpoint }.save(path)
            lastSave = .now
        }

        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var inFlight = 0
                while !Task.isCancelled, await !state.gaveUp, let batch = try await feed() {
                    counts = batch.counts
                    var transfers: [(index: Int, transfer: SyncPlan.Transfer)] = []
                    var positions: [Watermark.Position] = []
                    var problems: [Int] = []
                    positions.reserveCapacity(batch.decisions.count)
                    for (index, decision) in batch.decisions.enumerated() {
                        switch decision {
                        case .transfer(let transfer): transfers.append((index, transfer))
                        case .unchanged: unchanged += 1
                        case .delete(let entry): try spool.append(entry.key)
                        case .skipped(let entry, let reason):
                            skips.append(.init(key: entry.key.string, message: reason.rawValue))
                        case .refused(let entry, let reason):
                            refused.append(.init(key: entry.key.string, message: reason))
                            problems.append(index)
                        }
                        positions.append(
                            .init(
                                key: decision.key, counts: batch.countsAfter[index], spoolLength: spool.length,
                                spooled: spool.count))
                    }
                    let end = Watermark.Position(
                        key: batch.through, counts: batch.counts, spoolLength: spool.length, spooled: spool.count)
                    let sequence = watermark.withLock {
                        $0.add(
                            positions, end: end, pending: Set(transfers.map(\.index)), failed: problems.first)
                    }
                    await state.planned(transfers.map(\.transfer.entry))
                    for (index, transfer) in transfers {
                        while inFlight >= configuration.concurrency {
                            _ = try await group.next()
                            inFlight -= 1
                        }
                        group.addTask {
                            var succeeded = false
                            defer { watermark.withLock { $0.finished(sequence, index, succeeded: succeeded) } }
                            if await state.gaveUp || Task.isCancelled {
                                await state.notAttempted()
                                return
                            }
                            do {
                                await stale.abort(before: transfer.entry.key)
                                try await self.transfer(transfer.entry, limits: limits, state: state)
                                await state.succeeded(transfer.entry)
                                succeeded = true
                            } catch where Task.isCancelled {
                                await state.interrupted(transfer.entry)
                            } catch {
                                await state.failed(transfer.entry, error)
                            }
                        }
                        inFlight += 1
                    }
                    if ContinuousClock.now - lastSave >= SyncCheckpoint.interval { try save() }
                }
                await state.listingComplete()
                while try await group.next() != nil {}
            }
        } catch {
            try? save()
            spool.close(removing: configuration.checkpoint == nil)
            throw error
        }

        var summary = await state.summary
        summary.cancelled = Task.isCancelled
        summary.abortedStaleUploads = await stale.aborted
        summary.staleUploadProblem = await stale.problem
        summary.failures += refused
        summary.unchanged = unchanged
        summary.skipped = skips.count
        summary.skips = skips
        let whole = watermark.withLock { $0.total(adding: counts) }
        if spool.count > 0 {
            if summary.cancelled {
                summary.withhold(
                    .cancelled,
                    "\(spool.count) deletion(s) withheld because the sync was cancelled; sync again to finish")
            } else if !summary.failures.isEmpty || summary.notAttempted > 0 {
                summary.withhold(
                    .incompleteTransfers,
                    "\(spool.count) deletion(s) withheld because \(summary.failures.count + summary.notAttempted) transfer(s) did not complete; fix the cause and sync again"
                )
            } else if whole.sourceEntries == 0, configuration.options.delete, !configuration.options.allowEmptySource {
                spool.close(removing: true)
                try? configuration.checkpoint.map { try FileManager.default.removeItem(atPath: $0) }
                try refuseEmptySource(deleting: spool.count)
            } else if let limit = configuration.options.maxDelete, !limit.allows(spool.count, of: whole.destinationEntries)
            {
                summary.withhold(
                    .deleteLimit,
                    "\(spool.count) deletion(s) of \(whole.destinationEntries) destination entries withheld: more than --max-delete \(limit) allows; check the source is complete (a wrong path, a half-mounted file system), then raise the limit for this run if the deletions are meant"
                )
            } else {
                try await spool.forEachBatch(of: Self.deleteBatch) { await delete($0, into: &summary) }
            }
        }
        // A run that did all it could leaves no checkpoint: the next one plans afresh.
        let finished = summary.succeeded || summary.deletionsWithheldBecause == .deleteLimit
        if finished {
            if let path = configuration.checkpoint { try? FileManager.default.removeItem(atPath: path) }
        } else {
            try? save()
        }
        spool.close(removing: finished || configuration.checkpoint == nil)
        summary.failures.sort { SyncKey($0.key) < SyncKey($1.key) }
        summary.seconds = (ContinuousClock.now - started).seconds
        await state.finalReport()
        return summary
    }
}

extension SyncSummary {
    mutating func withhold(_ reason: WithheldReason, _ message: String) {
        deletionsWithheldBecause = reason
        deletionsWithheld = message
    }
}

/// A ``Watermark`` shared by a run's transfers.
final class WatermarkBox: Sendable {
    private let state: Mutex<Watermark>
    init(_ watermark: Watermark) { state = Mutex(watermark) }
    func withLock<T>(_ body: (inout Watermark) throws -> T) rethrows -> T { try state.withLock { try body(&$0) } }
}

/// Which keys a run has finished, for its checkpoint: the watermark is the last key before the
/// first transfer still in flight (or failed, or refused), never past one.
struct Watermark: Sendable {
    /// Where the stream stood after one decision (or at the end of a batch).
    struct Position: Sendable {
        let key: SyncKey
        let counts: DecisionCounts
        let spoolLength: Int64
        let spooled: Int
    }

    private struct Batch {
        let positions: [Position]
        let end: Position
        var pending: Set<Int>
        var failed: Int?

        /// The first decision not done, if any.
        var stop: Int? { [pending.min(), failed].compactMap { $0 }.min() }
    }

    private var batches: [Int: Batch] = [:]
    private var oldest = 0
    private var nextSequence = 0
    private let base: SyncCheckpoint
    /// Where the next run would resume.
    private(set) var checkpoint: SyncCheckpoint

    init(resumed: SyncCheckpoint?, identity: String) {
        base =
            resumed
            ?? SyncCheckpoint(
                sync: identity, after: nil, spooledDeletes: 0, spoolLength: 0, sourceEntries: 0, destinationEntries: 0)
        checkpoint = base
    }

    /// Records a batch (its transfers at the `pending` decision indices, its first refusal at
    /// `failed`); returns its sequence number.
    mutating func add(_ positions: [Position], end: Position, pending: Set<Int>, failed: Int?) -> Int {
        batches[nextSequence] = Batch(positions: positions, end: end, pending: pending, failed: failed)
        nextSequence += 1
        advance()
        return nextSequence - 1
    }

    /// The transfer of decision `index` of batch `sequence` ended.
    mutating func finished(_ sequence: Int, _ index: Int, succeeded: Bool) {
        guard var batch = batches[sequence] else { return }
        batch.pending.remove(index)
        if !succeeded { batch.failed = min(batch.failed ?? index, index) }
        batches[sequence] = batch
        advance()
    }

    /// The whole sync's counts: the resumed checkpoint's and this run's.
    func total(adding counts: DecisionCounts) -> DecisionCounts {
        var total = counts
        total.sourceEntries += base.sourceEntries
        total.destinationEntries += base.destinationEntries
        return total
    }

    private mutating func advance() {
        while let batch = batches[oldest] {
            guard let stop = batch.stop else {
                move(to: batch.end)
                batches[oldest] = nil
                oldest += 1
                continue
            }
            if stop > 0 { move(to: batch.positions[stop - 1]) }
            return
        }
    }

    private mutating func move(to position: Position) {
        let whole = total(adding: position.counts)
        checkpoint.after = position.key.string
        checkpoint.spoolLength = position.spoolLength
        checkpoint.spooledDeletes = position.spooled
        checkpoint.sourceEntries = whole.sourceEntries
        checkpoint.destinationEntries = whole.destinationEntries
    }
}
