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
