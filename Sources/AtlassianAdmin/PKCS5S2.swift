import Foundation

/// Atlassian's `{PKCS5S2}` password hash, as Crowd's `AtlassianSecurityPasswordEncoder` writes it
/// into `cwd_user.credential` for Jira and Confluence: `{PKCS5S2}` followed by the base64 of a
/// 16-byte random salt and the 32-byte PBKDF2-HMAC-SHA1 of the password with that salt and
/// 10,000 iterations (48 bytes, 64 base64 characters).
///
/// The PBKDF2, HMAC and SHA-1 here are plain Swift (AtlassianAdmin does not depend on
/// swift-crypto); they are checked against RFC 6070's test vectors and against hashes made with
/// Python's `hashlib.pbkdf2_hmac` (see `SanitisationServiceAccountTests`).
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
        let hmac = HMACSHA1(key: password)
        var derived: [UInt8] = []
        var block: UInt32 = 1
        while derived.count < length {
            var u = hmac.authenticate(salt + withUnsafeBytes(of: block.bigEndian, Array.init))
            var t = u
            if iterations > 1 {
                for _ in 1..<iterations {
                    u = hmac.authenticate(u)
                    for index in 0..<t.count { t[index] ^= u[index] }
                }
            }
            derived += t
            block += 1
        }
        return Array(derived.prefix(length))
    }
}

/// HMAC-SHA1 (RFC 2104) with the key's pads computed once.
struct HMACSHA1 {
    private let inner: SHA1
    private let outer: SHA1

    init(key: [UInt8]) {
        var key = key.count > 64 ? SHA1.hash(key) : key
        key += [UInt8](repeating: 0, count: 64 - key.count)
        var inner = SHA1()
        inner.update(key.map { $0 ^ 0x36 })
        var outer = SHA1()
        outer.update(key.map { $0 ^ 0x5c })
        self.inner = inner
        self.outer = outer
    }

    func authenticate(_ message: [UInt8]) -> [UInt8] {
        var inner = self.inner
        inner.update(message)
        var outer = self.outer
        outer.update(inner.finish())
        return outer.finish()
    }
}

/// SHA-1 (FIPS 180-4), incremental; only for HMAC-SHA1 in PBKDF2 above.
struct SHA1 {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (
        0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0
    )
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    static func hash(_ message: [UInt8]) -> [UInt8] {
        var sha = SHA1()
        sha.update(message)
        return sha.finish()
    }

    mutating func update(_ bytes: [UInt8]) {
        length += UInt64(bytes.count)
        buffer += bytes
        var offset = 0
        while buffer.count - offset >= 64 {
            compress(buffer, at: offset)
            offset += 64
        }
        if offset > 0 { buffer.removeFirst(offset) }
    }

    mutating func finish() -> [UInt8] {
        let bits = length &* 8
        var padding: [UInt8] = [0x80]
        padding += [UInt8](repeating: 0, count: (55 &- buffer.count) & 63)
        padding += withUnsafeBytes(of: bits.bigEndian, Array.init)
        let saved = length
        update(padding)
        length = saved
        var out: [UInt8] = []
        for word in [state.0, state.1, state.2, state.3, state.4] {
            out += withUnsafeBytes(of: word.bigEndian, Array.init)
        }
        return out
    }

    private mutating func compress(_ block: [UInt8], at offset: Int) {
        var w = [UInt32](repeating: 0, count: 80)
        for index in 0..<16 {
            let base = offset + index * 4
            w[index] =
                UInt32(block[base]) << 24 | UInt32(block[base + 1]) << 16 | UInt32(block[base + 2]) << 8
                | UInt32(block[base + 3])
        }
        for index in 16..<80 {
            let x = w[index - 3] ^ w[index - 8] ^ w[index - 14] ^ w[index - 16]
            w[index] = x << 1 | x >> 31
        }
        var (a, b, c, d, e) = state
        for index in 0..<80 {
            let f: UInt32
            let k: UInt32
            switch index {
            case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
            case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
            case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
            default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
            }
            let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[index]
            e = d
            d = c
            c = b << 30 | b >> 2
            b = a
            a = temp
        }
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
    }
}
