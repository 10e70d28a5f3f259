/// An object key or relative path compared as bytes, as S3 does.
///
/// Swift's `String` treats canonically equivalent Unicode (`é` precomposed and decomposed) as equal;
/// S3 and file systems do not. Keys in a sync are therefore compared, hashed and ordered by
/// their UTF-8 bytes, so two distinct keys can never be merged or mistaken for each other.
public struct SyncKey: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The key as text.
    public let string: String

    /// Wraps `string`.
    public init(_ string: String) { self.string = string }

    /// Wraps a literal.
    public init(stringLiteral value: String) { self.string = value }

    public static func == (lhs: SyncKey, rhs: SyncKey) -> Bool { lhs.string.utf8.elementsEqual(rhs.string.utf8) }

    public func hash(into hasher: inout Hasher) {
        for byte in string.utf8 { hasher.combine(byte) }
        hasher.combine(string.utf8.count)
    }

    /// UTF-8 binary order, the order in which S3 lists keys.
    public static func < (lhs: SyncKey, rhs: SyncKey) -> Bool {
        lhs.string.utf8.lexicographicallyPrecedes(rhs.string.utf8)
    }

    public var description: String { string }
}

/// FNV-1a, 64-bit: a fixed, portable hash (the same on every machine and release), for shard
/// assignment and partial-file names.
enum FNV1a {
    static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
