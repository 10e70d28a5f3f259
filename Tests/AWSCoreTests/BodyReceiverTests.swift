import AtlasRelayTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import AWSCore

/// ``AWSClient/execute(_:receiver:)`` against a real loopback server: only a successful answer's
/// body reaches the receiver, error answers are parsed and retried as usual, and a receiver's own
/// failure ends the request as it is.
struct BodyReceiverTests {
    /// Collects what it is given; fails on the first body part when told to.
    final class Collector: AWSBodyReceiver {
        struct Seen {
            var statuses: [Int] = []
            var body = Data()
            var parts = 0
            var finished = false
            var abandoned = false
        }
        struct Refused: Error, Equatable {}

        let failOnBody: Bool
        let seen = Mutex(Seen())

        init(failOnBody: Bool = false) {
            self.failOnBody = failOnBody
        }

        func receiveHead(_ head: HTTPResponseHead, on eventLoop: any EventLoop) throws {
            seen.withLock { $0.statuses.append(Int(head.status.code)) }
        }

        func receive(_ buffer: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
            if failOnBody { return eventLoop.makeFailedFuture(Refused()) }
            seen.withLock {
                $0.body.append(contentsOf: buffer.readableBytesView)
                $0.parts += 1
            }
            return eventLoop.makeSucceededVoidFuture()
        }

        func finish() async throws -> Int {
            seen.withLock {
                $0.finished = true
                return $0.body.count
            }
        }

        func abandon() async {
            seen.withLock { $0.abandoned = true }
        }
    }

    static let request = AWSRequest(service: .s3, operation: "GetObject", path: "/bucket/key")
    static let slowDown = TestResponse.text(
        "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>", status: 503)

    @Test func onlyTheSuccessfulAttemptsBodyReachesTheReceiver() async throws {
        let payload = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try await ScriptedServiceTests.withServer([Self.slowDown, TestResponse(body: payload)]) { server in
            let collector = Collector()
            let count = try await ScriptedServiceTests.client(server).execute(Self.request, receiver: collector)
            #expect(count == payload.count)
            #expect(server.requests.count == 2)
            collector.seen.withLock { seen in
                #expect(seen.statuses == [200])
                #expect(seen.body == payload)
                #expect(seen.parts > 1)  // streamed, not collected first
                #expect(seen.finished && !seen.abandoned)
            }
        }
    }

    @Test func anErrorAnswerIsParsedAndTheReceiverAbandoned() async throws {
        let missing = TestResponse.text(
            "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>",
            status: 404)
        try await ScriptedServiceTests.withServer([missing]) { server in
            let collector = Collector()
            let failure = await ScriptedServiceTests.serviceError {
                _ = try await ScriptedServiceTests.client(server).execute(Self.request, receiver: collector)
            }
            #expect(failure?.code == "NoSuchKey")
            #expect(failure?.statusCode == 404)
            #expect(server.requests.count == 1)
            collector.seen.withLock { seen in
                #expect(seen.statuses.isEmpty && seen.body.isEmpty)
                #expect(seen.abandoned && !seen.finished)
            }
        }
    }

    @Test func aReceiversOwnFailureIsNeitherRetriedNorRelabelled() async throws {
        try await ScriptedServiceTests.withServer([TestResponse(body: Data(repeating: 7, count: 100_000))]) {
            server in
            let collector = Collector(failOnBody: true)
            await #expect(throws: Collector.Refused()) {
                _ = try await ScriptedServiceTests.client(server).execute(Self.request, receiver: collector)
            }
            #expect(server.requests.count == 1)
            collector.seen.withLock { #expect($0.abandoned && !$0.finished) }
        }
    }

    @Test func aRequestWithABodyIsRefused() async throws {
        let upload = AWSRequest(
            service: .s3, operation: "PutObject", method: .PUT, path: "/bucket/key",
            body: .unsignedBytes(ByteBuffer(string: "data")))
        try await ScriptedServiceTests.withServer([TestResponse()]) { server in
            await #expect(throws: AWSClientError.self) {
                _ = try await ScriptedServiceTests.client(server).execute(upload, receiver: Collector())
            }
            #expect(server.requests.isEmpty)
        }
    }
}
