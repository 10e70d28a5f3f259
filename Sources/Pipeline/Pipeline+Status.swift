import Foundation
import StackDeploy

extension Pipeline {
    /// What runs in one environment and what passed there.
    public struct EnvironmentStatus: Sendable, Encodable {
        /// The environment.
        public let environment: String
        /// Its account id.
        public let account: String
        /// The last recorded deploy, nil before the first.
        public let deployed: DeployRecord?
        /// The phase whose passes this environment's bucket holds (`nightly` for DEV, `uat`,
        /// `go-live` for PROD), nil for another environment.
        public let phase: Phase?
        /// The commits that passed ``phase`` here, newest first.
        public let passed: [(commit: String, at: Date)]
        /// The recorded deploys, newest first.
        public let history: [DeployRecord]

        enum CodingKeys: String, CodingKey { case environment, account, deployed, phase, passed, history }
        struct Pass: Encodable {
            let commit: String
            let at: Date
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(environment, forKey: .environment)
            try container.encode(account, forKey: .account)
            try container.encodeIfPresent(deployed, forKey: .deployed)
            try container.encodeIfPresent(phase?.rawValue, forKey: .phase)
            try container.encode(passed.map { Pass(commit: $0.commit, at: $0.at) }, forKey: .passed)
            try container.encode(history, forKey: .history)
        }
    }

    /// The phase that deploys `environment` and records passes in its bucket.
    func phase(deploying environment: PipelineConfig.Environment) -> Phase? {
        [Phase.nightly, .uat, .goLive].first { (try? self.environment(of: $0).name) == environment.name }
    }

    /// Per environment (DEV, UAT, PROD, then the others by name): the commit deployed, when, by
    /// which phase and run, the deploys before it, and the commits that passed the phase that
    /// deploys it. Reads only, with each account's read role where it has one.
    public func status(historyLimit: Int = 5) async throws -> [EnvironmentStatus] {
        let order = [Phase.nightly, .uat, .goLive].compactMap { try? environment(of: $0).name }
        let environments = config.environments.values.sorted {
            (order.firstIndex(of: $0.name) ?? order.count, $0.name) < (order.firstIndex(of: $1.name) ?? order.count, $1.name)
        }
        var result: [EnvironmentStatus] = []
        for environment in environments {
            let bucket = deployBucket(environment, reading: true)
            let phase = phase(deploying: environment)
            let history = try await DeployRecord.history(in: bucket, limit: historyLimit)
            var passed: [(commit: String, at: Date)] = []
            if let phase { passed = try await DeployRecord.passes(of: phase.rawValue, in: bucket) }
            result.append(
                EnvironmentStatus(
                    environment: environment.name, account: config.account(of: environment).id,
                    deployed: try await DeployRecord.current(in: bucket), phase: phase,
                    passed: passed,
                    history: history))
        }
        return result
    }

    /// ``status(historyLimit:)`` as text: one block per environment.
    public static func statusText(_ statuses: [EnvironmentStatus]) -> String {
        func time(_ date: Date) -> String { date.formatted(.iso8601) }
        return statuses.map { status in
            var lines = ["\(status.environment) (account \(status.account))"]
            if let deployed = status.deployed {
                lines.append(
                    "  runs      \(deployed.commit.prefix(12))  deployed \(time(deployed.deployedAt)) by \(deployed.phase) "
                        + "(\(deployed.deployer)), run \(deployed.run)" + (deployed.link.map { " \($0)" } ?? ""))
            } else {
                lines.append("  runs      nothing deployed by the pipeline yet")
            }
            for earlier in status.history.dropFirst() {
                lines.append("  before    \(earlier.commit.prefix(12))  deployed \(time(earlier.deployedAt)) by \(earlier.phase)")
            }
            if let phase = status.phase {
                let passes = status.passed.prefix(5).map { "\($0.commit.prefix(12)) (\(time($0.at)))" }
                lines.append(
                    "  passed \(phase.rawValue): " + (passes.isEmpty ? "none" : passes.joined(separator: ", "))
                        + (status.passed.count > 5 ? ", and \(status.passed.count - 5) earlier" : ""))
            }
            return lines.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// The commit `phase --rollback` deploys: in the environment the phase deploys, the newest
    /// recorded deploy of a commit other than the one running now that passed this phase
    /// before. The phase then runs for it with every gate, as for any commit.
    ///
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/unknownCommit`` when nothing
    ///   earlier passed there.
    public func rollbackTarget(for phase: Phase) async throws -> String {
        let target = try environment(of: phase)
        let bucket = deployBucket(target, reading: true)
        let current = try await DeployRecord.current(in: bucket)
        let passed = Set(try await DeployRecord.passes(of: phase.rawValue, in: bucket).map(\.commit))
        let history = try await DeployRecord.history(in: bucket, limit: 100)
        guard let earlier = history.first(where: { $0.commit != current?.commit && passed.contains($0.commit) }) else {
            throw PipelineError(
                "\(target.name) has no earlier deploy that passed \(phase.rawValue) to roll back to"
                    + (current.map { " (it runs \($0.commit.prefix(12)))" } ?? " (no deploy is recorded)")
                    + "; name the commit with --commit",
                kind: .unknownCommit)
        }
        return earlier.commit
    }

    /// Who is running: CodeBuild's build id, else this machine and process.
    static func runIdentity(_ environment: [String: String]) -> String {
        if let id = environment["CODEBUILD_BUILD_ID"], !id.isEmpty { return id }
        return "\(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)"
    }
}
