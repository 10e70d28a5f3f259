import NIOHTTP1

/// One call to an AWS service, before endpoint resolution and signing.
public struct AWSRequest: Sendable {
    /// The service.
    public var service: AWSService
    /// The operation name, for logs and errors (for example `AssumeRole`, `PutObject`).
    public var operation: String
    /// The HTTP method.
    public var method: HTTPMethod
    /// The path, already percent-encoded, starting with `/`. For S3 bucket requests it is the
    /// encoded key path and ``bucket`` names the bucket.
    public var path: String
    /// Query parameters, not yet encoded, in order.
    public var query: [(name: String, value: String)]
    /// Extra headers.
    public var headers: HTTPHeaders
    /// The body.
    public var body: AWSRequestBody
    /// The S3 bucket, addressed virtual-hosted or path-style by the ``EndpointResolver``.
    public var bucket: String?
    /// Whether sending the request twice has the same effect as once; governs retries of
    /// connections that broke after the request may have been sent.
    public var isIdempotent: Bool
    /// Send without a signature (for example `AssumeRoleWithWebIdentity`).
    public var isUnsigned: Bool
    /// How long one attempt may take, from sending the request to the last byte of the answer
    /// (a streamed body handed to a caller included): the overall deadline of the attempt. The
    /// HTTP client's read timeout restarts with every byte; this one does not.
    public var timeout: Duration
    /// How long the request may take over all its attempts and the waits between them; `nil`
    /// (the default): only the retry policy's attempts and ``timeout`` bound it.
    ///
    /// No attempt runs past this point and no retry starts when the backoff would reach it, so a
    /// caller that gives up on an unreachable endpoint after a while (`s3sync --give-up-after`)
    /// sets it on the requests it makes meanwhile (listings, say).
    public var giveUpAfter: Duration?

    /// Creates a request.
    public init(
        service: AWSService, operation: String, method: HTTPMethod = .GET, path: String = "/",
        query: [(name: String, value: String)] = [], headers: HTTPHeaders = [:], body: AWSRequestBody = .empty,
        bucket: String? = nil, isIdempotent: Bool? = nil, isUnsigned: Bool = false, timeout: Duration = .seconds(300),
        giveUpAfter: Duration? = nil
    ) {
        self.service = service
        self.operation = operation
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.bucket = bucket
        self.isIdempotent = isIdempotent ?? [.GET, .HEAD, .PUT, .DELETE, .OPTIONS].contains(method)
        self.isUnsigned = isUnsigned
        self.timeout = timeout
        self.giveUpAfter = giveUpAfter
    }

    /// The query string with names and values percent-encoded (RFC 3986).
    public var encodedQuery: String {
        query.map { S3Path.encodeQueryComponent($0.name) + "=" + S3Path.encodeQueryComponent($0.value) }
            .joined(separator: "&")
    }
}
