import Crypto
import Foundation

/// Lower-case hexadecimal and the SHA-256 digests written that way: release manifests, SigV4,
/// snapshot checksums.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hexadecimal of `bytes`, two digits a byte.
    public static func string<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The SHA-256 of `data` in lower-case hexadecimal (64 characters).
    public static func sha256<D: DataProtocol>(_ data: D) -> String {
        string(SHA256.hash(data: data))
    }
}
