import Crypto
import Foundation

/// Atlassian's `{PKCS5S2}` password hash, as Crowd's `AtlassianSecurityPasswordEncoder` writes it
/// into `cwd_user.credential` for Jira and Confluence: `{PKCS5S2}` followed by the base64 of a
/// 16-byte random salt and the 32-byte PBKDF2-HMAC-SHA1 of the password with that salt and
/// 10,000 iterations (48 bytes, 64 base64 characters).
///
/// PBKDF2 here runs over swift-crypto's HMAC-SHA1; it is checked against RFC 6070's test
/// vectors and against hashes made with Python's `hashlib.pbkdf2_hmac` (see
/// `SanitisationServiceAccountTests`).
public enum PKCS5S2 {
    /// The prefix Atlassian puts before the base64.
    public static let prefix = "{PKCS5S2}"
    /// The iterations Atlassian uses.
    public static let iterations = 10_000

    /// The `{PKCS5S2}` hash of `password` with a fresh random 16-byte salt.
    public static func hash(_ password: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return hash(password, salt: salt)
    }

    /// The `{PKCS5S2}` hash of `password` with `salt` (16 bytes for Atlassian's format).
    public static func hash(_ password: String, salt: [UInt8]) -> String {
        let key = pbkdf2SHA1(password: Array(password.utf8), salt: salt, iterations: iterations, length: 32)
        return prefix + Data(salt + key).base64EncodedString()
    }

    /// Whether `credential` is the `{PKCS5S2}` hash of `password` (false for any other format).
    public static func verify(_ password: String, against credential: String) -> Bool {
        guard credential.hasPrefix(prefix), let data = Data(base64Encoded: String(credential.dropFirst(prefix.count))),
            data.count == 48
        else { return false }
        let bytes = [UInt8](data)
        let key = pbkdf2SHA1(
            password: Array(password.utf8), salt: Array(bytes[0..<16]), iterations: iterations, length: 32)
        // Compare without an early exit.
        return zip(key, bytes[16...]).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// PBKDF2 with HMAC-SHA1 (RFC 8018 section 5.2).
    static func pbkdf2SHA1(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var derived: [UInt8] = []
        var block: UInt32 = 1
        while derived.count < length {
            var u = Array(HMAC<Insecure.SHA1>.authenticationCode(
                for: salt + withUnsafeBytes(of: block.bigEndian, Array.init), using: key))
            var t = u
            if iterations > 1 {
                for _ in 1..<iterations {
                    u = Array(HMAC<Insecure.SHA1>.authenticationCode(for: u, using: key))
                    for index in 0..<t.count { t[index] ^= u[index] }
                }
            }
            derived += t
            block += 1
        }
        return Array(derived.prefix(length))
    }
}
