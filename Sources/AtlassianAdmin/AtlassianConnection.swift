import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RelayFoundation
import RelayHTTP

/// A node's state, as `GET /status` reports it. Only `RUNNING` (with HTTP 200) serves users.
public enum NodeState: String, Sendable, Decodable {
    case starting = "STARTING", stopping = "STOPPING", firstRun = "FIRST_RUN", running = "RUNNING"
    case maintenance = "MAINTENANCE", error = "ERROR"
}

/// The HTTP side shared by ``JiraClient`` and ``ConfluenceClient``: base URL, authentication,
/// JSON, and errors that carry what the product said.
///
/// Requests go through an `HTTPTransport` (RelayFoundation), so its middleware (user agent,
/// logging with redaction) applies to them as to every other client in the package. A connection
/// is a value, safe to share between tasks.
public struct AtlassianConnection: Sendable {
    /// The application's base URL, for example `https://jira.dev.example.com`.
    public let baseURL: String
    /// How requests sign in.
    public let credentials: AtlassianCredentials?
    /// How long one request may take, from sending it to the last byte of the answer.
    public let timeout: Duration
    /// The transport requests go through.
    public let transport: HTTPTransport

    /// The largest answer body read: 16 MiB.
    static let bodyLimit = 16 << 20

    /// Creates a connection. By default it sends through `HTTPTransport.shared`, whose client
    /// does not retry refused connections on its own, so an unreachable URL fails at once.
    ///
    /// A user and password inside `baseURL` (`https://admin:secret@jira.example.com`) are taken
    /// out of it and used for Basic auth when `credentials` is `nil`; ``baseURL`` never holds them.
    ///
    /// - Parameters:
    ///   - baseURL: the application's absolute http(s) URL; trailing slashes are dropped.
    ///   - credentials: how requests sign in; `nil` for anonymous requests (or the URL's user).
    ///   - timeout: the limit of one whole exchange, head and body.
    ///   - transport: the transport to send through; add middleware to it to see or change requests.
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/invalidInput`` when `baseURL`
    ///   is not an absolute http(s) URL.
    public init(
        baseURL: String, credentials: AtlassianCredentials?, timeout: Duration = .seconds(30),
        transport: HTTPTransport = .shared
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
        self.transport = transport
    }

    /// Sends a request and returns the status and body, without judging the status.
    /// `headers` are added as given (for example `X-Atlassian-Token: no-check` for uploads).
    ///
    /// The whole exchange, head and body, ends within ``timeout``: a server that sends one byte
    /// now and then cannot keep it waiting. Bodies over 16 MiB are refused.
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
        headers: [(name: String, value: String)] = [], within limit: Duration
    ) async throws -> (status: Int, body: Data) {
        var request = TransportRequest(url: baseURL + path, method: method)
        request.headers.add(name: "Accept", value: "application/json")
        if let credentials { request.headers.add(name: "Authorization", value: credentials.authorization) }
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(data: body))
        }
        let name = "\(method.rawValue) \(baseURL)\(path)"
        do {
            let answer = try await transport.collect(
                request, context: TransportContext(operation: "\(method.rawValue) \(path)", timeout: limit),
                upTo: Self.bodyLimit)
            return (Int(answer.status.code), Data(answer.body.readableBytesView))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw AtlassianError(
                status: 0, request: name, messages: ["no whole answer within \(limit.seconds) s"], kind: .timedOut,
                underlying: error)
        } catch {
            throw AtlassianError(
                status: 0, request: name, messages: [URLRedaction.redact("\(error)")], underlying: error)
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

    func state(within limit: Duration) async throws -> NodeState {
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
                    let poll = min(self.timeout, max(left, .seconds(1)))
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
}
