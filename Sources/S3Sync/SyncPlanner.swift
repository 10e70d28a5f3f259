import Foundation

/// Turns a source and a destination listing into a ``SyncPlan``. Pure: no I/O, no clock.
public enum SyncPlanner {
    /// Plans a sync.
    ///
    /// - Parameters:
    ///   - source: the source listing (keys relative to the source root).
    ///   - destination: the destination listing (keys relative to the destination root).
    ///   - options: compare mode, delete, filter, shard.
    /// - Returns: the transfers, deletions and skips, each in key order.
    public static func plan(source: [SyncEntry], destination: [SyncEntry], options: SyncOptions) -> SyncPlan {
        var plan = SyncPlan()
        func inScope(_ entry: SyncEntry) -> Bool {
            let kept = options.covers(entry.key)
            if !kept { plan.filteredOut += 1 }
            return kept
        }
        var existing: [SyncKey: SyncEntry] = [:]
        existing.reserveCapacity(destination.count)
        for entry in destination where inScope(entry) { existing[entry.key] = entry }

        var seen = Set<SyncKey>()
        seen.reserveCapacity(source.count)
        for entry in source.sorted(by: { $0.key < $1.key }) where inScope(entry) {
            seen.insert(entry.key)
            switch entry.kind {
            case .symlink:
                plan.skipped.append((entry, .symlink))
                continue
            case .special:
                plan.skipped.append((entry, .special))
                continue
            case .file, .folder:
                break
            }
            guard let target = existing[entry.key] else {
                plan.transfers.append(.init(entry: entry, reason: .missing))
                continue
            }
            if let reason = difference(entry, target, mode: options.compare) {
                plan.transfers.append(.init(entry: entry, reason: reason))
            } else {
                plan.unchanged += 1
            }
        }
        if options.delete {
            plan.deletes = existing.values.filter { !seen.contains($0.key) }.sorted { $0.key < $1.key }
        }
        return plan
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
