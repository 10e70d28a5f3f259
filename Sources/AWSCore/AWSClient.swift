import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RelayFoundation
import RelayHTTP

/// Sends signed requests to AWS services: endpoint resolution, signing, retries, clock skew.
///
/// One client per region and set of credentials; it is cheap to create and safe to share between
/// tasks. Every attempt goes through the client's ``transport`` (its middleware, then
/// `AWSSigningMiddleware`, which signs with fresh credentials); around the chain the client
/// resolves the endpoint and retries in the AWS standard mode (see ``RetryPolicy``). Service
/// clients (STS, S3, …) build ``AWSRequest``s and read the answers with the protocol helpers.
///
/// ```swift
/// let aws = AWSClient(region: "eu-west-1", credentialProvider: .default())
/// let identity = try await STSClient(aws).getCallerIdentity()
/// ```
public final class AWSClient: Sendable {
    /// The region requests are signed for and sent to.
    public let region: String
    /// Where credentials come from.
    public let credentialProvider: any CredentialProvider
    /// Endpoint resolution.
    public let endpoints: EndpointResolver
    /// Retry behaviour.
    public let retryPolicy: RetryPolicy
    /// The transport as given: its middleware (the user agent and logging of
    /// `HTTPTransport.shared`, say) sees every attempt before it is signed; its `HTTPClient`
    /// is owned by the caller.
    public let transport: HTTPTransport
    /// Where request lines are logged (method, host, operation, status, attempt; never secrets).
    public let logger: Logger
    /// ``transport`` with the signing middleware innermost.
    let signedTransport: HTTPTransport
    let quota = RetryQuota()
    let skew = ClockSkew()

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - region: the region, for example `eu-west-1`.
    ///   - credentialProvider: the credentials to sign with.
    ///   - endpoints: endpoint resolution (environment overrides by default).
    ///   - retryPolicy: the standard retry mode by default.
    ///   - transport: the HTTP transport; `HTTPTransport.shared` (its high-concurrency client,
    ///     the user agent and debug logging) by default.
    ///   - logger: where to log requests.
    public init(
        region: String, credentialProvider: any CredentialProvider, endpoints: EndpointResolver = EndpointResolver(),
        retryPolicy: RetryPolicy = .standard(), transport: HTTPTransport = .shared,
        logger: Logger = Logger(label: "atlas-relay.aws")
    ) {
        self.region = region
        self.credentialProvider = credentialProvider
        self.endpoints = endpoints
        self.retryPolicy = retryPolicy
        self.transport = transport
        self.logger = logger
        self.signedTransport = transport.adding(
            AWSSigningMiddleware(
                credentialProvider: credentialProvider, region: region, maxAttempts: retryPolicy.maxAttempts,
                skew: skew))
    }

    /// The seconds added to the local clock when signing, learned from servers' `Date` headers.
    public var clockSkew: TimeInterval { skew.seconds }

    /// Sends `request` and reads the whole response body.
    ///
    /// The body is read within the attempt: a body cut short or slower than the request's
    /// ``AWSRequest/timeout`` fails the attempt, which is retried as the policy allows.
    ///
    /// - Parameters:
    ///   - request: the request; sent again for each retry.
    ///   - maxResponseBytes: the largest body to buffer (64 MiB by default); stream larger ones
    ///     with ``execute(_:handle:)``.
    /// - Throws: ``AWSServiceError`` for an error answer, ``AWSClientError`` for transport or
    ///   configuration failures (``AWSClientError/Kind/timedOut`` when the deadline passed),
    ///   `CredentialError` when no credentials can be had.
    public func execute(_ request: AWSRequest, maxResponseBytes: Int = 64 << 20) async throws -> AWSResponse {
        try await withRetries(request) { attempt in
            let response = try await send(request, attempt: attempt)
            guard Self.isSuccess(response.status) else { return try await failed(response, request: request) }
            do {
                let body = try await response.body.collect(upTo: maxResponseBytes)
                return .answered(AWSResponse(status: response.status, headers: response.headers, body: body))
            } catch is NIOTooManyBytesError {
                throw AWSClientError(
                    .responseTooLarge,
                    "\(request.service) \(request.operation) answered more than \(maxResponseBytes) bytes; stream it instead"
                )
            }
        }
    }

    /// Sends `request` (retrying as the policy allows) and hands the successful response, with
    /// its body still streaming, to `handle`. Failures inside `handle` are not retried.
    ///
    /// The request's ``AWSRequest/timeout`` covers `handle` too: at the deadline the request is
    /// cancelled and ``AWSClientError/Kind/timedOut`` thrown, so give a long stream a long timeout.
    public func execute<T: Sendable>(
        _ request: AWSRequest, handle: (HTTPClientResponse) async throws -> T
    ) async throws -> T {
        let head = try await withRetries(request) { attempt -> AttemptOutcome<StreamingHead> in
            let response = try await send(request, attempt: attempt)
            guard Self.isSuccess(response.status) else { return try await failed(response, request: request) }
            return .answered(StreamingHead(response: response, deadline: attempt.deadline))
        }
        do {
            return try await withDeadline(
                head.deadline, orThrow: { HTTPClientError.deadlineExceeded },
                running: { try await handle(head.response) })
        } catch {
            throw unretried(error, request: request)
        }
    }

    /// Sends a request without a body (a `GET`, say) and streams a successful answer's body into
    /// `receiver` on the connection's event loop: no task switch per network read, which is what
    /// bulk downloads need. Failed attempts are retried before any byte reaches `receiver`; a
    /// failure once the body has started is not retried.
    ///
    /// - Returns: what ``AWSBodyReceiver/finish()`` returns once the whole body arrived.
    /// - Throws: as ``execute(_:maxResponseBytes:)``; ``AWSClientError/Kind/invalidConfiguration``
    ///   for a request with a body; what the receiver threw.
    public func execute<Receiver: AWSBodyReceiver>(_ request: AWSRequest, receiver: Receiver) async throws
        -> Receiver.Result
    {
        guard request.body.length == 0 else {
            throw AWSClientError(
                .invalidConfiguration, "\(request.operation): a request streamed to a receiver cannot have a body")
        }
        do {
            try await receiveWithRetries(request, receiver: receiver).get()
            return try await receiver.finish()
        } catch {
            await receiver.abandon()
            throw unretried(error, request: request)
        }
    }

    private func receiveWithRetries<Receiver: AWSBodyReceiver>(_ request: AWSRequest, receiver: Receiver)
        async throws -> Result<Void, any Error>
    {
        try await withRetries(request) { attempt in
            let (wire, context) = try exchange(request, attempt: attempt)
            let delegate = ReceivingDelegate(receiver: receiver)
            let answer: ReceivingDelegate<Receiver>.Answer
            do {
                answer = try await signedTransport.run(wire, context: context) { wire, context in
                    let task = signedTransport.client.execute(
                        request: try HTTPClient.Request(url: wire.url, method: wire.method, headers: wire.headers),
                        delegate: delegate, eventLoop: .indifferent, deadline: context.nioDeadline, logger: nil)
                    return try await withTaskCancellationHandler {
                        try await task.futureResult.get()
                    } onCancel: {
                        task.cancel()
                    }
                }
            } catch where delegate.bodyStarted {
                return .answered(.failure(error))
            }
            switch answer {
            case .received:
                return .answered(.success(()))
            case .failed(let status, let headers, let body):
                return .failed(
                    skewCorrected: skew.learn(from: headers, logger: logger),
                    AWSErrorParser.parse(
                        status: Int(status.code), headers: headers, body: Data(body.readableBytesView),
                        request: request))
            }
        }
    }

    /// An error answer, read and classified; the clock skew is learnt from its head at once.
    private func failed<T: Sendable>(_ response: HTTPClientResponse, request: AWSRequest) async throws
        -> AttemptOutcome<T>
    {
        let skewCorrected = skew.learn(from: response.headers, logger: logger)
        return .failed(skewCorrected: skewCorrected, try await AWSErrorParser.parse(response, request: request))
    }

    /// A successful answer whose body the caller streams, and when the attempt must be over.
    struct StreamingHead: Sendable {
        let response: HTTPClientResponse
        let deadline: ContinuousClock.Instant
    }

    static func isSuccess(_ status: HTTPResponseStatus) -> Bool {
        status.code < 300 || status == .notModified
    }

    /// Sends one attempt through the chain; returns once the response head arrived.
    func send(_ request: AWSRequest, attempt: Attempt) async throws -> HTTPClientResponse {
        let (wire, context) = try exchange(request, attempt: attempt)
        return try await signedTransport.send(wire, context: context)
    }

    /// One attempt as the transport sees it: the endpoint resolved (the URL and `Host`), the
    /// attempt's number and deadline, and what the signing middleware needs to sign it.
    func exchange(_ request: AWSRequest, attempt: Attempt) throws -> (TransportRequest, TransportContext) {
        var endpoint = try endpoints.endpoint(for: request.service, region: region)
        var path = request.path
        if let bucket = request.bucket {
            (endpoint, path) = endpoints.s3Address(
                bucket: bucket, encodedKey: String(path.drop { $0 == "/" }), endpoint: endpoint)
        }
        path = endpoint.basePath + path
        let query = request.encodedQuery
        var headers = request.headers
        headers.replaceOrAdd(name: "Host", value: endpoint.hostHeader)
        var context = TransportContext(
            operation: "\(request.service) \(request.operation)", deadline: attempt.deadline,
            attempt: attempt.number, logger: logger)
        context.values[AWSSigningContext.self] = AWSSigningContext(
            service: request.service, path: path, query: query, body: request.body, isUnsigned: request.isUnsigned)
        let wire = TransportRequest(
            url: endpoint.url(path: path, query: query), method: request.method, headers: headers)
        return (wire, context)
    }
}
