import AtlasRelayTestSupport
import AtlassianAdmin
import AtlassianSimulator
import Foundation
import Histogram
import RelayFoundation
import Testing

@testable import AppTesting

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The suites, smoke tests, load runs and reports against the simulators on real sockets.
struct AppTestingTests {
    static let token = AtlassianCredentials.token(AtlassianSimulator.User.admin.token)

    /// Starts a `product` simulator on a fresh copy of the real product database (Jira 8: project
    /// TEST; Confluence 6: space TEST, page 360451) with a shared home of its own, runs `body`
    /// with it, then stops it and drops the copy, whether `body` returned or threw.
    static func withSimulator<T>(
        _ product: Product, version: String? = nil, users: [AtlassianSimulator.User] = [.admin, .viewer],
        body: (AtlassianSimulator) async throws -> T
    ) async throws -> T {
        try await withProductDatabase(product == .jira ? .jira : .confluence, prefix: "apptest") { url in
            let home = FileManager.default.temporaryDirectory.appendingPathComponent("apptest-\(UUID().uuidString)")
            return try await withCleanup {
                try await withResource {
                    try await AtlassianSimulator.start(
                        .init(
                            product: product, database: try DatabaseLocation(url: url), users: users,
                            version: version, sharedHome: home))
                } cleanup: { simulator in
                    await simulator.stop()
                } body: { simulator in
                    try await body(simulator)
                }
            } cleanup: {
                try? FileManager.default.removeItem(at: home)
            }
        }
    }

    /// The real dumps' project and space.
    static let project = "TEST"

    @Test func defaultSuitesPassOnAHealthyAppAndCleanUp() async throws {
        try await Self.withSimulator(.jira) { jiraSimulator in
            try await Self.withSimulator(.confluence) { confluenceSimulator in
                let jira = try JiraClient(baseURL: jiraSimulator.baseURL, credentials: Self.token)
                let confluence = try ConfluenceClient(baseURL: confluenceSimulator.baseURL, credentials: Self.token)
                let before = try await jira.search(jql: "project = TEST")
                let run = await AppTester().run("functional", Suites.jira(project: Self.project) + Suites.confluence(space: Self.project)) {
                    TestContext(jira: jira, confluence: confluence)
                }
                #expect(run.passed, "\(run.summary)")
                #expect(run.results.count == 7 + 7)
                #expect(try await jira.search(jql: "project = TEST") == before)  // the created issue was deleted
                #expect(
                    jiraSimulator.requests.contains {
                        $0.method == "DELETE" && $0.path.hasPrefix("/rest/api/2/issue/TEST-")
                    })
                #expect(
                    confluenceSimulator.requests.contains {
                        $0.method == "POST" && $0.path.hasSuffix("/child/attachment")
                    })
            }
        }
    }

    /// The simulator is an oracle, not a mirror: it serves what the restored database holds. A
    /// real Jira dump cut off where `jiraissue`'s rows begin (as a dump that stopped early, loaded
    /// without stopping at the first error) loads "fine", and then the smoke test's known issue,
    /// the suite's issue lifecycle and a search all fail, where the whole dump passes them.
    @Test func aTruncatedRestoreMakesTheTestersFail() async throws {
        let dump = Sandbox.repositoryRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/reference/atlassian/real-db/jira-8.x-pg11.sql.xz")
        let sql = try await ProcessRunner.run("/usr/bin/xz", ["-dc", dump.path], timeout: .seconds(60)).stdout
        let text = String(decoding: sql, as: UTF8.self)
        let cut = try #require(text.range(of: "COPY public.jiraissue "))
        let truncated = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID().uuidString).sql")
        try Data(text[..<cut.lowerBound].utf8).write(to: truncated)
        defer { try? FileManager.default.removeItem(at: truncated) }
        try await withSandboxDatabase(prefix: "truncated", scripts: []) { url in
            let load = try await ProcessRunner.run(
                "/usr/bin/psql", ["-X", "-q", url, "-f", truncated.path], timeout: .seconds(120))
            #expect(load.status == 0)  // psql without ON_ERROR_STOP: the cut dump "loads"
            try await withResource {
                try await AtlassianSimulator.start(.init(product: .jira, database: try DatabaseLocation(url: url)))
            } cleanup: { simulator in
                await simulator.stop()
            } body: { simulator in
                let jira = try JiraClient(baseURL: simulator.baseURL, credentials: Self.token)
                let smoke = await SmokeTester(targets: [.init(client: jira, knownContent: "TEST-1")]).run()
                #expect(!smoke.passed)
                #expect(smoke.results.contains { $0.step.contains("TEST-1") && $0.outcome == .failed })
                let suite = await AppTester().run("functional", Suites.jira(project: Self.project)) {
                    TestContext(jira: jira)
                }
                #expect(!suite.passed)
            }
            // The same checks pass on the whole dump: what failed is the data, not the checks.
            try await Self.withSimulator(.jira) { whole in
                let jira = try JiraClient(baseURL: whole.baseURL, credentials: Self.token)
                let smoke = await SmokeTester(targets: [.init(client: jira, knownContent: "TEST-1")]).run()
                #expect(smoke.passed, "\(smoke.summary)")
            }
        }
    }

    @Test func everyVirtualUserActsAsAnAccountOfThePoolAndTheAdminOnlySetsUp() async throws {
        let pool = (1...3).map {
            AtlassianSimulator.User(name: "perf\($0)", password: "secret-\($0)", token: "perf-token-\($0)", isAdmin: false)
        }
        try await Self.withSimulator(.jira, users: [.admin] + pool) { simulator in
            let admin = TestContext(jira: try JiraClient(baseURL: simulator.baseURL, credentials: Self.token))
            let users = try pool.map {
                TestContext(
                    jira: try JiraClient(
                        baseURL: simulator.baseURL, credentials: .basic(user: $0.name, password: $0.password)))
            }
            let mix = Mixes.jira(project: Self.project)
            let before = simulator.requests.count
            let result = try await Sandbox.withLoadSlot {
                try await PerfTester(
                    // A think time keeps the load well below what the shared machine's other tests need.
                    actions: mix.actions,
                    profile: LoadProfile(virtualUsers: 6, hold: .seconds(2), thinkTime: .milliseconds(40)),
                    prepare: mix.prepare
                ).run("pool", context: admin, users: users)
            }
            #expect(result.actions.values.allSatisfy { $0.errors == 0 }, "\(result.actions.mapValues(\.firstError))")
            let requests = simulator.requests.dropFirst(before)
            func basic(_ user: AtlassianSimulator.User) -> String {
                "Basic " + Data("\(user.name):\(user.password)".utf8).base64EncodedString()
            }
            // The set-up (listing the issues to view) is the admin's, and nothing else is.
            let byAdmin = requests.filter { $0.authorization == "Bearer \(AtlassianSimulator.User.admin.token)" }
            #expect(byAdmin.count == 1 && byAdmin.first?.path.hasPrefix("/rest/api/2/search") == true, "\(byAdmin.map(\.path))")
            // Every account of the pool did its share of the load (6 users over 3 accounts).
            for user in pool {
                let own = requests.filter { $0.authorization == basic(user) }.count
                #expect(own >= 1, "\(user.name) sent \(own) requests")
            }
            let accounts = Set(pool.map(basic))
            #expect(byAdmin.count + requests.filter { accounts.contains($0.authorization ?? "") }.count == requests.count)
        }
    }

    @Test func aSearchForANewIssueWaitsForTheIndexWithinItsBound() async throws {
        try await Self.withSimulator(.jira) { simulator in
            // A cluster node whose index lags 12 s behind the node that wrote the issue (longer
            // than the steps between the create and the search take on loaded cores).
            simulator.setIndexLag(.seconds(12))
            let jira = try JiraClient(baseURL: simulator.baseURL, credentials: Self.token)
            let patient = await AppTester().run(
                "functional", Suites.jira(project: Self.project, issueType: "Story", searchWait: .seconds(40))
            ) { TestContext(jira: jira) }
            #expect(patient.passed, "\(patient.summary)")
            let search = try #require(patient.results.first { $0.step == "search JQL" })
            #expect(search.seconds >= 1, "the wait is in the step's time: \(search.seconds) s")
            // The issue was created with the configured type.
            let created = simulator.requests.first { $0.method == "POST" && $0.path == "/rest/api/2/issue" }
            #expect(created.map { String(decoding: $0.body, as: UTF8.self).contains(#""name":"Story""#) } == true)

            // A wait shorter than the lag fails the step, saying how long it waited, and the
            // issue is still cleaned up.
            let hasty = await AppTester().run(
                "functional", Suites.jira(project: Self.project, searchWait: .milliseconds(600))
            ) { TestContext(jira: jira) }
            let failed = try #require(hasty.results.first { $0.step == "search JQL" })
            #expect(failed.outcome == .failed)
            #expect(failed.message?.contains("after waiting 0.6 s") == true, "\(failed.message ?? "")")
            #expect(!hasty.results.contains { $0.step.hasPrefix("cleanup:") })  // a cleanup is listed when it fails
            let deleted = simulator.requests.filter { $0.method == "DELETE" && $0.path.hasPrefix("/rest/api/2/issue/") }
            #expect(deleted.count == 2 && deleted.allSatisfy { $0.status == 204 }, "\(deleted.map(\.path))")
        }
    }

    @Test func aBrokenEndpointFailsItsStepWithTheProductsMessageAndSkipsTheRest() async throws {
        try await Self.withSimulator(.jira) { simulator in
            simulator.fail(.init(pathPrefix: "/rest/api/2/issue/TEST", status: 500))
            let jira = try JiraClient(baseURL: simulator.baseURL, credentials: Self.token)
            let run = await AppTester().run("functional", Suites.jira(project: Self.project)) { TestContext(jira: jira) }
            #expect(!run.passed)
            let view = try #require(run.results.first { $0.step == "view issue" })
            #expect(view.outcome == .failed)
            #expect(view.message?.contains("500") == true && view.message?.contains("told to fail") == true)
            #expect(run.results.first { $0.step == "edit issue" }?.outcome == .skipped)
            // The cleanup ran and failed against the broken endpoint, and says so.
            #expect(run.results.contains { $0.step.hasPrefix("cleanup: delete issue") && $0.outcome == .failed })
            #expect(run.summary.contains("FAILED jira: issue lifecycle / view issue"))
        }

        let slow = await AppTester().run(
            "limits",
            [
                Scenario(
                    "timing",
                    steps: [Step("slow", limit: .milliseconds(1)) { _ in try await Task.sleep(for: .milliseconds(30)) }]
                )
            ]
        ) { TestContext() }
        #expect(slow.results.first?.message?.contains("more than the 0.001 s allowed") == true)
    }

    @Test func smokeTestsAreReadOnlyAndCatchAWrongVersionOrANodeDown() async throws {
        // The version a node reports, set (the dump's own build, 7109, names no release the smoke test knows).
        try await Self.withSimulator(.confluence, version: "10.0.3") { simulator in
            let confluence = try ConfluenceClient(baseURL: simulator.baseURL, credentials: Self.token)
            let healthy = SmokeTester(
                targets: [.init(client: confluence, expectedVersion: "10.0.3", knownContent: "360451")])
            let run = await healthy.run()
            #expect(run.passed, "\(run.summary)")
            #expect(simulator.requests.allSatisfy { $0.method == "GET" })

            try await Self.withSimulator(.confluence, version: "10.0.3") { down in
                down.setMode(.maintenance)
                let wrong = SmokeTester(
                    targets: [
                        .init(
                            client: confluence, nodeURLs: [simulator.baseURL, down.baseURL], expectedVersion: "10.0.4")
                    ])
                let failed = await wrong.run()
                #expect(
                    failed.results.filter { $0.outcome == .failed }.map(\.step) == [
                        "status of \(down.baseURL)", "version",
                    ])
                #expect(failed.summary.contains("answered MAINTENANCE, not RUNNING"))
                #expect(failed.summary.contains("runs 10.0.3, expected 10.0.4"))
            }
        }
    }

    @Test func percentilesMatchAKnownDistributionAndMergedHistogramsEqualTheCombinedSamples() throws {
        // 1..1000 ms, once each: p50 = 500 ms, p90 = 900 ms, p99 = 990 ms within 3 significant digits.
        var all = PerfResult(name: "all")
        var first = PerfResult(name: "gen-1")
        var second = PerfResult(name: "gen-2")
        for ms in 1...1000 {
            all.record("view", microseconds: UInt64(ms * 1000), error: nil, second: ms / 100)
            if ms % 2 == 0 {
                first.record("view", microseconds: UInt64(ms * 1000), error: nil, second: ms / 100)
            } else {
                second.record("view", microseconds: UInt64(ms * 1000), error: nil, second: ms / 100)
            }
        }
        let stats = try #require(all.actions["view"])
        for (percentile, expected) in [(50.0, 500.0), (90, 900), (99, 990)] {
            let value = stats.milliseconds(at: percentile)
            #expect(abs(value - expected) <= expected * 0.001 + 0.001, "p\(percentile) = \(value)")
        }
        let merged = try #require(PerfResult.merged([first, second]))
        #expect(merged.generators == 2)
        #expect(merged.actions["view"]?.histogram == all.actions["view"]?.histogram)
        #expect(merged.timeline == all.timeline)

        // JSON round trip keeps the histogram, so results from other machines merge the same.
        let decoded = try JSONDecoder().decode(PerfResult.self, from: try JSONEncoder().encode(first))
        #expect(decoded.actions["view"]?.histogram == first.actions["view"]?.histogram)
    }

    @Test func slaGatesFailWhenTheyShould() throws {
        var result = PerfResult(name: "uat")
        for index in 0..<100 {
            result.record("fast", microseconds: 10_000, error: nil, second: 0)
            result.record("slow", microseconds: 800_000, error: nil, second: 0)
            result.record("flaky", microseconds: 10_000, error: index < 6 ? "HTTP 500" : nil, second: 0)
        }
        let gates = SLA(p90Milliseconds: ["slow": 500], defaultP90Milliseconds: 1000).evaluate(result)
        #expect(gates.map(\.action) == ["fast", "flaky", "slow"])
        #expect(gates.map(\.passed) == [true, false, false])
        #expect(gates[1].message.contains("94.0 % succeeded, below 95.0 %") && gates[1].message.contains("HTTP 500"))
        #expect(gates[2].message.contains("over the 500.0 ms limit"))
    }

    @Test func aLoadRunAgainstTheSimulatorMeasuresTheInjectedDelay() async throws {
        try await Self.withSimulator(.jira) { simulator in try await Sandbox.withLoadSlot {
            // Every issue view waits 250 ms in the simulator before answering: a floor no machine load can lower.
            let delay = 250.0
            simulator.fail(.init(pathPrefix: "/rest/api/2/issue/", status: 200, delay: .milliseconds(Int(delay))))
            let jira = try JiraClient(baseURL: simulator.baseURL, credentials: Self.token)
            let mix = Mixes.jira(project: Self.project)
            let profile = LoadProfile(virtualUsers: 4, rampUp: .milliseconds(200), hold: .seconds(2))

            // The whole DCAPT mix runs against the simulator without errors.
            let full = try await PerfTester(actions: mix.actions, profile: profile, prepare: mix.prepare)
                .run("uat-perf", context: TestContext(jira: jira))
            #expect(full.actions.values.reduce(0) { $0 + $1.samples } > 0)
            for (name, stats) in full.actions { #expect(stats.errors == 0, "\(name): \(stats.firstError ?? "")") }
            #expect(
                full.timeline.reduce(0) { $0 + $1.requests } == full.actions.values.reduce(0) { $0 + $1.samples })
            let gates = SLA(defaultP90Milliseconds: 30_000).evaluate(full)
            #expect(gates.allSatisfy { $0.passed }, "\(gates)")

            // Issue views and dashboards in one run. A run on loaded cores can end before it drew
            // a dashboard, so it is run again (up to three times) until both were sampled.
            let pair = mix.actions.filter { ["jmeter_view_issue", "jmeter_view_dashboard"].contains($0.name) }
                .map { PerfAction($0.name, weight: 1, $0.run) }
            func sampledPair() async throws -> (view: ActionStats, dashboard: ActionStats)? {
                for _ in 0..<3 {
                    let result = try await PerfTester(actions: pair, profile: profile, prepare: mix.prepare)
                        .run("uat-perf", context: TestContext(jira: jira))
                    if let view = result.actions["jmeter_view_issue"], let dashboard = result.actions["jmeter_view_dashboard"] {
                        return (view, dashboard)
                    }
                }
                return nil
            }
            let (view, dashboard) = try #require(try await sampledPair(), "three runs drew no view or no dashboard")
            #expect(view.errors == 0 && dashboard.errors == 0)
            #expect(Double(view.histogram.min) / 1000 >= delay * 0.99)
            // Each sample is counted for the action that made it: with the views failing instead,
            // every view and no dashboard is an error. (Comparing the two actions' times would
            // depend on the machine's load: on loaded cores dashboards took longer than 250 ms.)
            simulator.clearFailures()
            simulator.fail(.init(pathPrefix: "/rest/api/2/issue/", status: 503))
            let (failedView, cleanDashboard) = try #require(try await sampledPair())
            #expect(failedView.errors == failedView.samples && failedView.samples > 0)
            #expect(cleanDashboard.errors == 0, "\(cleanDashboard.firstError ?? "")")
        } }
    }

    @Test func theOpenModelKeepsItsScheduleAndReportsItsOwnLag() async throws {
        // 50 arrivals a second for one second: exactly 50 requests, however loaded the machine.
        let noop = PerfAction("noop", weight: 1) { _ in }
        let open = try await PerfTester(
            actions: [noop], profile: LoadProfile(virtualUsers: 8, hold: .seconds(1), arrivalRate: 50)
        ).run("open", context: TestContext())
        #expect(open.actions["noop"]?.samples == 50)
        #expect(open.dispatchLag?.samples == 50)
        // Two in flight at most, 100 ms each: 20 a second can leave, so the schedule slips and the
        // lag shows the generator (its cap) as the bottleneck.
        let slow = PerfAction("slow", weight: 1) { _ in try await Task.sleep(for: .milliseconds(100)) }
        let capped = try await PerfTester(
            actions: [slow], profile: LoadProfile(virtualUsers: 2, hold: .seconds(1), arrivalRate: 50)
        ).run("capped", context: TestContext())
        #expect(capped.actions["slow"]?.samples == 50)
        #expect((capped.dispatchLag?.milliseconds(at: 100) ?? 0) > 500)
        let closed = try await PerfTester(
            actions: [noop], profile: LoadProfile(virtualUsers: 1, hold: .milliseconds(50))
        )
        .run("closed", context: TestContext())
        #expect(closed.dispatchLag == nil)
    }

    @Test func reportsAreWellFormedJUnitCSVAndSelfContainedHTML() async throws {
        let run = TestRun(
            name: "functional", started: Date(timeIntervalSince1970: 1_800_000_000), seconds: 1.5,
            results: [
                StepResult(scenario: "jira", step: "view <issue>", outcome: .passed, message: nil, seconds: 0.2),
                StepResult(
                    scenario: "jira", step: "edit & save", outcome: .failed, message: "HTTP 500 \"boom\"", seconds: 0.3),
                StepResult(
                    scenario: "jira", step: "comment", outcome: .skipped, message: "an earlier step failed", seconds: 0),
            ])
        var result = PerfResult(name: "uat-perf", started: Date(timeIntervalSince1970: 1_800_000_000))
        result.seconds = 2
        for ms in 1...10 {
            result.record("jmeter_view_issue", microseconds: UInt64(ms * 1000), error: nil, second: ms / 6)
        }
        let gates = SLA(defaultP90Milliseconds: 5).evaluate(result)
        let junit = Reports.junit(runs: [run], load: [(result, gates)])
        let document = try XMLDocument(xmlString: junit)
        let root = try #require(document.rootElement())
        #expect(root.name == "testsuites")
        #expect(root.attribute(forName: "tests")?.stringValue == "4")
        #expect(root.attribute(forName: "failures")?.stringValue == "2")
        let cases = try document.nodes(forXPath: "//testcase")
        #expect(cases.count == 4)
        let failure = try #require(
            try document.nodes(forXPath: "//testcase[@name='edit & save']/failure").first as? XMLElement)
        #expect(failure.attribute(forName: "message")?.stringValue == "HTTP 500 \"boom\"")
        #expect(try document.nodes(forXPath: "//testcase[@name='comment']/skipped").count == 1)
        #expect(
            try document.nodes(forXPath: "//testsuite[@name='uat-perf']/testcase[@name='jmeter_view_issue']/failure")
                .count == 1)

        // The report validates against the JUnit schema (xmllint, installed by scripts/setup.sh).
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("junit-\(UUID().uuidString).xml")
        try Data(junit.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let schema = try #require(Bundle.module.url(forResource: "Schemas/junit", withExtension: "xsd"))
        let validation = try await ProcessRunner.run(
            "/usr/bin/xmllint", ["--noout", "--schema", schema.path, file.path], timeout: .seconds(30))
        #expect(validation.status == 0, "\(validation.errorText)")
        // …and the schema does reject a report missing what CodeBuild needs.
        try Data(junit.replacingOccurrences(of: #" classname="functional.jira""#, with: "").utf8).write(to: file)
        let broken = try await ProcessRunner.run(
            "/usr/bin/xmllint", ["--noout", "--schema", schema.path, file.path], timeout: .seconds(30))
        #expect(broken.status != 0)

        let csv = Reports.csv(result).split(separator: "\n")
        #expect(csv.first == "Action,Samples,Average,Median,90% Line,95% Line,99% Line,Min,Max,Error %")
        #expect(csv.last?.hasPrefix("jmeter_view_issue,10,5.5,5.0,9.0,") == true)

        let html = Reports.html(result, gates: gates, functional: [run])
        #expect(html.contains("<svg") && html.contains("FAILED") && html.contains("view &lt;issue&gt;"))
        #expect(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"))
    }
}
