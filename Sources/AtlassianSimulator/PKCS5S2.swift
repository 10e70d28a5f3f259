import Crypto
import Foundation
import Synchronization

/// Atlassian's `{PKCS5S2}` password hashes (Crowd's `AtlassianSecurityPasswordEncoder`, used by
/// `cwd_user.credential` in Jira and Confluence): `{PKCS5S2}` followed by base64 of a 16-byte salt
/// and the 32-byte PBKDF2-HMAC-SHA1 of the password with that salt over 10,000 iterations.
///
/// Written here on purpose rather than shared with the product-side code: the simulator is the
/// independent check of what that code writes.
enum PKCS5S2 {
    static let prefix = "{PKCS5S2}"
    static let saltLength = 16
    static let keyLength = 32
    static let iterations = 10_000

    /// Whether `password` matches `credential`; false for any other format.
    static func verify(_ password: String, credential: String) -> Bool {
        guard credential.hasPrefix(prefix),
            let decoded = Data(base64Encoded: String(credential.dropFirst(prefix.count))),
            decoded.count == saltLength + keyLength
        else { return false }
        let cacheKey = Data(SHA256.hash(data: Data((password + "\u{0}" + credential).utf8)))
        if verified.withLock({ $0.contains(cacheKey) }) { return true }
        let salt = decoded.prefix(saltLength)
        let expected = decoded.suffix(keyLength)
        let derived = pbkdf2SHA1(password: Data(password.utf8), salt: Data(salt), iterations: iterations, length: keyLength)
        // Constant-time comparison.
        var difference: UInt8 = 0
        for (a, b) in zip(derived, expected) { difference |= a ^ b }
        let matches = difference == 0 && derived.count == expected.count
        if matches { verified.withLock { if $0.count < 1024 { $0.insert(cacheKey) } } }
        return matches
    }

    /// Hashes already verified (a digest of password and credential, so a changed credential
    /// misses): 10,000 HMAC rounds per request would dominate a load test's Basic-auth requests.
    private static let verified = Mutex<Set<Data>>([])

    /// PBKDF2 (RFC 8018, section 5.2) with HMAC-SHA1.
    static func pbkdf2SHA1(password: Data, salt: Data, iterations: Int, length: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var output: [UInt8] = []
        var block: UInt32 = 1
        while output.count < length {
            var index = block.bigEndian
            let first = salt + Data(bytes: &index, count: 4)
            var u = Array(HMAC<Insecure.SHA1>.authenticationCode(for: first, using: key))
            var t = u
            if iterations > 1 {
                for _ in 1..<iterations {
                    u = Array(HMAC<Insecure.SHA1>.authenticationCode(for: u, using: key))
                    for position in 0..<t.count { t[position] ^= u[position] }
                }
            }
            output += t
            block += 1
        }
        return Array(output.prefix(length))
    }
}
