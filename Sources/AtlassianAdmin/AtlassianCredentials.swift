import Foundation

/// How to sign in to Jira or Confluence.
///
/// `description` never shows the secret.
public enum AtlassianCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A personal access token, sent as `Authorization: Bearer` (Jira 8.14+, Confluence 7.9+).
    case token(String)
    /// A user name with a password or token, sent as HTTP Basic.
    case basic(user: String, password: String)

    var authorization: String {
        switch self {
        case .token(let token): "Bearer \(token)"
        case .basic(let user, let password): "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        }
    }

    public var description: String {
        switch self {
        case .token: "personal access token (redacted)"
        case .basic(let user, _): "user \(user) with a password (redacted)"
        }
    }

    public var debugDescription: String { description }
}
