import AppTesting
import AtlassianAdmin
import Foundation
import StackDeploy

// The steps only UAT has: perf-tester (the load test and its gates) and invite (a comment on
// each Jira issue of the release).

extension Pipeline {
    func perfTester(commit: String, options: Options) throws -> PhaseStep {
        let uat = try config.environment("uat")
        let perf = uat.tests?.perf
        let baselines = PerfBaselines(bucket: deployBucket(uat))
        let production = config.productionEnvironment
        return PhaseStep(
            "perf-tester", writesTo: uat.name,
            plan: {
                guard let perf else { return "no load test configured (tests.perf): fails unless waived (tests.waivers.perf)" }
                let judge = perf.judge
                return
                    "would load \(uat.name)'s \(perf.mix) with \(perf.users) users for \(perf.hold) s (p90 ≤ \(perf.p90 ?? 5000) ms), "
                    + "judge each action against \(perf.baseline.map { "the run of \($0.prefix(12))" } ?? "the run of the commit \(production.name) runs") "
                    + String(format: "(Mann–Whitney U, α %g, tolerance %g %%)", judge.alpha, judge.defaultTolerance * 100)
                    + " and keep the run in \(baselines.bucket.location)/\(PerfBaselines.prefix(commit))"
            },
            run: {
                guard let perf else {
                    if let reason = uat.tests?.waivers?["perf"] { return ["waived": reason] }
                    throw StepFailed(
                        "\(uat.name) has no load test (tests.perf), so UAT would pass without one; configure it, "
                            + "or waive the gate with tests.waivers.perf: <why>")
                }
                // The baseline first: a damaged one stops the step before any load is sent.
                let baselineCommit: String?
                if let named = perf.baseline {
                    baselineCommit = named.lowercased()
                } else {
                    baselineCommit = try await CodeReleaser.current(in: self.deployBucket(production, reading: true))?.commit
                }
                let baseline = try await baselineCommit.asyncMap { try await baselines.latestPassed(of: $0) } ?? nil
                let mix = Mixes.mix(
                    for: perf.product == .jira ? .jira : .confluence, project: uat.tests?.project ?? "DEMO",
                    space: uat.tests?.space ?? "DEMO")
                let profile = LoadProfile(
                    virtualUsers: perf.users, rampUp: .milliseconds(Int((perf.rampUp ?? 0) * 1000)),
                    hold: .milliseconds(Int(perf.hold * 1000)),
                    thinkTime: .milliseconds(Int((perf.thinkTime ?? 0) * 1000)))
                let pool = try await self.userPool(perf, in: uat)
                let result = try await PerfTester(actions: mix.actions, profile: profile, prepare: mix.prepare)
                    .run("uat-perf", context: try await self.context(uat), users: pool)
                let gates = SLA(defaultP90Milliseconds: perf.p90 ?? 5000).evaluate(result)
                let verdicts = baseline.map { perf.judge.judge(result, against: $0.result) } ?? []
                let compliance = (perf.compliance?.checks ?? .dcapt).check(result)
                let noncompliant = compliance.filter { !$0.compliant }
                var failed = gates.filter { !$0.passed }.map(\.message) + verdicts.filter { !$0.passed }.map(\.message)
                if perf.compliance?.required ?? true {
                    failed += noncompliant.map {
                        "the run is not DCAPT-compliant (\($0.name): \($0.detail)); load longer or with more users, or "
                            + "lower tests.perf.compliance for a short run"
                    }
                }
                let stored = try await baselines.store(result, commit: commit, passed: failed.isEmpty)
                if let directory = options.reportDirectory {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    let base = URL(fileURLWithPath: directory).appendingPathComponent("perf-\(commit.prefix(12))")
                    try Reports.json(result).write(to: base.appendingPathExtension("json"))
                    try Data(
                        Reports.html(
                            result, gates: gates, baseline: verdicts, baselineResult: baseline?.result,
                            compliance: compliance
                        ).utf8
                    ).write(to: base.appendingPathExtension("html"))
                    try Data(Reports.csv(result).utf8).write(to: base.appendingPathExtension("csv"))
                }
                for verdict in verdicts { self.logger.info("\(verdict.message)") }
                var figures = [
                    "requests": "\(result.actions.values.reduce(0) { $0 + $1.samples })",
                    "rps": String(format: "%.1f", result.throughput),
                    "gatesFailed": "\(gates.filter { !$0.passed }.count)",
                    "kept": "\(baselines.bucket.location)/\(stored)",
                    "accounts": pool.isEmpty ? "1 (the application's credentials)" : "\(pool.count) from tests.perf.userPool",
                    "compliant": noncompliant.isEmpty ? "yes" : "no: " + noncompliant.map(\.detail).joined(separator: "; "),
                ]
                if let baseline {
                    figures["baseline"] = "\(baseline.commit.prefix(12)) (\(baselines.bucket.location)/\(baseline.key))"
                    figures["regressed"] = "\(verdicts.filter { $0.outcome == .regressed }.count)"
                    figures["unchanged"] = "\(verdicts.filter { $0.outcome == .unchanged }.count)"
                    figures["improved"] = "\(verdicts.filter { $0.outcome == .improved }.count)"
                } else {
                    figures["baseline"] =
                        baselineCommit.map { "none: \($0.prefix(12)) has no passed run kept" } ?? "none: \(production.name) runs no release yet"
                }
                guard failed.isEmpty else { throw StepFailed(failed.joined(separator: "\n"), figures: figures) }
                return figures
            })
    }

    /// One context per account of `perf.userPool` (`name:password` lines), each with clients of
    /// its own; empty without a pool.
    ///
    /// - Throws: ``StepFailed`` for a pool smaller than the virtual users or a line that is not
    ///   `name:password` (by line number: never the line itself).
    func userPool(_ perf: PipelineConfig.Tests.Perf, in environment: PipelineConfig.Environment) async throws
        -> [TestContext]
    {
        guard let reference = perf.userPool else { return [] }
        let text = try await secrets(environment).resolve(reference)
        var contexts: [TestContext] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let entry = line.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex, entry.index(after: colon) != entry.endIndex
            else {
                throw StepFailed(
                    "line \(number + 1) of tests.perf.userPool (\(reference)) is not name:password; give one account a line")
            }
            let credentials = AtlassianCredentials.basic(
                user: String(entry[..<colon]), password: String(entry[entry.index(after: colon)...]))
            contexts.append(
                TestContext(
                    jira: try environment.application(.jira).map { try JiraClient(baseURL: $0.url, credentials: credentials) },
                    confluence: try environment.application(.confluence).map {
                        try ConfluenceClient(baseURL: $0.url, credentials: credentials)
                    }))
        }
        guard contexts.count >= perf.users else {
            throw StepFailed(
                "tests.perf.userPool (\(reference)) holds \(contexts.count) accounts for \(perf.users) virtual users; "
                    + "each virtual user logs in as an account of its own, so give at least \(perf.users)")
        }
        return contexts
    }

    func invite(commit: String) throws -> PhaseStep {
        let uat = try config.environment("uat")
        let bucket = deployBucket(uat)
        let url = uat.application(.jira)?.url ?? uat.application(.confluence)?.url ?? uat.name
        let tracker = config.productionEnvironment.application(.jira)
        return PhaseStep(
            "invite",
            plan: {
                "would comment \"ready for UAT at \(url)\" on each Jira issue of the release (tracker: \(tracker?.url ?? "none"))"
            },
            run: {
                let waiver = uat.tests?.waivers?["invite"]
                guard let tracker else {
                    if let waiver { return ["invited": "0", "waived": waiver] }
                    throw StepFailed(
                        "PROD has no Jira to comment in, so nobody would be invited; waive the gate with "
                            + "tests.waivers.invite: <why> in \(uat.name)")
                }
                let jira = try JiraClient(
                    baseURL: tracker.url,
                    credentials: try await self.credentials(
                        tracker, secrets: self.secrets(self.config.productionEnvironment)))
                let keys = try await CodeReleaser.manifest(of: commit, in: bucket)?.jiraKeys ?? []
                guard !keys.isEmpty else {
                    if let waiver { return ["invited": "0", "waived": waiver] }
                    throw StepFailed(
                        "the release of \(commit.prefix(12)) names no Jira issue (branch name or commits), so nobody "
                            + "would be invited; name the issue in the commits, or waive with tests.waivers.invite: <why>")
                }
                var failures: [String] = []
                for key in keys {
                    do { try await jira.addComment(key, "\(commit.prefix(12)) is ready for UAT at \(url)") } catch {
                        failures.append("\(key): \(error)")
                    }
                }
                let figures = ["invited": "\(keys.count - failures.count)", "issues": keys.joined(separator: ",")]
                guard failures.isEmpty else { throw StepFailed(failures.joined(separator: "\n"), figures: figures) }
                return figures
            })
    }
}
