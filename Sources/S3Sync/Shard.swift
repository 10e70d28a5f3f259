
/// A stable partition of the key space: shard `index` of `count` (from 0).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// This shard, `0..<count`.
    public let index: Int
    /// The number of shards.
    public let count: Int

    /// Creates a shard.
    ///
    /// - Throws: ``SyncError`` when `index` is not in `0..<count`.
    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw SyncError.invalidArgument(
                "shard \(index)/\(count) is impossible: use i/n with 0 ≤ i < n, for example 0/4")
        }
        self.index = index
        self.count = count
    }

    /// Parses `i/n`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw SyncError.invalidArgument("--shard '\(text)' is not i/n, for example 0/4")
        }
        try self.init(index: index, count: count)
    }

    /// Whether `key` belongs to this shard (FNV-1a of the key's bytes, the same on every machine).
    public func owns(_ key: SyncKey) -> Bool {
        Int(FNV1a.hash(key.string.utf8) % UInt64(count)) == index
    }

    public var description: String { "\(index)/\(count)" }
}
