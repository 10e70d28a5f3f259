import AtlasRelayTestSupport
import Foundation
import Testing

@testable import AtlassianAdmin

/// A server that sends a head and then one byte every half second (each read well inside any
/// per-read timeout) cannot keep a Jira or Confluence request, a wait for RUNNING or the
/// `atlassian-admin status --wait` command alive past their deadlines.
struct AtlassianDeadlineTests {
    static func dripping() async throws -> StallingHTTPServer {
        try await StallingHTTPServer.start(.drip(every: .milliseconds(500)))
    }

    @Test func aDrippingAnswerTimesOutAtTheRequestTimeout() async throws {
        let server = try await Self.dripping()
        let jira = JiraClient(
            connection: try AtlassianConnection(baseURL: server.baseURL, credentials: nil, timeout: .seconds(2)))
        let started = ContinuousClock.now
        let error = try await #require(throws: AtlassianError.self) {
            try await withTimeLimit(.seconds(30)) { _ = try await jira.serverInfo() }
        }
        await server.stop()
        #expect(error.kind == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(12))
    }

    @Test func waitUntilRunningEndsAtItsTimeoutWhateverThePollsDo() async throws {
        let server = try await Self.dripping()
        // A request timeout far longer than the wait: the polls are cut to what is left.
        let jira = JiraClient(
            connection: try AtlassianConnection(baseURL: server.baseURL, credentials: nil, timeout: .seconds(60)))
        let started = ContinuousClock.now
        let error = try await #require(throws: AtlassianError.self) {
            try await withTimeLimit(.seconds(30)) {
                try await jira.waitUntilRunning(timeout: .seconds(3), interval: .milliseconds(100))
            }
        }
        await server.stop()
        #expect(error.kind == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(12))
    }

    @Test func statusWaitReturnsWithinTheWaitPlusOneRequestTimeout() async throws {
        let server = try await Self.dripping()
        let started = ContinuousClock.now
        let result = try await AtlassianAdminToolTests.run([
            "status", "--product", "jira", "--url", server.baseURL, "--wait", "3", "--timeout", "2",
        ])
        let elapsed = ContinuousClock.now - started
        await server.stop()
        #expect(result.status == 1, "\(result)")
        // Loose: a busy test run can delay timers by seconds; without the deadlines this never ends.
        #expect(elapsed < .seconds(3 + 2 + 8), "took \(elapsed)")
    }
}
