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
        return PhaseStep(
            "perf-tester", writesTo: uat.name,
            plan: {
                guard let perf else { return "no load test configured (tests.perf): fails unless waived (tests.waivers.perf)" }
                return
                    "would load \(uat.name)'s \(perf.mix) with \(perf.users) users for \(perf.hold) s (p90 ≤ \(perf.p90 ?? 5000) ms)"
            },
            run: {
                guard let perf else {
                    if let reason = uat.tests?.waivers?["perf"] { return ["waived": reason] }
                    throw StepFailed(
                        "\(uat.name) has no load test (tests.perf), so UAT would pass without one; configure it, "
                            + "or waive the gate with tests.waivers.perf: <why>")
                }
                let mix =
                    perf.product == .jira
                    ? Mixes.jira(project: uat.tests?.project ?? "DEMO") : Mixes.confluence(space: uat.tests?.space ?? "DEMO")
                let profile = LoadProfile(
                    virtualUsers: perf.users, rampUp: .milliseconds(Int((perf.rampUp ?? 0) * 1000)),
                    hold: .milliseconds(Int(perf.hold * 1000)))
                let result = try await PerfTester(actions: mix.actions, profile: profile, prepare: mix.prepare)
                    .run("uat-perf", context: try await self.context(uat))
                let gates = SLA(defaultP90Milliseconds: perf.p90 ?? 5000).evaluate(result)
                if let directory = options.reportDirectory {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    let base = URL(fileURLWithPath: directory).appendingPathComponent("perf-\(commit.prefix(12))")
                    try Reports.json(result).write(to: base.appendingPathExtension("json"))
                    try Data(Reports.html(result, gates: gates).utf8).write(to: base.appendingPathExtension("html"))
                }
                let figures = [
                    "requests": "\(result.actions.values.reduce(0) { $0 + $1.samples })",
                    "rps": String(format: "%.1f", result.throughput),
                    "gatesFailed": "\(gates.filter { !$0.passed }.count)",
                ]
                let failed = gates.filter { !$0.passed }
                guard failed.isEmpty else {
                    throw StepFailed(failed.map(\.message).joined(separator: "\n"), figures: figures)
                }
                return figures
            })
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
