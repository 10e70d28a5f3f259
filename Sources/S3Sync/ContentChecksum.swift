/// A content hash with its algorithm.
public struct ContentChecksum: Sendable, Hashable, CustomStringConvertible {
    /// Supported algorithms.
    public enum Algorithm: String, Sendable, Hashable {
        case md5 = "MD5"
        case crc32c = "CRC32C"
        case sha256 = "SHA256"
    }

    /// The algorithm.
    public let algorithm: Algorithm
    /// The value, lower-case hex.
    public let hex: String

    /// Creates a checksum.
    public init(_ algorithm: Algorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex.lowercased()
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }

    /// Whether an ETag is an MD5 of the content: 32 hex digits, no `-N` multipart suffix.
    public static func isPlainMD5ETag(_ eTag: String) -> Bool {
        eTag.utf8.count == 32
            && eTag.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) }
    }
}
