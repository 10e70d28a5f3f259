import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
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
    public static func text(_ text: String, status: Int = 200, headers: [(name: String, value: String)] = []) -> TestResponse {
        TestResponse(status: status, headers: headers, body: Data(text.utf8))
    }

    /// A JSON response from a JSON-serialisable object.
    public static func json(_ object: Any, status: Int = 200) -> TestResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return TestResponse(status: status, headers: [("Content-Type", "application/json")], body: data)
    }
}

/// A real HTTP/1.1 server on 127.0.0.1 with an ephemeral port, for tests that need a live
/// endpoint (credential endpoints, scripted AWS answers). It records every request.
public final class TestHTTPServer: Sendable {
    /// The port it listens on.
    public let port: Int
    private let task: Task<Void, any Error>
    private let recorder: RecorderBox

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The requests received so far, in order.
    public var requests: [RecordedRequest] { recorder.log.withLock { $0 } }

    private init(port: Int, task: Task<Void, any Error>, recorder: RecorderBox) {
        self.port = port
        self.task = task
        self.recorder = recorder
    }

    /// Starts a server that answers every request with `handler`.
    public static func start(
        _ handler: @escaping @Sendable (RecordedRequest) async -> TestResponse
    ) async throws -> TestHTTPServer {
        let box = RecorderBox()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let body = try await request.body.collect(upTo: 64 << 20)
            let recordedRequest = RecordedRequest(
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                headers: request.headers.map { (name: $0.name.rawName, value: $0.value) },
                body: Data(body.readableBytesView))
            box.append(recordedRequest)
            let answer = await handler(recordedRequest)
            var fields = HTTPFields()
            for (name, value) in answer.headers {
                if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
            }
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test-http-server")
        logger.logLevel = .error
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw TestSupportError("the test HTTP server did not start")
        }
        return TestHTTPServer(port: port, task: task, recorder: box)
    }

    /// Stops the server and waits until it has.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

final class RecorderBox: Sendable {
    let log = Mutex<[RecordedRequest]>([])
    func append(_ request: RecordedRequest) { log.withLock { $0.append(request) } }
}

/// A failure of the test support itself, with what to do.
public struct TestSupportError: Error, CustomStringConvertible {
    /// The message.
    public let description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}
