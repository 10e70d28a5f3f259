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

    /// The key of `fullKey` relative to `prefix`, or `nil` when `fullKey` does not start with
    /// `prefix` (compared as bytes, as S3 does).
    public static func relative(_ fullKey: String, below prefix: String) -> SyncKey? {
        guard fullKey.utf8.starts(with: prefix.utf8) else { return nil }
        return SyncKey(String(decoding: fullKey.utf8.dropFirst(prefix.utf8.count), as: UTF8.self))
    }

    /// Whether this is an S3 console "folder" marker: a key that ends in `/` (the empty key is the
    /// root's own marker).
    public var isFolderMarker: Bool { string.isEmpty || string.utf8.last == UInt8(ascii: "/") }

    /// Why this key cannot name a place below a sync root, or `nil` when it can.
    ///
    /// A relative key is joined to the destination's folder or prefix, so it must stay below it:
    /// no `..` or `.` segment, no empty segment (`a//b`), no leading `/`, no NUL byte. (A folder
    /// marker's one trailing `/` is allowed.) The AWS CLI refuses such keys too; S3 itself accepts
    /// them, so a hostile or careless writer can put them in a bucket.
    public var unsafeReason: String? {
        if string.utf8.contains(0) { return "it contains a NUL byte" }
        if string.isEmpty { return nil }
        if string.utf8.first == UInt8(ascii: "/") { return "it starts with '/' (an absolute path)" }
        var path = Substring(string)
        if path.hasSuffix("/") { path = path.dropLast() }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            switch segment {
            case "..": return "it references a parent folder ('..')"
            case ".": return "it has a '.' segment"
            case "": return "it has an empty segment ('//')"
            default: continue
            }
        }
        return nil
    }
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
