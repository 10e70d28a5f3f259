import Foundation

/// A set of AWS credentials: an access key pair, an optional session token and expiry.
///
/// `description` never shows the secret access key or the session token, so credentials are
/// safe to interpolate into log lines and error messages.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The access key id, for example `AKIAIOSFODNN7EXAMPLE`.
    public let accessKeyId: String
    /// The secret access key. Never logged.
    public let secretAccessKey: String
    /// The session token of temporary credentials. Never logged.
    public let sessionToken: String?
    /// When temporary credentials stop working; `nil` for long-lived keys.
    public let expiration: Date?
    /// The account the credentials belong to, when the provider reports it.
    public let accountId: String?

    /// Creates credentials.
    public init(
        accessKeyId: String,
        secretAccessKey: String,
        sessionToken: String? = nil,
        expiration: Date? = nil,
        accountId: String? = nil
    ) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
        self.expiration = expiration
        self.accountId = accountId
    }

    /// Whether the credentials expire within `margin` seconds of `now`.
    public func isExpiring(within margin: TimeInterval, now: Date = Date()) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= margin
    }

    /// A redacted rendering: the key id's first four characters and whether a token is present.
    public var description: String {
        let shownKey = accessKeyId.count > 4 ? String(accessKeyId.prefix(4)) + "…" : "…"
        var parts = ["accessKeyId: \(shownKey)", "secret: <redacted>"]
        if sessionToken != nil { parts.append("sessionToken: <redacted>") }
        if let expiration { parts.append("expires: \(ISO8601DateFormatter().string(from: expiration))") }
        return "Credentials(\(parts.joined(separator: ", ")))"
    }

    /// Same as ``description``: secrets are never printed, not even in debug output.
    public var debugDescription: String { description }
}
