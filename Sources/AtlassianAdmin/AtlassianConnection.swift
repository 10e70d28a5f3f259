import AWSCore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RelayFoundation

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

/// A failed Jira or Confluence request: the HTTP status, what the product said (Jira's
/// `errorMessages`/`errors`, Confluence's `message`) and what to do.
public struct AtlassianError: Error, Sendable, CustomStringConvertible {
    /// The class of failure, to switch on.
    public enum Kind: String, Sendable {
        /// The server answered with an error status (see ``AtlassianError/status``).
        case answered
        /// The server could not be reached, or the connection broke.
        case unreachable
        /// No complete answer within the request's timeout, or not `RUNNING` within a wait.
        case timedOut
        /// The input is not usable (a URL that is not absolute http(s), say): fix it, a retry
        /// will not help.
        case invalidInput
        /// The answer is not what the product sends.
        case malformedAnswer
    }

    /// The class of failure.
    public let kind: Kind
    /// The HTTP status; 0 when the server could not be reached.
    public let status: Int
    /// The method and path that failed.
    public let request: String
    /// The product's messages.
    public let messages: [String]
    /// Field errors by field name (Jira's `errors`).
    public let fieldErrors: [String: String]

    /// Creates an error.
    ///
    /// - Parameter kind: the class of failure; by default ``Kind/unreachable`` for status 0 and
    ///   ``Kind/answered`` for any other.
    public init(
        status: Int, request: String, messages: [String], fieldErrors: [String: String] = [:], kind: Kind? = nil
    ) {
        self.kind = kind ?? (status == 0 ? .unreachable : .answered)
        self.status = status
        self.request = request
        self.messages = messages
        self.fieldErrors = fieldErrors
    }

    public var description: String {
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

/// A node's state, as `GET /status` reports it. Only `RUNNING` (with HTTP 200) serves users.
public enum NodeState: String, Sendable, Decodable {
    case starting = "STARTING", stopping = "STOPPING", firstRun = "FIRST_RUN", running = "RUNNING"
    case maintenance = "MAINTENANCE", error = "ERROR"
}

/// The HTTP side shared by ``JiraClient`` and ``ConfluenceClient``: base URL, authentication,
/// JSON, and errors that carry what the product said.
public struct AtlassianConnection: Sendable {
    /// The application's base URL, for example `https://jira.dev.example.com`.
    public let baseURL: String
    /// How requests sign in.
    public let credentials: AtlassianCredentials?
    /// How long one request may take, from sending it to the last byte of the answer.
    public let timeout: TimeAmount
    let http: HTTPClient

    /// Creates a connection. By default it shares the package's HTTP client, which does not
    /// retry refused connections on its own, so an unreachable URL fails at once.
    ///
    /// A user and password inside `baseURL` (`https://admin:secret@jira.example.com`) are taken
    /// out of it and used for Basic auth when `credentials` is `nil`; ``baseURL`` never holds them.
    ///
    /// - Throws: ``AtlassianError`` when `baseURL` is not an absolute http(s) URL.
    public init(
        baseURL: String, credentials: AtlassianCredentials?, timeout: TimeAmount = .seconds(30),
        httpClient: HTTPClient = AWSClient.sharedHTTPClient
    ) throws {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        guard var parsed = URLComponents(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""),
            parsed.host?.isEmpty == false
        else {
            throw AtlassianError(
                status: 0, request: "connect",
                messages: ["'\(URLRedaction.redact(baseURL))' is not an absolute http(s) URL"], kind: .invalidInput)
        }
        // A user and password in the URL sign in like curl's, and never stay in the URL that
        // requests, logs and errors show.
        var signIn = credentials
        if let user = parsed.user, !user.isEmpty, credentials == nil {
            signIn = .basic(
                user: user.removingPercentEncoding ?? user, password: parsed.password?.removingPercentEncoding ?? "")
        }
        parsed.user = nil
        parsed.password = nil
        self.baseURL = parsed.string ?? url
        self.credentials = signIn
        self.timeout = timeout
        self.http = httpClient
    }

    /// Sends a request and returns the status and body, without judging the status.
    /// `headers` are added as given (for example `X-Atlassian-Token: no-check` for uploads).
    ///
    /// The whole exchange, head and body, ends within ``timeout``: a server that sends one byte
    /// now and then cannot keep it waiting.
    ///
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/timedOut`` or
    ///   ``AtlassianError/Kind/unreachable`` when no whole answer arrived.
    public func raw(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json",
        headers: [(name: String, value: String)] = []
    ) async throws -> (status: Int, body: Data) {
        try await send(method, path, body: body, contentType: contentType, headers: headers, within: timeout)
    }

    /// ``raw(_:_:body:contentType:headers:)`` within `limit` instead of ``timeout``.
    func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String = "application/json",
        headers: [(name: String, value: String)] = [], within limit: TimeAmount
    ) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let credentials { request.headers.add(name: "Authorization", value: credentials.authorization) }
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(data: body))
        }
        let name = "\(method.rawValue) \(baseURL)\(path)"
        let (http, prepared) = (self.http, request)
        let seconds = Double(limit.nanoseconds) / 1e9
        let timedOut = AtlassianError(
            status: 0, request: name, messages: ["no whole answer within \(seconds) s"], kind: .timedOut)
        do {
            return try await withDeadline(.now + .nanoseconds(limit.nanoseconds), orThrow: { timedOut }) {
                let response = try await http.execute(prepared, timeout: limit)
                let data = try await response.body.collect(upTo: 16 << 20)
                return (Int(response.status.code), Data(data.readableBytesView))
            }
        } catch let error as AtlassianError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw timedOut
        } catch {
            throw AtlassianError(status: 0, request: name, messages: [URLRedaction.redact("\(error)")])
        }
    }

    /// Sends a request and decodes a 2xx answer as `T`; anything else is an ``AtlassianError``.
    public func call<T: Decodable>(
        _ method: HTTPMethod, _ path: String, body: (some Encodable)? = nil as String?, as type: T.Type = T.self
    ) async throws -> T {
        let encoded = try body.map { try JSONEncoder().encode($0) }
        let (status, data) = try await raw(method, path, body: encoded)
        guard (200..<300).contains(status) else {
            throw AtlassianError.decode(status: status, request: "\(method.rawValue) \(path)", body: data)
        }
        if T.self == Empty.self { return Empty() as! T }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw AtlassianError(
                status: status, request: "\(method.rawValue) \(path)",
                messages: ["the answer is not the JSON this client expects (\(error)); is this the right product?"],
                kind: .malformedAnswer)
        }
    }

    /// An empty answer.
    public struct Empty: Decodable, Sendable { init() {} }

    /// The node's state: `GET /status`, which answers without signing in.
    public func state() async throws -> NodeState {
        try await state(within: timeout)
    }

    func state(within limit: TimeAmount) async throws -> NodeState {
        let (status, data) = try await send(.GET, "/status", within: limit)
        struct Shape: Decodable { let state: String }
        guard let shape = try? JSONDecoder().decode(Shape.self, from: data) else {
            var error = AtlassianError.decode(status: status, request: "GET /status", body: data)
            if (200..<300).contains(status) {
                error = AtlassianError(
                    status: status, request: "GET /status", messages: error.messages, kind: .malformedAnswer)
            }
            throw error
        }
        guard let state = NodeState(rawValue: shape.state) else {
            throw AtlassianError(
                status: status, request: "GET /status", messages: ["unknown state \(shape.state)"],
                kind: .malformedAnswer)
        }
        return state == .running && status != 200 ? .error : state
    }

    /// Polls `/status` until the node is `RUNNING`.
    ///
    /// Connection errors, timeouts and a load balancer's 502–504 count as "not yet". No poll
    /// runs past `timeout`: each is cut to the time that is left, so the wait ends within
    /// `timeout` (plus a few milliseconds) whatever the server does.
    ///
    /// - Throws: ``AtlassianError`` at once for `ERROR`; after `timeout`, of kind
    ///   ``AtlassianError/Kind/timedOut``, with the last state (or the last connection error)
    ///   for anything else.
    public func waitUntilRunning(timeout: Duration, interval: Duration = .seconds(5)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var last = "no answer"
        while true {
            let left = clock.now.duration(to: deadline)
            if left > .zero {
                do {
                    // Cut to what is left of the wait, but given at least a second (never more than
                    // the request timeout), so a busy machine's slow answer is still read: the wait
                    // ends within `timeout` plus one request timeout at the most.
                    let poll = TimeAmount.nanoseconds(
                        min(self.timeout.nanoseconds, max(Self.nanoseconds(left), 1_000_000_000)))
                    let state = try await state(within: poll)
                    if state == .running { return }
                    if state == .error {
                        throw AtlassianError(
                            status: 500, request: "GET /status", messages: ["the node reports ERROR"])
                    }
                    last = state.rawValue
                } catch let error as AtlassianError
                    where error.kind == .unreachable || error.kind == .timedOut || (502...504).contains(error.status)
                {
                    // Not listening yet, or a load balancer with no healthy node. A poll cut short by
                    // the end of the wait does not hide the state seen before it.
                    if error.kind != .timedOut || NodeState(rawValue: last) == nil { last = error.description }
                }
            }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw AtlassianError(
                    status: 0, request: "GET \(baseURL)/status",
                    messages: ["not RUNNING after \(timeout) (last: \(last))"], kind: .timedOut)
            }
            try await Task.sleep(for: min(interval, remaining))
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
