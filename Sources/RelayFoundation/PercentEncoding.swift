/// RFC 3986 percent-encoding, byte by byte, for request paths and query strings of every client
/// (AWS signing, S3 keys, Jira and Confluence REST paths, JQL and CQL).
///
/// Every byte except the unreserved characters `A-Z a-z 0-9 - _ . ~` (and `/` when asked) is
/// written as `%XX` with upper-case hex, once: a key or a query value reaches the server exactly
/// as its bytes, and the same text always encodes the same way (which SigV4 requires).
///
/// ```swift
/// PercentEncoding.component("summary ~ \"a/b\"")   // "summary%20~%20%22a%2Fb%22"
/// PercentEncoding.path("logs/2026 11/a+b.txt")      // "logs/2026%2011/a%2Bb.txt"
/// ```
public enum PercentEncoding {
    /// Encodes a query parameter name or value, or one path segment: `/` is encoded too.
    public static func component<S: StringProtocol>(_ value: S) -> String {
        encode(value, keepSlash: false)
    }

    /// Encodes a path of segments: `/` is kept, everything else that is not unreserved is encoded.
    public static func path<S: StringProtocol>(_ value: S) -> String {
        encode(value, keepSlash: true)
    }

    /// Encodes every byte except the unreserved characters (and `/` when `keepSlash`).
    public static func encode<S: StringProtocol>(_ value: S, keepSlash: Bool) -> String {
        var out = [UInt8]()
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHexDigits[Int(byte >> 4)])
                out.append(upperHexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes; other bytes, including `+` and malformed escapes, are kept as they are.
    public static func decode<S: StringProtocol>(_ value: S) -> String {
        var out = [UInt8]()
        let bytes = Array(value.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `byte` is one of RFC 3986's unreserved characters.
    @inline(__always)
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
            UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static let upperHexDigits = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
