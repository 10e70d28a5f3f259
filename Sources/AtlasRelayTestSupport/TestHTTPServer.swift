import AWSCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request a ``TestHTTPServer`` received.
public struct RecordedRequest: Sendable {
    /// The method, for example `GET`.
    public let method: String
    /// The path, without the query.
    public let path: String
    /// The raw query string, without `?`.
    public let query: String
    /// The headers, in order.
    public let headers: [(name: String, value: String)]
    /// The body.
    public let body: Data

    /// The first header called `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What a ``TestHTTPServer`` answers.
public struct TestResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Headers to send.
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: Data

    /// Creates a response.
    public init(status: Int = 200, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A text response.
    public static func text(_ text: String, status: Int = 200, headers: [(name: String, value: String)] = [])
        -> TestResponse
    {
        TestResponse(status: status, headers: headers, body: Data(text.utf8))
    }

    /// A JSON response from a JSON-serialisable object.
    public static func json(_ object: Any, status: Int = 200) -> TestResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return TestResponse(status: status, headers: [("Content-Type", "application/json")], body: data)
    }
}

/// A real HTTP/1.1 server on 127.0.0.1 with an ephemeral port, for tests that need a live
/// endpoint (credential endpoints, scripted AWS answers). It records every request and sends
/// exactly the headers a response names (a scripted `Date` header stays as written).
///
/// Built directly on SwiftNIO so nothing rewrites the scripted answers.
public final class TestHTTPServer: Sendable {
    /// The port it listens on.
    public let port: Int
    private let channel: any Channel
    private let recorder: RecorderBox

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The requests received so far, in order.
    public var requests: [RecordedRequest] { recorder.log.withLock { $0 } }

    private init(port: Int, channel: any Channel, recorder: RecorderBox) {
        self.port = port
        self.channel = channel
        self.recorder = recorder
    }

    /// Starts a server that answers every request with `handler`.
    public static func start(
        _ handler: @escaping @Sendable (RecordedRequest) async -> TestResponse
    ) async throws -> TestHTTPServer {
        let recorder = RecorderBox()
        // No SO_REUSEADDR: without it the kernel never hands out a port that an earlier server's
        // accepted connections still hold, so a pooled keep-alive connection to a stopped server
        // can never be mistaken for a connection to this one.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                recorder.connections.withLock { $0.append(channel) }
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(handler: handler, recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw TestSupportError("the test HTTP server did not start")
        }
        return TestHTTPServer(port: port, channel: channel, recorder: recorder)
    }

    /// Stops listening and closes the connections it accepted, so a client's pool cannot keep
    /// talking to this handler through a port a later server reuses.
    public func stop() async {
        for connection in recorder.connections.withLock({ $0 }) { try? await connection.close() }
        try? await channel.close()
        for connection in recorder.connections.withLock({ $0 }) { try? await connection.close() }
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let handler: @Sendable (RecordedRequest) async -> TestResponse
        let recorder: RecorderBox
        var head: HTTPRequestHead?
        var body = ByteBuffer()

        init(handler: @escaping @Sendable (RecordedRequest) async -> TestResponse, recorder: RecorderBox) {
            self.handler = handler
            self.recorder = recorder
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                guard let head else { return }
                let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
                let request = RecordedRequest(
                    method: head.method.rawValue, path: String(parts[0]),
                    query: parts.count > 1 ? String(parts[1]) : "",
                    headers: head.headers.map { (name: $0.name, value: $0.value) }, body: Data(body.readableBytesView))
                recorder.append(request)
                let keepAlive = head.isKeepAlive
                let loop = context.eventLoop
                let bound = NIOLoopBound(context, eventLoop: loop)
                let handler = self.handler
                Task {
                    let answer = await handler(request)
                    loop.execute {
                        let context = bound.value
                        var headers = HTTPHeaders(answer.headers.map { ($0.name, $0.value) })
                        headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.count))
                        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                        let responseHead = HTTPResponseHead(
                            version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status), headers: headers)
                        context.write(NIOAny(HTTPServerResponsePart.head(responseHead)), promise: nil)
                        if request.method != "HEAD" {
                            context.write(
                                NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: answer.body)))),
                                promise: nil)
                        }
                        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in
                            if !keepAlive { context.close(promise: nil) }
                        }
                    }
                }
            }
        }
    }
}

final class RecorderBox: Sendable {
    let log = Mutex<[RecordedRequest]>([])
    let connections = Mutex<[any Channel]>([])
    func append(_ request: RecordedRequest) { log.withLock { $0.append(request) } }
}

/// A failure of the test support itself, with what to do.
public struct TestSupportError: Error, CustomStringConvertible {
    /// The message.
    public let description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

extension TestHTTPServer {
    /// A server that answers with truncated ListObjectsV2 pages that all name the same
    /// continuation token: a listing that trusts it never ends. After `pages` answers it gives a
    /// last, untruncated page, so a client that loops ends (and its test fails on what it
    /// returned) in bounded time instead of hanging: the test needs no wall-clock limit.
    public static func loopingS3Listing(pages: Int = 50) async throws -> TestHTTPServer {
        let answered = Mutex(0)
        return try await start { _ in
            let count = answered.withLock { count in
                count += 1
                return count
            }
            let truncated = count <= pages
            return .text(
                "<ListBucketResult><IsTruncated>\(truncated)</IsTruncated>"
                    + (truncated ? "<NextContinuationToken>same</NextContinuationToken>" : "")
                    + "</ListBucketResult>",
                headers: [("Content-Type", "application/xml")])
        }
    }

    /// Runs `body` with a ``loopingS3Listing(pages:)`` server, then stops the server whether `body`
    /// returned or threw.
    ///
    /// - Parameters:
    ///   - isolation: Where `body` and the cleanup run: the caller's actor, by default.
    ///   - body: The test, given the running server.
    /// - Returns: What `body` returned.
    /// - Throws: What starting the server or `body` threw.
    public static func withLoopingS3Listing<Value>(
        isolation: isolated (any Actor)? = #isolation,
        body: (TestHTTPServer) async throws -> Value
    ) async throws -> Value {
        try await withResource(isolation: isolation, { try await loopingS3Listing() }, cleanup: { await $0.stop() }, body: body)
    }

    /// A client that sends S3 requests here, with throwaway credentials.
    public func s3AWSClient() -> AWSClient {
        AWSClient(
            region: "us-east-1", credentialProvider: .static(accessKeyId: "AKID", secretAccessKey: "secret"),
            endpoints: EndpointResolver(environment: ["AWS_ENDPOINT_URL_S3": baseURL]))
    }
}
