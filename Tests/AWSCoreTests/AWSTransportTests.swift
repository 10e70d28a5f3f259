import AtlasRelayTestSupport
import Foundation
import NIOHTTP1
import RelayFoundation
import RelayHTTP
import Synchronization
import Testing

@testable import AWSCore

/// The client sends every attempt through its transport: middleware added to the transport sees
/// each attempt of each of the three ways of reading an answer (with its operation and attempt
/// number, before it is signed), the signing middleware signs it innermost, and the user agent
/// comes from the transport's header middleware.
struct AWSTransportTests {
    /// What one exchange looked like when it passed ``Recorder``.
    struct Exchange: Sendable, Equatable {
        let operation: String
        let attempt: Int
        let userAgent: String?
        let signed: Bool
        let status: UInt
    }

    /// Records each exchange that passes it, with the status it was answered with.
    final class Recorder: HTTPMiddleware {
        let log = Mutex<[Exchange]>([])
        var exchanges: [Exchange] { log.withLock { $0 } }
        func reset() { log.withLock { $0.removeAll() } }

        func handle<Answer: TransportAnswer>(
            _ request: TransportRequest, context: TransportContext,
            next: (TransportRequest, TransportContext) async throws -> Answer
        ) async throws -> Answer {
            let answer = try await next(request, context)
            let exchange = Exchange(
                operation: context.operation, attempt: context.attempt,
                userAgent: request.headers.first(name: "User-Agent"),
                signed: request.headers.contains(name: "Authorization"), status: answer.status.code)
            log.withLock { $0.append(exchange) }
            return answer
        }
    }

    static func client(_ server: TestHTTPServer, _ box: Recorder) -> AWSClient {
        AWSClient(
            region: "eu-west-1",
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: "AKIDTRANSPORT", secretAccessKey: "transport-secret")),
            endpoints: EndpointResolver(explicitEndpoint: server.baseURL, environment: [:]),
            retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5)),
            transport: HTTPTransport.shared.adding(box), logger: .init(label: "test"))
    }

    @Test func everyAttemptOfEachWayOfReadingGoesThroughTheTransport() async throws {
        let throttled = TestResponse.text(
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>", status: 503)
        let ok = TestResponse.text("payload")
        let box = Recorder()
        let agent = AtlasRelayVersion.userAgent
        func expected(_ operation: String) -> [Exchange] {
            [
                Exchange(operation: operation, attempt: 1, userAgent: agent, signed: false, status: 503),
                Exchange(operation: operation, attempt: 2, userAgent: agent, signed: false, status: 200),
            ]
        }

        try await ScriptedServiceTests.withServer([throttled, ok]) { server in
            let client = Self.client(server, box)
            let request = AWSRequest(service: .s3, operation: "GetObject", path: "/k", bucket: "b")
            let buffered = try await client.execute(request)
            #expect(String(decoding: buffered.data, as: UTF8.self) == "payload")
            #expect(box.exchanges == expected("s3 GetObject"))
            #expect(server.requests.map { $0.header("amz-sdk-request") } == ["attempt=1; max=3", "attempt=2; max=3"])
            #expect(server.requests.allSatisfy { $0.header("User-Agent") == agent })
            #expect(
                server.requests.allSatisfy {
                    $0.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDTRANSPORT/") == true
                })
        }

        box.reset()
        try await ScriptedServiceTests.withServer([throttled, ok]) { server in
            let client = Self.client(server, box)
            let request = AWSRequest(service: .s3, operation: "GetObject", path: "/k", bucket: "b")
            let streamed = try await client.execute(request) { response in
                try await response.body.collect(upTo: 1 << 10).readableBytes
            }
            #expect(streamed == 7)
            #expect(box.exchanges == expected("s3 GetObject"))
        }

        box.reset()
        try await ScriptedServiceTests.withServer([throttled, ok]) { server in
            let client = Self.client(server, box)
            let request = AWSRequest(service: .s3, operation: "GetObject", path: "/k", bucket: "b")
            let received = try await client.execute(request, receiver: BodyReceiverTests.Collector())
            #expect(received == 7)
            #expect(box.exchanges == expected("s3 GetObject"))
            #expect(server.requests.map { $0.header("amz-sdk-request") } == ["attempt=1; max=3", "attempt=2; max=3"])
        }
    }
}
