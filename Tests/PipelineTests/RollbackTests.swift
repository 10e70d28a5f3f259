import AWSCore
import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import S3Sync
import StackDeploy
import Testing

@testable import Pipeline

/// "Which commit runs where?" and the way back: every successful deploy is recorded in the
/// environment's deploy bucket, `status` reads the records and the pass records, and a rollback
/// promotes and deploys the newest earlier commit that passed, through the same gates.
/// A small pipeline in the sandbox: one stack per environment (its template records the commit
/// in SSM), buckets in SeaweedFS, a git repository, and the phases' release and deploy steps.
final class PromotionWorld: Sendable {
    let tag: String
    let root: String
    let repository: String
    let buckets: [String: String]
    let pipeline: Pipeline
    let s3: S3Client
    static let steps: [Phase: [String]] = [
        .nightly: ["code-releaser", "cold-deployer"], .uat: ["code-releaser", "deployer"],
        .goLive: ["code-releaser", "deployer"],
    ]

    /// `uat` is more of UAT's environment section (for example its applications and nodes);
    /// `environment` is added to the pipeline's.
    init(tag: String = PromotionWorld.newTag(), uat: String = "", environment: [String: String] = [:]) async throws {
        self.tag = tag
        root = FileManager.default.temporaryDirectory.appendingPathComponent("promotion-\(tag)").path
        repository = root + "/infra"
        s3 = S3Client(try Sandbox.s3AWSClient())
        var buckets: [String: String] = [:]
        for name in ["dev", "uat", "prod"] { buckets[name] = try await Sandbox.makeBucket(s3.aws, prefix: "rb-\(name)") }
        self.buckets = buckets
        func stacks(_ environment: String) -> String {
            "[{ name: \(tag)-\(environment)-app, template: cloudformation/app.yaml, parameters: { EnvironmentName: \(tag)-\(environment) } }]"
        }
        let yaml = """
            name: rollback
            production: prod
            accounts: { main: { id: "123456789012", region: us-east-1 } }
            snapshots: { account: main, bucket: rb-snapshots-\(tag) }
            environments:
              dev: { account: main, deployBucket: \(buckets["dev"]!), stacks: \(stacks("dev")) }
              uat:
                account: main
                deployBucket: \(buckets["uat"]!)
                stacks: \(stacks("uat"))
            \(uat)
              prod: { account: main, deployBucket: \(buckets["prod"]!), stacks: \(stacks("prod")) }
            """
        try FileManager.default.createDirectory(atPath: repository + "/cloudformation", withIntermediateDirectories: true)
        try PhaseTests.World.template.write(toFile: repository + "/cloudformation/app.yaml", atomically: true, encoding: .utf8)
        try yaml.write(toFile: repository + "/pipeline.yml", atomically: true, encoding: .utf8)
        _ = try await ProcessRunner.run("/usr/bin/git", ["-C", repository, "init", "-q", "-b", "master"], timeout: .seconds(30))
        pipeline = Pipeline(
            config: try PipelineConfig.load(repository + "/pipeline.yml"),
            environment: Sandbox.environment.merging(environment) { $1 })
    }

    /// A tag for names (stacks `<tag>-<environment>-app`).
    static func newTag() -> String { "r" + UUID().uuidString.lowercased().prefix(8) }

    var options: Pipeline.Options {
        var options = Pipeline.Options(workDirectory: root + "/work", pollInterval: .milliseconds(100))
        options.confirmProduction = true
        return options
    }

    /// A new commit on master.
    func commit(_ message: String) async throws -> String {
        try "\(message)\n".write(toFile: repository + "/NOTES", atomically: true, encoding: .utf8)
        for arguments in [["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", message]] {
            let output = try await ProcessRunner.run("/usr/bin/git", ["-C", repository] + arguments, timeout: .seconds(30))
            #expect(output.status == 0, "git \(arguments): \(output.errorText)")
        }
        return String(
            decoding: try await ProcessRunner.run("/usr/bin/git", ["-C", repository, "rev-parse", "HEAD"], timeout: .seconds(30)).stdout,
            as: UTF8.self
        ).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `phase`'s release and deploy for `commit`, and its pass recorded as the whole phase would
    /// (the tests' steps are left out) when `passes` and the run passed.
    @discardableResult
    func run(_ phase: Phase, _ commit: String, passes: Bool = true, deployer: Pipeline.Deployer = .cold) async throws -> RunReport {
        var options = options
        options.deployer = deployer
        let report = try await pipeline.run(phase, commit: commit, selection: .init(only: Self.steps[phase]!), options: options)
        if passes && report.passed {
            try await CodeReleaser.recordPass(
                commit: commit, phase: phase.rawValue, in: pipeline.deployBucket(try pipeline.environment(of: phase)))
        }
        return report
    }

    /// The commit through the phases up to `last`, which passes only if `passes`.
    func promote(_ commit: String, through last: Phase = .goLive, passes: Bool = true) async throws {
        for phase in [Phase.nightly, .uat, .goLive] {
            let report = try await run(phase, commit, passes: phase != last || passes)
            #expect(report.passed, "\(report.text)")
            if phase == last { break }
        }
    }

    func close() async {
        for bucket in buckets.values { try? await Sandbox.deleteBucket(s3.aws, bucket) }
        try? FileManager.default.removeItem(atPath: root)
    }
}

struct RollbackTests {
    @Test func statusSaysWhatRunsWhereAndARollbackGoesBackToTheLastCommitThatPassed() async throws {
        try await withResource { try await PromotionWorld() } cleanup: { await $0.close() } body: { world in
            try await Self.rollback(in: world)
        }
    }

    static func rollback(in world: PromotionWorld) async throws {
        let (pipeline, tag, options) = (world.pipeline, world.tag, world.options)
        let steps = PromotionWorld.steps
        let ssm = SSMClient(try Sandbox.motoAWSClient())
        func commit(_ message: String) async throws -> String { try await world.commit(message) }
        func promote(_ commit: String, through last: Phase = .goLive, passes: Bool = true) async throws {
            try await world.promote(commit, through: last, passes: passes)
        }

        let a = try await commit("TEST-1: first")
        try await promote(a)
        // Before an earlier deploy exists, there is nothing to roll back to.
        let nothing = await #expect(throws: PipelineError.self) { try await pipeline.rollbackTarget(for: .goLive) }
        #expect(nothing?.kind == .unknownCommit)
        let b = try await commit("TEST-2: second")
        try await promote(b)
        // C reaches PROD but fails there (no go-live pass): it is never a rollback target.
        let c = try await commit("TEST-3: third")
        try await promote(c, passes: false)

        let status = try await pipeline.status()
        #expect(status.map(\.environment) == ["dev", "uat", "prod"])
        let prod = try #require(status.last)
        #expect(prod.deployed?.commit == c && prod.deployed?.phase == "go-live" && prod.deployed?.deployer == "cold")
        #expect(prod.history.map(\.commit) == [c, b, a])
        // (Passes are ordered by their records' write times, which S3 keeps to the second.)
        #expect(prod.phase == .goLive && Set(prod.passed.map(\.commit)) == [b, a])
        #expect(Set(status.first?.passed.map(\.commit) ?? []) == [c, b, a])  // nightly, in DEV's bucket
        let text = Pipeline.statusText(status)
        #expect(text.contains("runs      \(c.prefix(12))  deployed"), "\(text)")
        #expect(text.contains("passed go-live: ") && text.contains("\(b.prefix(12)) ("), "\(text)")

        // The way back: B, the newest earlier commit that passed go-live, through go-live again.
        let target = try await pipeline.rollbackTarget(for: .goLive)
        #expect(target == b)
        let back = try await pipeline.run(.goLive, commit: target, selection: .init(only: steps[.goLive]!), options: options)
        #expect(back.passed, "\(back.text)")
        #expect(try await ssm.parameter("/\(tag)-prod/code-version") == b)
        #expect(try await pipeline.status().last?.deployed?.commit == b)
        // UAT's way back is its own: C passed uat, so UAT's previous is B too, and DEV is untouched.
        #expect(try await pipeline.rollbackTarget(for: .uat) == b)
        #expect(try await ssm.parameter("/\(tag)-dev/code-version") == c)
    }
}
