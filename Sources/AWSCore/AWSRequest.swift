import AWSSigning
import Foundation
import NIOCore
import NIOHTTP1

/// A stream of body bytes. Pull-based sequences keep memory bounded: the next buffer is read
/// only when the connection can take it.
public typealias AWSByteStream = any AsyncSequence<ByteBuffer, any Error> & Sendable

/// A request body: nothing, bytes in memory, or a stream that can be started again for a retry.
public struct AWSRequestBody: Sendable {
    enum Storage: Sendable {
        case empty
        case buffer(ByteBuffer)
        case stream(length: Int64, make: StreamFactory)
    }

    /// Makes a fresh stream of the body for each attempt.
    public typealias StreamFactory = @Sendable () -> AWSByteStream

    /// How a streamed body is covered by the signature.
    public enum StreamSigning: Sendable, Equatable {
        /// `UNSIGNED-PAYLOAD`: integrity from TLS and checksum headers (S3 over HTTPS).
        case unsigned
        /// `aws-chunked` with a signature per chunk (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
        case chunked(chunkSize: Int = SigV4ChunkSigner.defaultChunkSize)
    }

    let storage: Storage
    let streamSigning: StreamSigning
    var signsPayload = true

    /// No body.
    public static let empty = AWSRequestBody(storage: .empty, streamSigning: .unsigned)

    /// A body held in memory; its SHA-256 is signed.
    public static func bytes(_ buffer: ByteBuffer) -> AWSRequestBody {
        AWSRequestBody(storage: .buffer(buffer), streamSigning: .unsigned, signsPayload: true)
    }

    /// A body held in memory sent as `UNSIGNED-PAYLOAD`: the signature covers the headers only.
    ///
    /// For S3 requests that carry `Content-MD5` or an `x-amz-checksum-*` header (which the
    /// signature does cover, and the server verifies), this saves a SHA-256 pass over every byte.
    public static func unsignedBytes(_ buffer: ByteBuffer) -> AWSRequestBody {
        AWSRequestBody(storage: .buffer(buffer), streamSigning: .unsigned, signsPayload: false)
    }

    /// A body held in memory; its SHA-256 is signed.
    public static func data(_ data: Data) -> AWSRequestBody {
        .bytes(ByteBuffer(bytes: data))
    }

    /// A streamed body of a known length. `make` is called once per attempt, so a retry can
    /// send the body again; it must produce exactly `length` bytes.
    public static func stream(
        length: Int64, signing: StreamSigning = .unsigned,
        make: @escaping StreamFactory
    ) -> AWSRequestBody {
        AWSRequestBody(storage: .stream(length: length, make: make), streamSigning: signing)
    }

    /// The number of payload bytes.
    public var length: Int64 {
        switch storage {
        case .empty: return 0
        case .buffer(let buffer): return Int64(buffer.readableBytes)
        case .stream(let length, _): return length
        }
    }
}

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

/// A response whose body has been read into memory.
public struct AWSResponse: Sendable {
    /// The HTTP status.
    public let status: HTTPResponseStatus
    /// The response headers.
    public let headers: HTTPHeaders
    /// The body.
    public let body: ByteBuffer

    /// The body as `Data`.
    public var data: Data { Data(body.readableBytesView) }
}
