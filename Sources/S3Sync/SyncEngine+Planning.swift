import Crypto
import NIOCore
import RelayFoundation

/// Listing both sides and planning: refusals, checksums for `--compare checksum`.
extension SyncEngine {
    /// Lists both sides and plans the sync, touching nothing (this is the dry run).
    ///
    /// The plan holds what is to be done (transfers, deletions, skips), not the listings: both
    /// sides are merged from sorted streams (``SyncPlanner/merge(_:_:sourceEnded:destinationEnded:_:)``).
    /// With ``CompareMode/checksum``, entries present on both sides with equal sizes get their
    /// checksums first: local files are read and hashed (MD5 and CRC32C), S3 objects whose ETag
    /// is not an MD5 are asked for their stored checksums.
    ///
    /// Source keys that cannot be placed below the destination are refused (``SyncPlan/refused``);
    /// a local source that does not exist throws ``SyncError/Kind/sourceMissing``; with
    /// ``SyncOptions/delete``, a source that lists nothing beside a destination that has entries
    /// throws ``SyncError/Kind/emptySource`` unless ``SyncOptions/allowEmptySource`` is set.
    public func plan() async throws -> SyncPlan {
        var plan = SyncPlan()
        let counts = try await forEachDecision { for decision in $0 { plan.add(decision) } }
        plan.filteredOut = counts.filteredOut
        plan.destinationEntries = counts.destinationEntries
        return plan
    }

    /// Lists both sides and hands the decisions to `body` a batch at a time, in key order,
    /// touching nothing: a dry run in memory that does not grow with the listings.
    ///
    /// - Returns: the entries each side listed in the sync's scope, and those left out.
    /// - Throws: as ``plan()`` does, ``SyncError/Kind/emptySource`` once the whole listing is seen.
    ///
    /// - Parameters:
    ///   - sourceListing: the source side as a listing (a manifest), instead of listing
    ///     ``source`` (see ``sync(sourceListing:progress:)``).
    ///   - body: called with each batch of decisions, in key order.
    @discardableResult
    public func forEachDecision(
        sourceListing: (any SortedListing)? = nil, _ body: ([SyncDecision]) throws -> Void
    ) async throws -> DecisionCounts {
        let stream = DecisionStream(engine: self, after: nil, sourceListing: sourceListing)
        while let batch = try await stream.next() { try body(batch.decisions) }
        if stream.counts.sourceEntries == 0, stream.counts.deletes > 0 { try refuseEmptySource(deleting: stream.counts.deletes) }
        return stream.counts
    }

    /// Throws ``SyncError/Kind/emptySource`` unless the options allow a source that lists nothing
    /// to delete `count` destination entries.
    func refuseEmptySource(deleting count: Int) throws {
        guard configuration.options.delete, !configuration.options.allowEmptySource, count > 0 else { return }
        throw SyncError.emptySource(
            "the source \(source) lists nothing, so --delete would remove all \(count) entries of \(destination); check the source (a wrong path, an unmounted file system), or allow it explicitly (--allow-empty-source)"
        )
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

    /// Adds checksums to file `entries`, `concurrency` at a time.
    func withChecksums(_ entries: [SyncEntry], at location: SyncLocation, client: S3Client?) async throws
        -> [SyncEntry]
    {
        let indices = entries.indices.filter { entries[$0].kind == .file }
        var result = entries
        let limits = TransferLimits(configuration)
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
        try await forEachMegabyte(of: file, size: size) { buffer in
            md5.update(data: buffer.readableBytesView)
            crc.update(buffer.readableBytesView)
        }
        return [
            ContentChecksum(.md5, hex: Hex.string(md5.finalize())),
            ContentChecksum(.crc32c, hex: crc.hex),
        ]
    }

    /// Reads a file's first `size` bytes in 1 MiB pieces.
    static func forEachMegabyte(of file: LocalFile, size: Int64, _ body: (ByteBuffer) -> Void) async throws {
        var offset: Int64 = 0
        while offset < size {
            let count = Int(min(1 << 20, size - offset))
            body(try await file.read(offset: offset, count: count))
            offset += Int64(count)
        }
    }

    /// One side as a sorted listing, after `watermark` when given; a local source must exist, a
    /// local destination may not yet.
    func listing(_ location: SyncLocation, client: S3Client?, isSource: Bool, after watermark: SyncKey?) -> any SortedListing {
        switch location {
        case .local(let path):
            return LocalWalk(root: path, symlinks: configuration.symlinks, mustExist: isSource, after: watermark)
        case .s3(let bucket, let prefix):
            // Each page gives up after giveUpAfter, but never under 5 s, so a slow page on a busy
            // server is not taken for an unreachable one.
            return S3Listing(
                client: client!, bucket: bucket, prefix: prefix, after: watermark,
                giveUpAfter: max(configuration.giveUpAfter, .seconds(5)))
        }
    }
}

/// What a sync's listings held in its scope, counted while deciding.
public struct DecisionCounts: Sendable, Equatable {
    /// Source entries the filter and shard cover (refused and skipped ones included).
    public var sourceEntries = 0
    /// Destination entries the filter and shard cover.
    public var destinationEntries = 0
    /// Entries left out by the filter or the shard, on either side.
    public var filteredOut = 0
    /// Deletions decided.
    public var deletes = 0
}

/// The decisions for a run of keys, in key order.
struct DecisionBatch {
    let decisions: [SyncDecision]
    /// The stream's counts up to and including each decision.
    let countsAfter: [DecisionCounts]
    /// The last key the batch covers (decided, or left out by the filter).
    let through: SyncKey
    /// The stream's counts up to and including `through`.
    let counts: DecisionCounts
}

/// The decisions of one sync, merged from the two sides' sorted listings a batch at a time;
/// the next batch of each side is fetched while the current one is decided. Used by one task.
final class DecisionStream {
    let engine: SyncEngine
    private let merge: SortedMerge
    private(set) var counts = DecisionCounts()

    /// The decisions for the keys after `watermark` (all keys when `nil`); the source side from
    /// `sourceListing` when given, else listed in place.
    init(engine: SyncEngine, after watermark: SyncKey?, sourceListing: (any SortedListing)? = nil) {
        self.engine = engine
        merge = SortedMerge(
            sourceListing
                ?? engine.listing(engine.source, client: engine.sourceClient, isSource: true, after: watermark),
            engine.listing(engine.destination, client: engine.destinationClient, isSource: false, after: watermark))
    }

    /// The next batch of decisions (possibly empty), or `nil` when both sides are done.
    func next() async throws -> DecisionBatch? {
        guard let pairs = try await merge.next(), let last = pairs.last else { return nil }
        let (decisions, countsAfter) = try await decide(pairs)
        return DecisionBatch(
            decisions: decisions, countsAfter: countsAfter, through: (last.0 ?? last.1)!.key, counts: counts)
    }

    private func decide(_ pairs: [(SyncEntry?, SyncEntry?)]) async throws -> ([SyncDecision], [DecisionCounts]) {
        let options = engine.configuration.options
        var pairs = pairs
        if options.compare == .checksum { pairs = try await withChecksums(pairs) }
        var decisions: [SyncDecision] = []
        var countsAfter: [DecisionCounts] = []
        decisions.reserveCapacity(pairs.count)
        countsAfter.reserveCapacity(pairs.count)
        for (mine, theirs) in pairs {
            if let mine, options.covers(mine.key) { counts.sourceEntries += 1 }
            if let theirs, options.covers(theirs.key) { counts.destinationEntries += 1 }
            if let mine, let reason = engine.refusal(of: mine) {
                // Neither written nor (with its destination twin) deleted.
                if options.covers(mine.key) {
                    decisions.append(.refused(mine, reason))
                    countsAfter.append(counts)
                } else {
                    counts.filteredOut += 1
                }
                continue
            }
            let (decision, filteredOut) = SyncPlanner.decide(mine, theirs, options: options)
            counts.filteredOut += filteredOut
            guard let decision else { continue }
            if case .delete = decision { counts.deletes += 1 }
            decisions.append(decision)
            countsAfter.append(counts)
        }
        if case .local(let root) = engine.destination,
            decisions.contains(where: { if case .transfer(let t) = $0 { t.entry.kind == .folder } else { false } })
        {
            // A folder marker whose folder exists is in sync.
            decisions = try await LocalFile.run { [decisions] in
                decisions.map { decision in
                    if case .transfer(let transfer) = decision, transfer.entry.kind == .folder,
                        LocalFile.isDirectory(root + "/" + transfer.entry.key.string)
                    {
                        return .unchanged(transfer.entry)
                    }
                    return decision
                }
            }
        }
        return (decisions, countsAfter)
    }

    /// The pairs with the checksums `--compare checksum` needs: of both entries of a pair of
    /// files with equal sizes.
    private func withChecksums(_ pairs: [(SyncEntry?, SyncEntry?)]) async throws -> [(SyncEntry?, SyncEntry?)] {
        let needed = pairs.indices.filter { index in
            guard let mine = pairs[index].0, let theirs = pairs[index].1 else { return false }
            return mine.kind == .file && theirs.kind == .file && mine.size == theirs.size
        }
        guard !needed.isEmpty else { return pairs }
        let mine = try await engine.withChecksums(
            needed.map { pairs[$0].0! }, at: engine.source, client: engine.sourceClient)
        let theirs = try await engine.withChecksums(
            needed.map { pairs[$0].1! }, at: engine.destination, client: engine.destinationClient)
        var result = pairs
        for (position, index) in needed.enumerated() { result[index] = (mine[position], theirs[position]) }
        return result
    }
}
