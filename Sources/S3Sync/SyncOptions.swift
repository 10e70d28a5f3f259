
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

    /// Whether `key` is in this sync: the filter includes it and the shard, if any, owns it.
    public func covers(_ key: SyncKey) -> Bool {
        filter.includes(key) && (shard?.owns(key) ?? true)
    }

    /// Creates options.
    public init(
        compare: CompareMode = .sizeAndTime, delete: Bool = false, filter: SyncFilter = SyncFilter(),
        shard: Shard? = nil, allowEmptySource: Bool = false
    ) {
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
