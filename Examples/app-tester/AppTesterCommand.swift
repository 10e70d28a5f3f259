import AppTesting
import ArgumentParser
import AtlassianAdmin
import Foundation
import Logging
import RelayFoundation
import ToolSupport

/// `app-tester functional|smoke|perf|merge`: the pipeline's tests as CodeBuild steps.
@main
struct AppTesterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-tester",
        abstract: "Functional, smoke and load tests for Jira and Confluence Data Center, with CodeBuild reports.",
        discussion: """
            Exit status: 0 done (every test and SLA gate passed); 1 failed (a test or gate failed, or a request \
            did); 2 bad input or refused (fix the flags or URL; flags the parser rejects too).

            Credentials come from the environment or a file, never the command line (other users can read it in \
            /proc): \(AtlassianCredentials.environmentHelp). A user:password inside a URL also signs in, and is \
            never shown.
            """,
        subcommands: [Functional.self, Smoke.self, Perf.self, Merge.self])

    /// Parses, runs, and exits 0 done, 1 failed, 2 bad input.
    static func main() async {
        await runAsTool("app-tester") { _ in false }
    }
}

struct Apps: ParsableArguments {
    @Option(help: "Jira's base URL.") var jiraUrl: String?
    @Option(help: "Confluence's base URL.") var confluenceUrl: String?
    @Option(help: "Write JUnit XML here (CodeBuild test reports).") var junit: String?
    @Option(help: "Write the JSON result here.") var json: String?

    func clients() throws -> (JiraClient?, ConfluenceClient?) {
        guard jiraUrl != nil || confluenceUrl != nil else {
            throw ValidationError("give --jira-url and/or --confluence-url")
        }
        do {
            let credentials = try AtlassianCredentials.resolve()
            return (
                try jiraUrl.map { try JiraClient(baseURL: $0, credentials: credentials) },
                try confluenceUrl.map { try ConfluenceClient(baseURL: $0, credentials: credentials) }
            )
        } catch { throw ValidationError(URLRedaction.redact("\(error)")) }
    }

    func write(_ text: String, to path: String?) throws {
        guard let path else { return }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func write(_ data: Data, to path: String?) throws {
        guard let path else { return }
        try data.write(to: URL(fileURLWithPath: path))
    }
}

func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel =
        ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
    return logger
}

struct Functional: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the default functional suites (App-Tester).")
    @OptionGroup var apps: Apps

    func run() async throws {
        let (jira, confluence) = try apps.clients()
        let scenarios = (jira == nil ? [] : Suites.jira()) + (confluence == nil ? [] : Suites.confluence())
        let run = await AppTester(logger: quietLogger("app-tester")).run("functional", scenarios) {
            TestContext(jira: jira, confluence: confluence)
        }
        try apps.write(Reports.junit(runs: [run]), to: apps.junit)
        try apps.write(try Reports.json(run), to: apps.json)
        print(run.summary)
        if !run.passed { throw ExitCode(ToolExit.failed) }
    }
}

struct Smoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read-only checks, safe against PROD.")
    @OptionGroup var apps: Apps
    @Option(help: "A node's own URL to check for RUNNING (repeat for each node).") var node: [String] = []
    @Option(help: "The Jira version expected.") var jiraVersion: String?
    @Option(help: "The Confluence version expected.") var confluenceVersion: String?
    @Option(help: "A Jira issue key that must be readable.") var issue: String?
    @Option(help: "A Confluence page id that must be readable.") var page: String?

    func run() async throws {
        let (jira, confluence) = try apps.clients()
        var targets: [SmokeTester.Target] = []
        if let jira {
            targets.append(.init(client: jira, nodeURLs: node, expectedVersion: jiraVersion, knownContent: issue))
        }
        if let confluence {
            targets.append(
                .init(
                    client: confluence, nodeURLs: jira == nil ? node : [], expectedVersion: confluenceVersion,
                    knownContent: page))
        }
        let run = await SmokeTester(targets: targets).run(tester: AppTester(logger: quietLogger("smoke")))
        try apps.write(Reports.junit(runs: [run]), to: apps.junit)
        try apps.write(try Reports.json(run), to: apps.json)
        print(run.summary)
        if !run.passed { throw ExitCode(ToolExit.failed) }
    }
}

struct Perf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A load run with SLA gates (Perf-Tester), judged against a baseline when given one.",
        discussion: """
            Split over N load generators with --generator i/N on each (each takes its share of \
            --users and --rate and writes its own --json), then `app-tester merge` their results \
            into one report and one verdict.
            """)
    @OptionGroup var apps: Apps
    @OptionGroup var verdict: Verdict
    @Option(help: "jira, confluence, or status (GET /status only: measures the tester itself).") var mix = "jira"
    @Option(help: "Virtual users (closed model) or the cap in flight (open model), over all generators.")
    var users = 10
    @Option(help: "Ramp-up seconds.") var rampUp = 0.0
    @Option(help: "Seconds at full load.") var hold = 60.0
    @Option(help: "Ramp-down seconds.") var rampDown = 0.0
    @Option(help: "Think time between a user's actions, in milliseconds.") var thinkTime = 0.0
    @Option(help: "Requests per second (open model) over all generators; omit for the closed model.") var rate: Double?
    @Option(help: "This load generator's share: i/N (1-based), as one of N generators.") var generator: String?
    @Option(help: "The Jira project the jira mix works in.") var project = "DEMO"
    @Option(help: "The Confluence space the confluence mix works in.") var space = "DEMO"
    @Option(help: "The run's name.") var name = "perf"

    func run() async throws {
        let (jira, confluence) = try apps.clients()
        let actions: [PerfAction]
        let prepare: @Sendable (TestContext) async throws -> Void
        if let product = Product(rawValue: mix) {
            (actions, prepare) = Mixes.mix(for: product, project: project, space: space)
        } else if mix == "status" {
            guard let client: any AtlassianProduct = jira ?? confluence else { throw ValidationError("give a URL") }
            actions = [PerfAction("status", weight: 1) { _ in _ = try await client.state() }]
            prepare = { _ in }
        } else {
            throw ValidationError("--mix must be jira, confluence or status")
        }
        let day = 86_400.0
        guard (1...100_000).contains(users) else { throw ValidationError("--users \(users) is outside 1 to 100000") }
        if let rate { try ToolInput.number(rate, option: "--rate", within: 0.001...1_000_000, unit: " per second") }
        let (index, count) = try Self.share(generator)
        guard users >= count else {
            throw ValidationError("--users \(users) cannot be split over \(count) generators; give each at least one")
        }
        // Generator i of n takes users/n, the first users % n one more; the rate splits evenly.
        let share = users / count + (index <= users % count ? 1 : 0)
        let profile = LoadProfile(
            virtualUsers: share, rampUp: try ToolInput.seconds(rampUp, option: "--ramp-up", within: 0...day),
            hold: try ToolInput.seconds(hold, option: "--hold", within: 0...day),
            rampDown: try ToolInput.seconds(rampDown, option: "--ramp-down", within: 0...day),
            thinkTime: try ToolInput.seconds(thinkTime / 1000, option: "--think-time (ms)", within: 0...3600),
            arrivalRate: rate.map { $0 / Double(count) })
        let judge = try verdict.judge()
        let tester = PerfTester(
            actions: actions, profile: profile, prepare: prepare, logger: quietLogger("perf-tester"))
        let result: PerfResult
        let runName = count > 1 ? "\(name) (generator \(index) of \(count))" : name
        do { result = try await tester.run(runName, context: TestContext(jira: jira, confluence: confluence)) } catch {
            FileHandle.standardError.write(Data("app-tester: the load did not start: \(error)\n".utf8))
            throw ExitCode(ToolExit.failed)
        }
        if let lag = result.dispatchLag {
            print(
                String(
                    format: "dispatch lag (late against the schedule): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                    lag.milliseconds(at: 50), lag.milliseconds(at: 99), lag.milliseconds(at: 100)))
        }
        try verdict.conclude(result, judge: judge, json: apps.json, junit: apps.junit)
    }

    /// `i/N` as (i, N); nil as (1, 1).
    static func share(_ text: String?) throws -> (Int, Int) {
        guard let text else { return (1, 1) }
        let parts = text.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let index = parts[0], let count = parts[1], count >= 1, (1...count).contains(index)
        else { throw ValidationError("--generator takes i/N with 1 ≤ i ≤ N (this is generator i of N), not \(text)") }
        return (index, count)
    }
}

/// The gates, the baseline's judgement and the reports of a run, one or merged.
struct Verdict: ParsableArguments {
    @Option(help: "p90 limit in ms for every action.") var slaP90: Double?
    @Option(help: "A p90 limit for one action: NAME=MS (repeatable).") var slaAction: [String] = []
    @Option(help: "Least share of successes per action.") var minimumSuccess = 0.95
    @Option(help: "A previous result (JSON, or gzip-compressed JSON) to judge each action against (Mann–Whitney U with a tolerance).")
    var baseline: String?
    @Option(help: "Significance level of the baseline test.") var alpha = 0.05
    @Option(help: "Slowdown allowed against the baseline's median, in percent; ACTION=PERCENT for one action (repeatable).")
    var tolerance: [String] = []
    @Option(help: "DCAPT's shortest run that counts, in minutes (reported, not gated).") var complianceMinutes = 45.0
    @Option(help: "DCAPT's fewest concurrent users that count (reported, not gated).") var complianceUsers = 200
    @Option(help: "Write DCAPT-style CSV here.") var csv: String?
    @Option(help: "Write the HTML report here.") var html: String?

    func judge() throws -> BaselineJudge {
        try ToolInput.number(alpha, option: "--alpha", within: 0.000001...0.5)
        var judge = BaselineJudge(alpha: alpha)
        for entry in tolerance {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard let percent = Double(parts.last!), (0...1000).contains(percent) else {
                throw ValidationError("--tolerance \(entry): give a percentage from 0 to 1000, or ACTION=PERCENT")
            }
            if parts.count == 2 { judge.tolerances[parts[0]] = percent / 100 } else { judge.defaultTolerance = percent / 100 }
        }
        return judge
    }

    /// Writes the reports, prints the verdicts, and exits non-zero when a gate or the baseline failed.
    func conclude(_ result: PerfResult, judge: BaselineJudge, json: String?, junit: String?) throws {
        func write(_ data: Data, to path: String?) throws {
            guard let path else { return }
            try data.write(to: URL(fileURLWithPath: path))
        }
        var limits: [String: Double] = [:]
        for entry in slaAction {
            let parts = entry.split(separator: "=")
            guard parts.count == 2, let limit = Double(parts[1]) else {
                throw ValidationError("--sla-action takes NAME=MS, not \(entry)")
            }
            limits[String(parts[0])] = limit
        }
        if let slaP90 { try ToolInput.number(slaP90, option: "--sla-p90", within: 0...86_400_000, unit: " ms") }
        try ToolInput.number(minimumSuccess, option: "--minimum-success", within: 0...1)
        let gates = SLA(p90Milliseconds: limits, defaultP90Milliseconds: slaP90, minimumSuccess: minimumSuccess)
            .evaluate(result)
        var verdicts: [BaselineVerdict] = []
        var baselineResult: PerfResult?
        if let baseline {
            guard let data = FileManager.default.contents(atPath: baseline), let previous = try? PerfResult(archive: data)
            else { throw ValidationError("cannot read the baseline result \(baseline)") }
            verdicts = judge.judge(result, against: previous)
            baselineResult = previous
        }
        let compliance = DCAPTCompliance(minimumSeconds: complianceMinutes * 60, minimumUsers: complianceUsers)
            .check(result)
        try write(try Reports.json(result), to: json)
        try write(Data(Reports.csv(result).utf8), to: csv)
        try write(
            Data(
                Reports.html(
                    result, gates: gates, baseline: verdicts, baselineResult: baselineResult, compliance: compliance
                ).utf8), to: html)
        try write(Data(Reports.junit(runs: [], load: [(result, gates)]).utf8), to: junit)
        print(Reports.csv(result), terminator: "")
        print(String(format: "%.1f requests/s over %.1f s, %d generator(s)", result.throughput, result.seconds, result.generators))
        for gate in gates where !gate.passed { print("SLA FAILED \(gate.action): \(gate.message)") }
        for verdict in verdicts { print(verdict.message) }
        for check in compliance {
            print("DCAPT \(check.name): \(check.compliant ? "compliant" : "not compliant") (\(check.detail))")
        }
        if !gates.allSatisfy(\.passed) || !verdicts.allSatisfy(\.passed) { throw ExitCode(ToolExit.failed) }
    }
}

struct Merge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the results of several load generators into one result, one report and one verdict.")
    @Argument(help: "The generators' results (JSON, or gzip-compressed JSON).") var results: [String]
    @Option(help: "Write JUnit XML here (CodeBuild test reports).") var junit: String?
    @Option(help: "Where the merged JSON goes.") var output: String
    @OptionGroup var verdict: Verdict

    func run() async throws {
        let decoded = try results.map { path -> PerfResult in
            guard let data = FileManager.default.contents(atPath: path),
                let result = try? PerfResult(archive: data)
            else { throw ValidationError("\(path) is not a Perf-Tester result (JSON, or gzip-compressed JSON)") }
            return result
        }
        guard let merged = PerfResult.merged(decoded) else { throw ValidationError("give at least one result") }
        try verdict.conclude(merged, judge: try verdict.judge(), json: output, junit: junit)
    }
}
