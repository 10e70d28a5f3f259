import AtlasRelayTestSupport
import Foundation
import Testing

@testable import AtlassianAdmin

/// A server that sends a head and then one byte every half second (each read well inside any
/// per-read timeout) cannot keep a Jira or Confluence request, a wait for RUNNING or the
/// `atlassian-admin status --wait` command alive past their deadlines.
struct AtlassianDeadlineTests {
    /// Loose on purpose: the deadline is proven by the typed `timedOut` the request ends with (a
    /// missing deadline runs into the 90 s time limit instead, or for ever); the full suite runs in
    /// parallel on two cores, where timers were seen to fire 10-20 s late, so a tight bound would
    /// measure the machine, not the code.
    static let bound: Duration = .seconds(60)

    @Test func aDrippingAnswerTimesOutAtTheRequestTimeout() async throws {
        let (error, started) = try await withStallingServer(.drip(every: .milliseconds(500))) { server in
            let jira = JiraClient(
                connection: try AtlassianConnection(baseURL: server.baseURL, credentials: nil, timeout: .seconds(2)))
            let started = ContinuousClock.now
            let error = try await #require(throws: AtlassianError.self) {
                try await withTimeLimit(.seconds(90)) { _ = try await jira.serverInfo() }
            }
            return (error, started)
        }
        #expect(error.kind == .timedOut)
        #expect(ContinuousClock.now - started < Self.bound)
    }

    @Test func waitUntilRunningEndsAtItsTimeoutWhateverThePollsDo() async throws {
        let (error, started) = try await withStallingServer(.drip(every: .milliseconds(500))) { server in
            // A request timeout far longer than the wait: the polls are cut to what is left.
            let jira = JiraClient(
                connection: try AtlassianConnection(baseURL: server.baseURL, credentials: nil, timeout: .seconds(60)))
            let started = ContinuousClock.now
            let error = try await #require(throws: AtlassianError.self) {
                try await withTimeLimit(.seconds(90)) {
                    try await jira.waitUntilRunning(timeout: .seconds(3), interval: .milliseconds(100))
                }
            }
            return (error, started)
        }
        #expect(error.kind == .timedOut)
        #expect(ContinuousClock.now - started < Self.bound)
    }

    @Test func statusWaitReturnsWithinTheWaitPlusOneRequestTimeout() async throws {
        let (result, elapsed) = try await withStallingServer(.drip(every: .milliseconds(500))) { server in
            let started = ContinuousClock.now
            let result = try await AtlassianAdminToolTests.run([
                "status", "--product", "jira", "--url", server.baseURL, "--wait", "3", "--timeout", "2",
            ])
            return (result, ContinuousClock.now - started)
        }
        #expect(result.status == 1, "\(result)")
        #expect(elapsed < Self.bound, "took \(elapsed)")
    }
}
