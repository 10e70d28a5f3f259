import AWSSigning
import AsyncHTTPClient
import AtlasRelayTestSupport
import Foundation
import Testing

@testable import AWSCore

/// Every request has an overall deadline: a server that sends a head and then one byte now and
/// then (each read well inside the HTTP client's 60 s read timeout) or nothing at all cannot keep
/// a request alive past ``AWSRequest/timeout`` or ``AWSRequest/giveUpAfter``.
struct DeadlineTests {
    /// Loose on purpose: the deadline is proven by the typed `timedOut` the request ends with (a
    /// missing deadline runs into the 90 s time limit instead, or for ever); the full suite runs in
    /// parallel on two cores, where timers were seen to fire 10-20 s late, so a tight bound would
    /// measure the machine, not the code.
    static let bound: Duration = .seconds(60)

    static func client(_ server: StallingHTTPServer, retry: RetryPolicy = .none) -> AWSClient {
        AWSClient(
            region: "eu-west-1",
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: "AKIDDEADLINE", secretAccessKey: "deadline-secret")),
            endpoints: EndpointResolver(explicitEndpoint: server.baseURL, environment: [:]), retryPolicy: retry)
    }

    /// Runs `body` (bounded at 90 s) and returns the client error it threw and how long it took.
    static func failure(_ body: @escaping @Sendable () async throws -> Void) async throws -> (
        kind: AWSClientError.Kind?, elapsed: Duration
    ) {
        let started = ContinuousClock.now
        do {
            try await withTimeLimit(.seconds(90), body)
            Issue.record("the request succeeded")
            return (nil, ContinuousClock.now - started)
        } catch let error as AWSClientError {
            return (error.kind, ContinuousClock.now - started)
        }
    }

    @Test func aDrippingBodyTimesOutAtTheRequestDeadline() async throws {
        let (kind, elapsed) = try await withStallingServer(.drip(every: .milliseconds(500))) { server in
            let aws = Self.client(server)
            return try await Self.failure {
                _ = try await aws.execute(
                    AWSRequest(service: .s3, operation: "ListObjectsV2", path: "/", bucket: "b", timeout: .seconds(2)))
            }
        }
        #expect(kind == .timedOut)
        #expect(elapsed < Self.bound, "took \(elapsed)")
    }

    @Test func aDrippingStreamHandedToTheCallerTimesOutToo() async throws {
        let (kind, elapsed) = try await withStallingServer(.drip(every: .milliseconds(500))) { server in
            let aws = Self.client(server)
            return try await Self.failure {
                _ = try await aws.execute(
                    AWSRequest(service: .s3, operation: "GetObject", path: "/key", bucket: "b", timeout: .seconds(2))
                ) { response in
                    var bytes = 0
                    for try await part in response.body { bytes += part.readableBytes }
                    return bytes
                }
            }
        }
        #expect(kind == .timedOut)
        #expect(elapsed < Self.bound, "took \(elapsed)")
    }

    @Test func giveUpAfterBoundsEveryAttemptAndTheRetries() async throws {
        let (kind, elapsed) = try await withStallingServer(.silent) { server in
            let aws = Self.client(server, retry: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(200)))
            return try await Self.failure {
                _ = try await aws.execute(
                    AWSRequest(
                        service: .s3, operation: "ListObjectsV2", path: "/", bucket: "b", giveUpAfter: .seconds(3)))
            }
        }
        #expect(kind == .timedOut)
        #expect(elapsed >= .seconds(3) && elapsed < Self.bound, "took \(elapsed)")
    }

    @Test func aTimedOutAttemptIsRetriedWithinTheBudget() async throws {
        let (kind, elapsed, attempts) = try await withStallingServer(.drip(every: .milliseconds(300))) { server in
            let aws = Self.client(server, retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10)))
            let (kind, elapsed) = try await Self.failure {
                _ = try await aws.execute(
                    AWSRequest(service: .s3, operation: "ListObjectsV2", path: "/", bucket: "b", timeout: .seconds(1)))
            }
            return (kind, elapsed, server.requestCount)
        }
        #expect(kind == .timedOut)
        #expect(attempts == 3, "a listing whose body stalls is retried like any timeout")
        #expect(elapsed < Self.bound, "took \(elapsed)")
    }
}
