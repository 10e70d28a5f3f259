
/// What the planner needs to know besides the two listings.
public struct SyncOptions: Sendable, Equatable {
    /// How entries are compared.
    public var compare: CompareMode
    /// Delete destination entries that the source does not have (never excluded ones).
    public var delete: Bool
    /// Include and exclude rules, applied to both sides.
    public var filter: SyncFilter
    /// Only this part of the key space, when set.
    public var shard: Shard?
    /// Let `delete` empty the destination when the source lists nothing. Off by default: an
    /// empty source beside a non-empty destination is far more often a mistyped path or a file
    /// system that failed to mount than a wish to delete everything (``SyncError/Kind/emptySource``).
    public var allowEmptySource: Bool
    /// The most a sync may delete, when set: a run whose deletions would exceed it deletes
    /// nothing and says so (``SyncSummary/WithheldReason/deleteLimit``), like rsync's
    /// `--max-delete`. A guard against a source that lists far less than it should.
    public var maxDelete: DeleteLimit?

    /// Whether `key` is in this sync: the filter includes it and the shard, if any, owns it.
    public func covers(_ key: SyncKey) -> Bool {
        filter.includes(key) && (shard?.owns(key) ?? true)
    }

    /// Creates options.
    public init(
        compare: CompareMode = .sizeAndTime, delete: Bool = false, filter: SyncFilter = SyncFilter(),
        shard: Shard? = nil, allowEmptySource: Bool = false, maxDelete: DeleteLimit? = nil
    ) {
        self.maxDelete = maxDelete
        self.allowEmptySource = allowEmptySource
        self.compare = compare
        self.delete = delete
        self.filter = filter
        self.shard = shard
    }
}

/// How source and destination entries are compared.
public enum CompareMode: String, Sendable, Equatable, CaseIterable {
    /// The AWS CLI default: transfer when the sizes differ or the source is newer.
    case sizeAndTime
    /// `--size-only`: transfer only when the sizes differ.
    case sizeOnly
    /// `--exact-timestamps`: transfer when the sizes or the timestamps differ at all.
    case exactTimestamps
    /// `--checksum`: transfer when the content hashes differ; when no comparable hash is known
    /// for both sides, transfer (never assume equal).
    case checksum
}

/// A cap on how much one sync may delete: a number of entries, or a share of the destination.
public enum DeleteLimit: Sendable, Equatable, Codable, CustomStringConvertible {
    /// At most this many entries.
    case count(Int)
    /// At most this percentage (0–100) of the destination's entries in the sync's scope.
    case percent(Double)
    /// At most this percentage, or this many entries, whichever is more (`20% or 1000`): a
    /// share that still lets a small destination lose a few files.
    case percentOrCount(Double, Int)

    /// Parses `N`, `P%` or `P% or N` (as `--max-delete` and `pipeline.yml` write it).
    ///
    /// - Throws: ``SyncError/Kind/invalidArgument`` for anything else, saying what is accepted.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.components(separatedBy: " or ")
        if parts.count == 2, case .percent(let share) = try DeleteLimit(parsing: parts[0]),
            case .count(let most) = try DeleteLimit(parsing: parts[1])
        {
            self = .percentOrCount(share, most)
        } else if trimmed.hasSuffix("%"), let value = Double(trimmed.dropLast()), (0...100).contains(value) {
            self = .percent(value)
        } else if let value = Int(trimmed), value >= 0 {
            self = .count(value)
        } else {
            throw SyncError.invalidArgument(
                "max-delete '\(text)' is neither a number of entries (e.g. 1000), a percentage from 0% to 100% (e.g. 20%), nor both ('20% or 1000')"
            )
        }
    }

    /// Whether deleting `deletes` of a destination holding `destinationEntries` stays within the limit.
    public func allows(_ deletes: Int, of destinationEntries: Int) -> Bool {
        switch self {
        case .count(let most): return deletes <= most
        case .percent(let share): return Double(deletes) <= Double(destinationEntries) * share / 100
        case .percentOrCount(let share, let most):
            return DeleteLimit.count(most).allows(deletes, of: destinationEntries)
                || DeleteLimit.percent(share).allows(deletes, of: destinationEntries)
        }
    }

    public var description: String {
        switch self {
        case .count(let most): return "\(most)"
        case .percent(let share): return share.rounded() == share ? "\(Int(share))%" : "\(share)%"
        case .percentOrCount(let share, let most): return "\(DeleteLimit.percent(share)) or \(most)"
        }
    }
}
