import Foundation

/// Any AtlassianAdmin failure, over REST or in a product database: the class of failure to
/// switch on, what failed and what to do, and the error underneath when there was one.
///
/// A REST failure carries the HTTP status and what the product said (Jira's
/// `errorMessages`/`errors`, Confluence's `message`); a settings-store or settings-plan failure
/// (``JiraSettingsStore``, ``ConfluenceSettingsStore``, ``EnvironmentSettings``) carries one
/// message and status 0. Credentials and passwords never appear in `description`.
///
/// ```swift
/// do {
///     try await settings.apply([jiraStore])
/// } catch let error as AtlassianError where error.kind == .refused {
///     // PROD: nothing was written; pass allowProduction: true if that is meant.
/// }
/// ```
public struct AtlassianError: Error, Sendable, CustomStringConvertible {
    /// The class of failure, to switch on.
    public enum Kind: String, Sendable {
        /// The server answered with an error status (see ``AtlassianError/status``).
        case answered
        /// The server or database could not be reached, or the connection broke: a retry may help.
        case unreachable
        /// No complete answer within the request's timeout, or not `RUNNING` within a wait.
        case timedOut
        /// The input is not usable (a URL that is not absolute http(s), invalid settings, a
        /// database that is not the product's, a misspelt application link): fix it, a retry
        /// will not help.
        case invalidInput
        /// The answer (or the stored data) is not what the product sends or keeps.
        case malformedAnswer
        /// Refused before anything was written: the environment is PROD and writing there was not
        /// allowed explicitly.
        case refused
        /// The stored data is not in the state the change expects (a property of another type,
        /// settings changed while being rewritten) or did not read back as written.
        case conflict
        /// The database server accepts TLS connections only (`hostssl` in `pg_hba.conf`, RDS with
        /// `rds.force_ssl=1`) and the connection was made without (`sslmode=disable`): use
        /// `sslmode=require` or higher.
        case tlsRequired
        /// `sslmode` (`require`, `verify-ca`, `verify-full`) needs TLS and the database server
        /// offers none.
        case tlsUnavailable
        /// The database server's TLS certificate does not chain to the trusted root certificates
        /// (`sslrootcert`): point `sslrootcert` at the right CA (for RDS, its CA bundle).
        case untrustedCertificate
        /// With `sslmode=verify-full`, the database server's certificate does not name the host
        /// connected to.
        case hostnameMismatch
    }

    /// The class of failure.
    public let kind: Kind
    /// The HTTP status; 0 when the server could not be reached or no HTTP was involved.
    public let status: Int
    /// The method and path that failed; empty for a failure outside REST.
    public let request: String
    /// The product's messages, or the one message of a failure outside REST.
    public let messages: [String]
    /// Field errors by field name (Jira's `errors`).
    public let fieldErrors: [String: String]
    /// The error underneath (a PostgreSQL or XML error, say), when there was one.
    public let underlying: (any Error)?

    /// Creates the error of a REST request.
    ///
    /// - Parameters:
    ///   - status: the HTTP status; 0 when no answer arrived.
    ///   - request: the method and path (or the step, such as `connect`) that failed.
    ///   - messages: what the product said, or what went wrong.
    ///   - fieldErrors: field errors by field name.
    ///   - kind: the class of failure; by default ``Kind/unreachable`` for status 0 and
    ///     ``Kind/answered`` for any other.
    ///   - underlying: the error underneath, if any.
    public init(
        status: Int, request: String, messages: [String], fieldErrors: [String: String] = [:], kind: Kind? = nil,
        underlying: (any Error)? = nil
    ) {
        self.kind = kind ?? (status == 0 ? .unreachable : .answered)
        self.status = status
        self.request = request
        self.messages = messages
        self.fieldErrors = fieldErrors
        self.underlying = underlying
    }

    /// Creates the error of a failure outside REST (a settings store, a settings plan).
    ///
    /// - Parameters:
    ///   - kind: the class of failure.
    ///   - message: what failed and what to do; it is the whole `description`.
    ///   - underlying: the error underneath, if any.
    public init(_ kind: Kind, _ message: String, underlying: (any Error)? = nil) {
        self.init(status: 0, request: "", messages: [message], kind: kind, underlying: underlying)
    }

    public var description: String {
        guard !request.isEmpty else { return messages.joined(separator: "; ") }
        let said = messages + fieldErrors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        let detail = said.isEmpty ? "" : ": " + said.joined(separator: "; ")
        let head = status == 0 ? "\(request) failed" : "\(request) answered HTTP \(status)"
        return head + detail + advice
    }

    var advice: String {
        switch (kind, status) {
        case (.invalidInput, _): ""
        case (.timedOut, 0): "; check that the application is up and not overloaded, or allow a longer timeout"
        case (_, 0): "; check the URL and that the application is reachable from here"
        case (_, 401): "; the credentials were refused: check the user and the token or password"
        case (_, 403): "; the user may not do this: use an administrator account (some admin APIs also need WebSudo)"
        case (_, 404): "; the path does not exist on this server: check the product and its version"
        case (_, 503): "; the application is not serving requests (starting, stopping or in maintenance)"
        default: ""
        }
    }

    /// Reads either product's error body; the raw text (shortened) when it is neither.
    package static func decode(status: Int, request: String, body: Data) -> AtlassianError {
        struct Shape: Decodable {
            let errorMessages: [String]?
            let errors: [String: String]?
            let message: String?
        }
        if let shape = try? JSONDecoder().decode(Shape.self, from: body) {
            return AtlassianError(
                status: status, request: request,
                messages: (shape.errorMessages ?? []) + (shape.message.map { [$0] } ?? []),
                fieldErrors: shape.errors ?? [:])
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return AtlassianError(status: status, request: request, messages: text.isEmpty ? [] : [text])
    }
}
