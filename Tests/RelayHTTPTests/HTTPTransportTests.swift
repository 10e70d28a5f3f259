import AsyncHTTPClient
import AtlasRelayTestSupport
import Foundation
import Logging
import NIOHTTP1
import RelayFoundation
import Synchronization
import Testing

@testable import RelayHTTP

struct HTTPTransportTests {
    final class Trace: Sendable {
        let entries = Mutex<[String]>([])
        func append(_ entry: String) { entries.withLock { $0.append(entry) } }
        var values: [String] { entries.withLock { $0 } }
    }

    /// Records the order in which middleware saw the request and the answer.
    struct Tracing: HTTPMiddleware {
        let name: String
        let log: Trace

        func handle<Answer: TransportAnswer>(
            _ request: TransportRequest, context: TransportContext,
            next: (TransportRequest, TransportContext) async throws -> Answer
        ) async throws -> Answer {
            log.append("\(name) in")
            var request = request
            request.headers.add(name: "X-Trace", value: name)
            let answer = try await next(request, context)
            log.append("\(name) out \(answer.status.code)")
            return answer
        }
    }

    struct Answer: TransportAnswer {
        let status: HTTPResponseStatus
        let traced: [String]
    }

    @Test func middlewareRunsOutermostFirstAndSeesTheAnswerOnTheWayBack() async throws {
        let log = Trace()
        let transport = HTTPTransport(middleware: [Tracing(name: "a", log: log), Tracing(name: "b", log: log)])
        let answer = try await transport.run(
            TransportRequest(url: "http://127.0.0.1:1/"), context: TransportContext(operation: "test", timeout: .seconds(5))
        ) { request, _ in
            Answer(status: .accepted, traced: request.headers["X-Trace"])
        }
        #expect(answer.traced == ["a", "b"])
        #expect(log.values == ["a in", "b in", "b out 202", "a out 202"])
    }

    @Test func theDefaultChainSendsTheUserAgentAndLogsWithoutSecrets() async throws {
        let server = try await TestHTTPServer.start { request in
            .text(request.header("User-Agent") ?? "none")
        }
        try await withCleanup {
            let recorder = LogRecorder()
            let url = "http://relay:hunter2@127.0.0.1:\(server.port)/status?token=abc"
            let answer = try await HTTPTransport.shared.collect(
                TransportRequest(url: url),
                // Generous: in a full parallel run the cooperative pool can be busy for seconds before this
                // exchange gets a thread (the whole-exchange deadline counts that time); this test is about
                // the user agent and the log, not timing.
                context: TransportContext(operation: "GET /status", timeout: .seconds(60), logger: recorder.logger()),
                upTo: 1 << 10)
            #expect(String(decoding: answer.body.readableBytesView, as: UTF8.self) == AtlasRelayVersion.userAgent)
            #expect(recorder.text.contains("http request"))
            #expect(recorder.text.contains("status=200"))
            #expect(!recorder.text.contains("hunter2") && !recorder.text.contains("abc"))
        } cleanup: {
            await server.stop()
        }
    }

    @Test func collectEndsTheWholeExchangeAtTheDeadline() async throws {
        // A server that drips one byte every 200 ms never finishes; only an overall deadline ends it.
        let server = try await StallingHTTPServer.start(.drip(every: .milliseconds(200)))
        try await withCleanup {
            let started = ContinuousClock.now
            await #expect {
                _ = try await HTTPTransport.shared.collect(
                    TransportRequest(url: server.baseURL + "/"),
                    context: TransportContext(operation: "drip", timeout: .seconds(2)), upTo: 1 << 20)
            } throws: { error in
                (error as? HTTPClientError) == .deadlineExceeded
            }
            #expect(ContinuousClock.now - started < .seconds(60))
        } cleanup: {
            await server.stop()
        }
    }
}
