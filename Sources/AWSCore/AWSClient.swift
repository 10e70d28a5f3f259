import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RelayFoundation
import Synchronization

/// Sends signed requests to AWS services: endpoint resolution, signing, retries, clock skew.
///
/// One client per region and set of credentials; it is cheap to create and safe to share between
/// tasks. All cross-cutting request work happens here, once: resolve the endpoint, sign with
/// fresh credentials, send, classify a failure, back off and retry. Service clients (STS, S3, …)
/// build ``AWSRequest``s and read the answers with the protocol helpers.
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
    /// The HTTP client; owned by the caller (``sharedHTTPClient`` by default, never shut down).
    public let httpClient: HTTPClient
    /// Where request lines are logged (method, host, operation, status, attempt; never secrets).
    public let logger: Logger
    let quota = RetryQuota()
    let clockOffset = Mutex<Double>(0)

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - region: the region, for example `eu-west-1`.
    ///   - credentialProvider: the credentials to sign with.
    ///   - endpoints: endpoint resolution (environment overrides by default).
    ///   - retryPolicy: the standard retry mode by default.
    ///   - httpClient: the transport; the shared, high-concurrency client by default.
    ///   - logger: where to log requests.
    public init(
        region: String, credentialProvider: any CredentialProvider, endpoints: EndpointResolver = EndpointResolver(),
        retryPolicy: RetryPolicy = .standard(), httpClient: HTTPClient = AWSClient.sharedHTTPClient,
        logger: Logger = Logger(label: "atlas-relay.aws")
    ) {
        self.region = region
        self.credentialProvider = credentialProvider
        self.endpoints = endpoints
        self.retryPolicy = retryPolicy
        self.httpClient = httpClient
        self.logger = logger
    }

    /// The process-wide HTTP client (``HTTPTransport/sharedClient``): up to 256 connections per
    /// host, 10 s connect timeout, 60 s read timeout, no redirects, no decompression.
    public static let sharedHTTPClient: HTTPClient = HTTPTransport.sharedClient

    /// The seconds added to the local clock when signing, learned from servers' `Date` headers.
    public var clockSkew: TimeInterval { clockOffset.withLock { $0 } }

    /// Sends `request` and reads the whole response body.
    ///
    /// The body is read within the attempt: a body cut short or slower than the request's
    /// ``AWSRequest/timeout`` fails the attempt, which is retried as the policy allows.
    ///
    /// - Parameter maxResponseBytes: the largest body to buffer (64 MiB by default); stream
    ///   larger ones with ``execute(_:handle:)``.
    /// - Throws: ``AWSServiceError`` for an error answer, ``AWSClientError`` for transport or
    ///   configuration failures (``AWSClientError/Kind/timedOut`` when the deadline passed),
    ///   ``CredentialError`` when no credentials can be had.
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

    /// An error answer, read and classified; the clock skew is learnt from its head at once.
    private func failed<T: Sendable>(_ response: HTTPClientResponse, request: AWSRequest) async throws
        -> AttemptOutcome<T>
    {
        let skewCorrected = learnClockSkew(from: response.headers)
        return .failed(skewCorrected: skewCorrected, try await AWSErrorParser.parse(response, request: request))
    }

    /// Sends a request without a body (a `GET`, say) and streams a successful answer's body into
    /// `receiver` on the connection's event loop: no task switch per network read, which is what
    /// bulk downloads need. Failed attempts are retried before any byte reaches `receiver`; a
    /// failure once the body has started is not retried.
    ///
    /// - Returns: what ``AWSBodyReceiver/finish()`` returns once the whole body arrived.
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
            let prepared = try await prepare(request, attempt: attempt)
            let httpRequest = try HTTPClient.Request(
                url: prepared.url, method: request.method, headers: prepared.headers)
            let delegate = ReceivingDelegate(receiver: receiver)
            let task = httpClient.execute(
                request: httpRequest, delegate: delegate, eventLoop: .indifferent, deadline: attempt.nioDeadline,
                logger: nil)
            let answer: ReceivingDelegate<Receiver>.Answer
            do {
                answer = try await withTaskCancellationHandler {
                    try await task.futureResult.get()
                } onCancel: {
                    task.cancel()
                }
            } catch  where delegate.bodyStarted {
                return .answered(.failure(error))
            }
            switch answer {
            case .received:
                return .answered(.success(()))
            case .failed(let status, let headers, let body):
                return .failed(
                    skewCorrected: learnClockSkew(from: headers),
                    AWSErrorParser.parse(
                        status: Int(status.code), headers: headers, body: Data(body.readableBytesView),
                        request: request))
            }
        }
    }

    /// One attempt's outcome: an answer to hand on, or an error answer to classify (with whether
    /// its `Date` corrected the clock skew, see ``learnClockSkew(from:)``).
    enum AttemptOutcome<T: Sendable>: Sendable {
        case answered(T)
        case failed(skewCorrected: Bool, AWSServiceError)
    }

    /// A successful answer whose body the caller streams, and when the attempt must be over.
    struct StreamingHead: Sendable {
        let response: HTTPClientResponse
        let deadline: ContinuousClock.Instant
    }

    /// One attempt: its number (from 1) and when it must be over.
    struct Attempt: Sendable {
        let number: Int
        let deadline: ContinuousClock.Instant

        /// The deadline for AsyncHTTPClient (which covers the response head only).
        var nioDeadline: NIODeadline {
            .now() + TimeAmount(max(.zero, deadline - ContinuousClock.now))
        }
    }

    /// Runs `attempt` until it answers, an error is not worth retrying, the policy's attempts or
    /// retry quota run out, or the request's ``AWSRequest/giveUpAfter`` has passed.
    ///
    /// Each attempt ends at its deadline (``AWSRequest/timeout`` after it started, and never
    /// later than the give-up point), head and body: a server that sends one byte at a time
    /// cannot keep it alive. An attempt cut off there fails as
    /// `HTTPClientError.deadlineExceeded`, so it is retried like any timeout.
    func withRetries<T: Sendable>(
        _ request: AWSRequest, _ attempt: (Attempt) async throws -> AttemptOutcome<T>
    ) async throws -> T {
        let giveUpAt = request.giveUpAfter.map { ContinuousClock.now + $0 }
        var number = 1
        var spent = 0
        while true {
            let started = ContinuousClock.now
            let current = Attempt(
                number: number, deadline: min(started + request.timeout, giveUpAt ?? started + request.timeout))
            let retryKind: RetryPolicy.RetryKind
            let failure: any Error
            do {
                let outcome = try await withDeadline(
                    current.deadline, orThrow: { HTTPClientError.deadlineExceeded },
                    running: { try await attempt(current) })
                switch outcome {
                case .answered(let answer):
                    quota.release(spent)
                    logger.debug(
                        "aws request",
                        metadata: [
                            "service": "\(request.service)", "operation": "\(request.operation)",
                            "attempt": "\(number)", "elapsed": "\(ContinuousClock.now - started)",
                        ])
                    return answer
                case .failed(let skewCorrected, let error):
                    guard let kind = RetryPolicy.classify(error, skewCorrected: skewCorrected) else { throw error }
                    (retryKind, failure) = (kind, error)
                }
            } catch let error
                where !(error is AWSServiceError) && !(error is CredentialError) && !(error is AWSClientError)
                && !(error is CancellationError)
            {
                guard let kind = RetryPolicy.classify(transport: error, idempotent: request.isIdempotent) else {
                    throw transportError(error, request: request, attempts: number)
                }
                (retryKind, failure) = (kind, error)
            }
            let delay = retryKind == .clockSkew ? .zero : retryPolicy.delay(afterAttempt: number)
            let outOfTime = giveUpAt.map { ContinuousClock.now + delay >= $0 } ?? false
            guard number < retryPolicy.maxAttempts, !outOfTime, let cost = quota.acquire(retryKind) else {
                if let failure = failure as? AWSServiceError { throw failure }
                throw transportError(failure, request: request, attempts: number)
            }
            spent += cost
            logger.info(
                "aws request retry",
                metadata: [
                    "service": "\(request.service)", "operation": "\(request.operation)", "attempt": "\(number)",
                    "reason": "\(retryKind)", "error": "\(Self.summary(failure))", "delay": "\(delay)",
                ])
            try await Task.sleep(for: delay)
            number += 1
        }
    }

    static func isSuccess(_ status: HTTPResponseStatus) -> Bool {
        status.code < 300 || status == .notModified
    }

    /// A failure after the answer started: a network failure is described as one (after a single
    /// attempt); anything else (the caller's own errors, say) passes through unchanged.
    func unretried(_ error: any Error, request: AWSRequest) -> any Error {
        guard RetryPolicy.isTransport(error) else { return error }
        return transportError(error, request: request, attempts: 1)
    }

    /// A request ready to go on the wire: resolved, signed, with its body.
    struct PreparedRequest {
        let url: String
        let headers: HTTPHeaders
        let body: HTTPClientRequest.Body?
    }

    /// Resolves, signs and sends one attempt; returns once the response head arrived.
    func send(_ request: AWSRequest, attempt: Attempt) async throws -> HTTPClientResponse {
        let prepared = try await prepare(request, attempt: attempt)
        var httpRequest = HTTPClientRequest(url: prepared.url)
        httpRequest.method = request.method
        httpRequest.headers = prepared.headers
        httpRequest.body = prepared.body
        return try await httpClient.execute(httpRequest, deadline: attempt.nioDeadline, logger: nil)
    }

    /// Resolves the endpoint and signs one attempt.
    func prepare(_ request: AWSRequest, attempt: Attempt) async throws -> PreparedRequest {
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
        headers.replaceOrAdd(name: "User-Agent", value: AtlasRelayVersion.userAgent)
        headers.replaceOrAdd(
            name: "amz-sdk-request", value: "attempt=\(attempt.number); max=\(retryPolicy.maxAttempts)")

        var payload = PayloadHash.empty
        var chunking: (size: Int, base: AWSByteStream)?
        var body: HTTPClientRequest.Body?
        switch request.body.storage {
        case .empty:
            break
        case .buffer(let buffer):
            payload = request.body.signsPayload ? .of(buffer.readableBytesView) : .unsigned
            body = .bytes(buffer)
        case .stream(let length, let make):
            switch request.body.streamSigning {
            case .unsigned:
                payload = .unsigned
                body = .stream(make(), length: .known(length))
            case .chunked(let size):
                payload = .streaming
                headers.replaceOrAdd(name: "Content-Encoding", value: "aws-chunked")
                headers.replaceOrAdd(name: "x-amz-decoded-content-length", value: String(length))
                chunking = (size, make())
            }
        }

        if !request.isUnsigned {
            let credentials = try await credentialProvider.credentials()
            let signer = SigV4Signer(credentials: credentials, region: region, service: request.service.signingName)
            let date = Date().addingTimeInterval(clockSkew)
            let signed = signer.signHeaders(
                SigningRequest(
                    method: request.method.rawValue, path: path, query: query,
                    headers: headers.map { (name: $0.name, value: $0.value) }),
                payload: payload, date: date)
            for (name, value) in signed.headersToAdd { headers.replaceOrAdd(name: name, value: value) }
            if let chunking {
                let sequence = ChunkedSigningSequence(
                    base: chunking.base, signer: signer.chunkSigner(seedSignature: signed.signature, date: date),
                    chunkSize: chunking.size)
                let wireLength = SigV4ChunkSigner.encodedLength(
                    payloadLength: request.body.length, chunkSize: chunking.size)
                body = .stream(sequence, length: .known(wireLength))
            }
        } else if chunking != nil {
            throw AWSClientError(.invalidConfiguration, "an unsigned request cannot use aws-chunked signing")
        }

        return PreparedRequest(url: endpoint.url(path: path, query: query), headers: headers, body: body)
    }

    /// Learns the offset between the server's `Date` and the local clock when it is over four
    /// minutes. Returns whether the offset changed (so a skew error is worth retrying).
    func learnClockSkew(from headers: HTTPHeaders) -> Bool {
        guard let text = headers.first(name: "Date"), let serverDate = HTTPDate.parse(text) else { return false }
        let skew = serverDate.timeIntervalSinceNow
        return clockOffset.withLock { offset in
            let corrected = abs(skew) > 240 ? skew : 0
            guard abs(corrected - offset) > 1 else { return false }
            offset = corrected
            logger.warning("clock skew detected", metadata: ["skew_seconds": "\(Int(skew))"])
            return true
        }
    }

    func transportError(_ error: any Error, request: AWSRequest, attempts: Int) -> any Error {
        if error is AWSServiceError || error is AWSClientError || error is CredentialError { return error }
        let target = (try? endpoints.endpoint(for: request.service, region: region))?.hostHeader ?? "\(request.service)"
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
            return AWSClientError(
                .timedOut,
                "\(request.service) \(request.operation) to \(target) timed out after \(attempts) attempt(s); "
                    + "check the endpoint and network, or raise the timeout")
        }
        return AWSClientError(
            .connectionFailed,
            "\(request.service) \(request.operation) could not reach \(target) after \(attempts) attempt(s) "
                + "(\(Self.summary(error))); check the endpoint URL (AWS_ENDPOINT_URL…), the network and that the service is up"
        )
    }

    static func summary(_ error: any Error) -> String {
        URLRedaction.redact(String(describing: error).prefix(200).description)
    }
}
