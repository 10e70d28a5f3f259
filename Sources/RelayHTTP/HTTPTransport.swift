import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import RelayFoundation

/// The one way the package speaks HTTP: an AsyncHTTPClient behind a chain of ``HTTPMiddleware``.
///
/// AWS requests (signed by AWSCore's signing middleware), Jira and Confluence REST calls, the
/// Bitbucket build-status client, node health probes and the metadata-credential providers all
/// send through a transport, so cross-cutting work (the user agent, logging with redaction,
/// deadlines, signing) is written once and applies to every client alike.
///
/// A transport is a value: cheap to copy, safe to share between tasks. It does not own its
/// `HTTPClient`; ``shared`` uses ``sharedClient``, which lives as long as the process.
///
/// ```swift
/// let transport = HTTPTransport.shared.adding(HeaderMiddleware(["Accept": "application/json"]))
/// let answer = try await transport.collect(
///     TransportRequest(url: "https://jira.example.com/status"),
///     context: TransportContext(operation: "GET /status", timeout: .seconds(10)))
/// ```
public struct HTTPTransport: Sendable {
    /// The client that carries the requests; owned by whoever created it.
    public let client: HTTPClient
    /// The middleware, outermost first: the first sees the request first and the answer last.
    public let middleware: [any HTTPMiddleware]

    /// Creates a transport.
    ///
    /// - Parameters:
    ///   - client: the HTTP client; ``sharedClient`` by default (never shut down).
    ///   - middleware: the chain, outermost first; by default the user agent and debug-level
    ///     request logging.
    public init(
        client: HTTPClient = HTTPTransport.sharedClient,
        middleware: [any HTTPMiddleware] = HTTPTransport.defaultMiddleware
    ) {
        self.client = client
        self.middleware = middleware
    }

    /// The default chain: ``HeaderMiddleware/userAgent`` and a ``LoggingMiddleware``.
    public static let defaultMiddleware: [any HTTPMiddleware] = [
        HeaderMiddleware.userAgent, LoggingMiddleware(),
    ]

    /// The process-wide transport over ``sharedClient`` with ``defaultMiddleware``.
    public static let shared = HTTPTransport()

    /// A process-wide HTTP client sized for parallel transfers: up to 256 connections per host,
    /// 10 s connect timeout, 60 s read timeout, no redirects (a redirect could carry credentials
    /// to another host), no decompression, HTTP/1.1. Connection failures are not retried inside
    /// the client: callers retry in one place, or fail at once.
    public static let sharedClient: HTTPClient = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration())

    /// ``sharedClient``'s settings, with the certificates of `caFile` (PEM) trusted besides the
    /// system's when it is given.
    static func configuration(trusting caFile: String? = nil) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.httpVersion = .http1Only
        if let caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(caFile)]
            configuration.tlsConfiguration = tls
        }
        return configuration
    }

    /// Runs `body` with this transport's middleware over a client of its own that also trusts
    /// the CA in `caFile` (a server with a certificate from a private CA, such as an on-premise
    /// Bitbucket), and shuts that client down afterwards; with no `caFile`, with this transport.
    public func trusting<T: Sendable>(
        caFile: String?, _ body: (HTTPTransport) async throws -> T
    ) async throws -> T {
        guard let caFile else { return try await body(self) }
        let client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: Self.configuration(trusting: caFile))
        do {
            let value = try await body(HTTPTransport(client: client, middleware: middleware))
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// This transport with `middleware` added inside the existing chain (run after it).
    public func adding(_ middleware: any HTTPMiddleware...) -> HTTPTransport {
        HTTPTransport(client: client, middleware: self.middleware + middleware)
    }

    /// Sends `request` through the chain and returns once the response head arrived; the body
    /// still streams and is the caller's to read (or cancel).
    ///
    /// - Throws: AsyncHTTPClient's errors (`HTTPClientError.deadlineExceeded` when no head
    ///   arrived by the context's deadline), or what a middleware threw.
    public func send(_ request: TransportRequest, context: TransportContext) async throws -> HTTPClientResponse {
        try await run(request, context: context) { request, context in
            var prepared = HTTPClientRequest(url: request.url)
            prepared.method = request.method
            prepared.headers = request.headers
            prepared.body = request.body
            return try await client.execute(prepared, deadline: context.nioDeadline, logger: nil)
        }
    }

    /// Sends `request` and reads the whole answer.
    ///
    /// By default the context's deadline ends the whole exchange, head and body: a server that
    /// sends one byte now and then cannot keep the caller waiting. With `scope`
    /// ``DeadlineScope/responseHead`` it bounds the head only (the body is then bounded by the
    /// client's read timeout between bytes): for tiny answers on a link-local service, where a
    /// wall-clock deadline of a second would also count the time the caller's task waited to
    /// run on a busy machine.
    ///
    /// - Parameters:
    ///   - request: the request.
    ///   - context: the exchange's name, deadline and logger.
    ///   - limit: the largest body to accept.
    ///   - scope: what the deadline bounds; the whole exchange by default.
    /// - Returns: the status, headers and whole body.
    /// - Throws: `HTTPClientError.deadlineExceeded` at the deadline, `NIOTooManyBytesError` for a
    ///   larger body, AsyncHTTPClient's errors when the exchange failed.
    public func collect(
        _ request: TransportRequest, context: TransportContext, upTo limit: Int,
        deadline scope: DeadlineScope = .wholeExchange
    ) async throws -> CollectedAnswer {
        let exchange = { @Sendable in
            let response = try await send(request, context: context)
            let body = try await response.body.collect(upTo: limit)
            return CollectedAnswer(status: response.status, headers: response.headers, body: body)
        }
        switch scope {
        case .responseHead:
            return try await exchange()
        case .wholeExchange:
            return try await withDeadline(context.deadline, orThrow: { HTTPClientError.deadlineExceeded }, exchange)
        }
    }

    /// What a context's deadline bounds in ``collect(_:context:upTo:deadline:)``.
    public enum DeadlineScope: Sendable {
        /// The whole exchange: the head and every byte of the body.
        case wholeExchange
        /// The response head only, as AsyncHTTPClient's own deadline does.
        case responseHead
    }

    /// Runs the chain around `terminal`, which performs the exchange: for callers that read the
    /// answer their own way (an AsyncHTTPClient delegate that streams into a file, say).
    public func run<Answer: TransportAnswer>(
        _ request: TransportRequest, context: TransportContext,
        terminal: (TransportRequest, TransportContext) async throws -> Answer
    ) async throws -> Answer {
        try await run(from: 0, request, context, terminal)
    }

    private func run<Answer: TransportAnswer>(
        from index: Int, _ request: TransportRequest, _ context: TransportContext,
        _ terminal: (TransportRequest, TransportContext) async throws -> Answer
    ) async throws -> Answer {
        guard index < middleware.count else { return try await terminal(request, context) }
        return try await middleware[index].handle(request, context: context) { request, context in
            try await run(from: index + 1, request, context, terminal)
        }
    }
}

/// One HTTP request on its way through an ``HTTPTransport``; middleware may change any part.
public struct TransportRequest: Sendable {
    /// The absolute URL, percent-encoded.
    public var url: String
    /// The method.
    public var method: HTTPMethod
    /// The headers.
    public var headers: HTTPHeaders
    /// The body; `nil` for none.
    public var body: HTTPClientRequest.Body?

    /// Creates a request.
    public init(url: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:], body: HTTPClientRequest.Body? = nil)
    {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }
}

/// What middleware knows about an exchange besides the request itself.
public struct TransportContext: Sendable {
    /// A short name for logs and errors (`s3 GetObject`, `GET /status`); never holds secrets.
    public var operation: String
    /// When the exchange must be over: the head for ``HTTPTransport/send(_:context:)``, head and
    /// body for ``HTTPTransport/collect(_:context:upTo:deadline:)``.
    public var deadline: ContinuousClock.Instant
    /// The attempt, from 1, when the caller retries.
    public var attempt: Int
    /// Where middleware logs.
    public var logger: Logger
    /// What a client hands to its own middleware for this exchange (see ``TransportContextKey``).
    public var values = TransportContextValues()

    /// Creates a context whose deadline is `deadline`.
    public init(
        operation: String, deadline: ContinuousClock.Instant, attempt: Int = 1,
        logger: Logger = Logger(label: "atlas-relay.http")
    ) {
        self.operation = operation
        self.deadline = deadline
        self.attempt = attempt
        self.logger = logger
    }

    /// Creates a context whose deadline is `timeout` from now.
    public init(
        operation: String, timeout: Duration, attempt: Int = 1, logger: Logger = Logger(label: "atlas-relay.http")
    ) {
        self.init(operation: operation, deadline: .now + timeout, attempt: attempt, logger: logger)
    }

    /// The deadline for AsyncHTTPClient, which applies it to the response head only.
    public var nioDeadline: NIODeadline {
        .now() + .nanoseconds(max(.zero, deadline - ContinuousClock.now).nanoseconds)
    }
}

/// An answer a middleware can inspect on its way back: at least its status.
public protocol TransportAnswer: Sendable {
    /// The HTTP status.
    var status: HTTPResponseStatus { get }
}

extension HTTPClientResponse: TransportAnswer {}

/// A whole answer read by ``HTTPTransport/collect(_:context:upTo:deadline:)``.
public struct CollectedAnswer: TransportAnswer {
    /// The HTTP status.
    public let status: HTTPResponseStatus
    /// The response headers.
    public let headers: HTTPHeaders
    /// The whole body.
    public let body: ByteBuffer
}
