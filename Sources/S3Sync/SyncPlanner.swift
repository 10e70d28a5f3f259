import Foundation

/// One step of a sync, decided from the source and destination entries of one key.
public enum SyncDecision: Sendable, Equatable {
    /// Copy the source entry over (or beside) the destination's.
    case transfer(SyncPlan.Transfer)
    /// The source entry is already in sync.
    case unchanged(SyncEntry)
    /// Delete this destination entry (only with ``SyncOptions/delete``).
    case delete(SyncEntry)
    /// A source entry left alone because of its kind (reported, never silent).
    case skipped(SyncEntry, SyncPlan.SkipReason)
    /// A source entry that cannot be placed below the destination, with why (a failure).
    case refused(SyncEntry, String)

    /// The key the decision is about.
    public var key: SyncKey {
        switch self {
        case .transfer(let transfer): transfer.entry.key
        case .unchanged(let entry), .delete(let entry), .skipped(let entry, _), .refused(let entry, _): entry.key
        }
    }
}

/// Turns a source and a destination listing into decisions. Pure: no I/O, no clock.
///
/// Both listings are walked once, side by side, in key order (``merge(_:_:sourceEnded:destinationEnded:_:)``),
/// so a plan can be made from two sorted streams a batch at a time; ``plan(source:destination:options:)``
/// is the same walk over two arrays.
public enum SyncPlanner {
    /// Plans a sync.
    ///
    /// - Parameters:
    ///   - source: the source listing (keys relative to the source root), in any order.
    ///   - destination: the destination listing (keys relative to the destination root).
    ///   - options: compare mode, delete, filter, shard.
    /// - Returns: the transfers, deletions and skips, each in key order.
    public static func plan(source: [SyncEntry], destination: [SyncEntry], options: SyncOptions) -> SyncPlan {
        var plan = SyncPlan()
        var sources = ArraySlice(source.sorted { $0.key < $1.key })
        var destinations = ArraySlice(destination.sorted { $0.key < $1.key })
        merge(&sources, &destinations, sourceEnded: true, destinationEnded: true) { source, target in
            if let target, options.covers(target.key) { plan.destinationEntries += 1 }
            let (decision, filteredOut) = decide(source, target, options: options)
            plan.filteredOut += filteredOut
            if let decision { plan.add(decision) }
        }
        return plan
    }

    /// Pairs the entries of two sorted runs by key, in key order, and hands each pair to `body`
    /// (one side `nil` when only the other has the key); consumes what it paired.
    ///
    /// It stops when a side that has not ended runs out (its next batch may hold the partner of
    /// the other side's next key): refill that side and call again. Each run must be strictly
    /// ascending, and each call's entries must follow the previous call's.
    public static func merge(
        _ source: inout ArraySlice<SyncEntry>, _ destination: inout ArraySlice<SyncEntry>, sourceEnded: Bool,
        destinationEnded: Bool, _ body: (SyncEntry?, SyncEntry?) -> Void
    ) {
        while true {
            switch (source.first, destination.first) {
            case (let mine?, let theirs?):
                if mine.key == theirs.key {
                    body(mine, theirs)
                    source.removeFirst()
                    destination.removeFirst()
                } else if mine.key < theirs.key {
                    body(mine, nil)
                    source.removeFirst()
                } else {
                    body(nil, theirs)
                    destination.removeFirst()
                }
            case (let mine?, nil) where destinationEnded:
                body(mine, nil)
                source.removeFirst()
            case (nil, let theirs?) where sourceEnded:
                body(nil, theirs)
                destination.removeFirst()
            default:
                return
            }
        }
    }

    /// What to do about one key, given its source and destination entries (either may be
    /// absent), and how many of the two the filter or the shard left out.
    public static func decide(_ source: SyncEntry?, _ destination: SyncEntry?, options: SyncOptions) -> (
        SyncDecision?, filteredOut: Int
    ) {
        var filteredOut = 0
        let source = source.flatMap { entry -> SyncEntry? in
            if options.covers(entry.key) { return entry }
            filteredOut += 1
            return nil
        }
        let target = destination.flatMap { entry -> SyncEntry? in
            if options.covers(entry.key) { return entry }
            filteredOut += 1
            return nil
        }
        guard let source else {
            return (target.flatMap { options.delete ? .delete($0) : nil }, filteredOut)
        }
        switch source.kind {
        case .symlink: return (.skipped(source, .symlink), filteredOut)
        case .special: return (.skipped(source, .special), filteredOut)
        case .file, .folder: break
        }
        guard let target else { return (.transfer(.init(entry: source, reason: .missing)), filteredOut) }
        if let reason = difference(source, target, mode: options.compare) {
            return (.transfer(.init(entry: source, reason: reason)), filteredOut)
        }
        return (.unchanged(source), filteredOut)
    }

    /// Why `source` must be transferred over `destination`, or `nil` when they are in sync.
    static func difference(_ source: SyncEntry, _ destination: SyncEntry, mode: CompareMode) -> SyncPlan.Reason? {
        switch mode {
        case .sizeOnly:
            return source.size != destination.size ? .sizeDiffers : nil
        case .sizeAndTime:
            if source.size != destination.size { return .sizeDiffers }
            // S3 keeps whole seconds; compare at that precision.
            return wholeSeconds(source.lastModified) > wholeSeconds(destination.lastModified) ? .sourceNewer : nil
        case .exactTimestamps:
            if source.size != destination.size { return .sizeDiffers }
            return wholeSeconds(source.lastModified) != wholeSeconds(destination.lastModified) ? .timestampDiffers : nil
        case .checksum:
            if source.size != destination.size { return .sizeDiffers }
            let theirs = destination.knownChecksums
            for mine in source.knownChecksums {
                if let other = theirs.first(where: { $0.algorithm == mine.algorithm }) {
                    return other.hex == mine.hex ? nil : .checksumDiffers
                }
            }
            return .checksumUnknown
        }
    }

    static func wholeSeconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
}
