import AtlasRelayTestSupport
import AtlassianAdmin
import AtlassianSimulator
import Foundation
import NIOCore
import S3Sync
import StackDeploy
import Testing

@testable import AppTesting
@testable import Pipeline

/// The UAT load test against the run of the commit PROD runs: kept beside the release in UAT's
/// deploy bucket, judged action by action, failing on a slowdown beyond the tolerance.
struct PerfBaselineTests {
    static let token = AtlassianSimulator.User.admin.token

    static func yaml(uat: String, buckets: [String: String], tolerance: Double) -> String {
        """
        name: perf
        production: prod
        accounts: { main: { id: "123456789012", region: us-east-1 } }
        snapshots: { account: main, bucket: \(buckets["uat"]!)-snapshots }
        environments:
          dev:
            account: main
            deployBucket: \(buckets["dev"]!)
            applications: { jira: { url: "\(uat)" } }
          uat:
            account: main
            deployBucket: \(buckets["uat"]!)
            applications: { jira: { url: "\(uat)", credentials: { token: env:RELAY_TEST_TOKEN } } }
            tests:
              project: TEST
              perf: { mix: jira, users: 4, hold: 3, thinkTime: 0.03, p90: 120000, tolerance: \(tolerance), minimumSamples: 5, compliance: { minimumMinutes: 0, minimumUsers: 4 }, userPool: env:PERF_POOL }
          prod:
            account: main
            deployBucket: \(buckets["prod"]!)
            applications: { jira: { url: "https://jira.example.com" } }
        """
    }

    @Test func theSecondRunIsJudgedAgainstTheRunOfTheCommitInPRODAndASlowdownFailsIt() async throws {
        try await withProductDatabase(.jira, prefix: "perfbase") { url in
            // The virtual users log in as four accounts of their own; the admin token only sets up.
            let pool = (1...4).map {
                AtlassianSimulator.User(name: "uat\($0)", password: "pw-\($0)", token: "uat-token-\($0)", isAdmin: false)
            }
            let simulator = try await AtlassianSimulator.start(
                .init(product: .jira, database: try DatabaseLocation(url: url), users: [.admin] + pool))
            let aws = try Sandbox.s3AWSClient()
            var buckets: [String: String] = [:]
            for name in ["dev", "uat", "prod"] { buckets[name] = try await Sandbox.makeBucket(aws, prefix: "perf-\(name)") }
            let s3 = S3Client(aws)
            try await withCleanup { try await Sandbox.withLoadSlot {
                var environment = Sandbox.environment
                environment["RELAY_TEST_TOKEN"] = Self.token
                environment["PERF_POOL"] = pool.map { "\($0.name):\($0.password)" }.joined(separator: "\n")
                func step(_ commit: String, tolerance: Double) throws -> PhaseStep {
                    let config = try PipelineConfig.parse(
                        Self.yaml(uat: simulator.baseURL, buckets: buckets, tolerance: tolerance), file: "pipeline.yml",
                        directory: FileManager.default.temporaryDirectory.path)
                    return try Pipeline(config: config, environment: environment).perfTester(commit: commit, options: .init())
                }
                let first = String(repeating: "a", count: 40)
                let second = String(repeating: "b", count: 40)
                let third = String(repeating: "c", count: 40)

                // PROD runs no release yet: nothing to judge against, the run is kept as passed.
                let opening = try await step(first, tolerance: 10).run()
                #expect(opening["baseline"]?.hasPrefix("none") == true, "\(opening)")
                #expect(opening["accounts"] == "4 from tests.perf.userPool", "\(opening)")
                let firstAccount = "Basic " + Data("uat1:pw-1".utf8).base64EncodedString()
                #expect(simulator.requests.contains { $0.authorization == firstAccount })
                let kept = try await s3.listAllObjects(bucket: buckets["uat"]!, prefix: "releases/\(first)/perf/").map(\.key)
                #expect(kept.count == 1 && kept[0].hasSuffix("-passed.json.gz"), "\(kept)")
                let stored = try PerfResult(archive: try #require(try await s3.getObjectData(bucket: buckets["uat"]!, key: kept[0])))
                #expect((stored.actions["jmeter_view_issue"]?.samples ?? 0) >= 5)

                // PROD now runs the first commit.
                let pointer = #"{"commit":"\#(first)","manifest":"releases/\#(first)/manifest.json","archiveSHA256":"00","releasedAt":"2026-12-01T00:00:00Z"}"#
                try await s3.putObject(bucket: buckets["prod"]!, key: "releases/current.json", data: ByteBuffer(string: pointer))

                // The same app again: judged against the first commit's run, and (with room for
                // a shared machine's noise) nothing regressed.
                let again = try await step(second, tolerance: 100).run()
                #expect(again["baseline"]?.hasPrefix(String(first.prefix(12))) == true, "\(again)")
                #expect(again["regressed"] == "0", "\(again)")

                // Every issue view 150 ms slower: far beyond the tolerance, so the gate fails and
                // the run is kept as failed (never a baseline).
                simulator.fail(.init(pathPrefix: "/rest/api/2/issue/", status: 200, delay: .milliseconds(150)))
                let slow = await #expect(throws: StepFailed.self) { try await step(third, tolerance: 100).run() }
                #expect(slow?.figures["regressed"].flatMap(Int.init).map { $0 >= 1 } == true, "\(slow.map { "\($0)" } ?? "")")
                let failed = try await s3.listAllObjects(bucket: buckets["uat"]!, prefix: "releases/\(third)/perf/").map(\.key)
                #expect(failed.count == 1 && failed[0].hasSuffix("-failed.json.gz"), "\(failed)")
                let baselines = PerfBaselines(bucket: DeployBucket(s3: s3, bucket: buckets["uat"]!))
                #expect(try await baselines.latestPassed(of: third) == nil)

                // A pool smaller than the virtual users is refused before any load, without its passwords.
                let small = environment["PERF_POOL"]!
                environment["PERF_POOL"] = "uat1:pw-1\nuat2:pw-2"
                let short = await #expect(throws: StepFailed.self) { try await step(second, tolerance: 100).run() }
                #expect(short?.description.contains("holds 2 accounts for 4 virtual users") == true, "\(short.map { "\($0)" } ?? "")")
                #expect(short?.description.contains("pw-") == false)
                environment["PERF_POOL"] = small

                // A damaged baseline stops the step before any load, saying which object it was.
                try await s3.putObject(
                    bucket: buckets["uat"]!, key: "releases/\(first)/perf/99999999T999999Z-passed.json.gz",
                    data: ByteBuffer(bytes: [0x1f, 0x8b, 1, 2, 3]))
                simulator.clearFailures()
                let requests = simulator.requests.count
                let damaged = await #expect(throws: PipelineError.self) { try await step(second, tolerance: 100).run() }
                #expect(damaged?.kind == .damagedBaseline)
                #expect(simulator.requests.count == requests)
            } } cleanup: {
                await simulator.stop()
                for bucket in buckets.values { try? await Sandbox.deleteBucket(aws, bucket) }
            }
        }
    }
}
