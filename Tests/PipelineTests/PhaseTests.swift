import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import AtlassianAdmin
import AtlassianSimulator
import DataRefresh
import Foundation
import RelayFoundation
import S3Sync
import StackDeploy
import Synchronization
import Testing

@testable import Pipeline

/// The phases end to end against the sandbox: PostgreSQL (PROD and DEV Jira databases),
/// SeaweedFS (snapshot and deploy buckets), moto (CloudFormation) and simulators as the DEV, UAT
/// and PROD Jira, with a git repository of its own.
@Suite(.serialized) struct PhaseTests {
    final class World: Sendable {
        let root: String
        let tag: String
        let prodDB: DatabaseLocation
        let devDB: DatabaseLocation
        let uatDB: DatabaseLocation
        let buckets: [String: String]
        let devPort: Int
        let dev = Mutex<AtlassianSimulator?>(nil)
        let uat: AtlassianSimulator
        let prod: AtlassianSimulator
        let s3: S3Client
        let cloudFormation: CloudFormationClient
        let config: PipelineConfig
        /// The config's text, as the repository holds it.
        let yaml: String

        init() async throws {
            tag = "t" + UUID().uuidString.lowercased().prefix(8)
            root = FileManager.default.temporaryDirectory.appendingPathComponent("phases-\(tag)").path
            // PROD: the real Jira 8 database with PROD's settings written in; DEV and UAT an old copy of it.
            prodDB = try DatabaseLocation(url: try await Sandbox.makeProductDatabase(.jira, prefix: "prod"))
            devDB = try DatabaseLocation(url: try await Sandbox.makeProductDatabase(.jira, prefix: "dev"))
            let aws = try Sandbox.s3AWSClient()
            s3 = S3Client(aws)
            var buckets: [String: String] = [:]
            for name in ["snapshots", "dev", "uat", "prod"] {
                buckets[name] = try await Sandbox.makeBucket(aws, prefix: name)
            }
            self.buckets = buckets
            cloudFormation = CloudFormationClient(try Sandbox.motoAWSClient())
            let devSimulator = try await AtlassianSimulator.start(.init(product: .jira, database: devDB))
            devPort = devSimulator.port
            dev.withLock { $0 = devSimulator }
            uatDB = try DatabaseLocation(url: try await Sandbox.makeProductDatabase(.jira, prefix: "uat"))
            uat = try await AtlassianSimulator.start(.init(product: .jira, database: uatDB))
            prod = try await AtlassianSimulator.start(.init(product: .jira, database: prodDB))

            // The infrastructure repository: one template, one commit naming a Jira issue.
            let repository = "\(root)/infra"
            try FileManager.default.createDirectory(
                atPath: "\(repository)/cloudformation", withIntermediateDirectories: true)
            try Data(Self.template.utf8).write(to: URL(fileURLWithPath: "\(repository)/cloudformation/app.yaml"))
            try FileManager.default.createDirectory(
                atPath: "\(root)/prod-home/data/attachments", withIntermediateDirectories: true)
            try Data("PROD attachment".utf8).write(to: URL(fileURLWithPath: "\(root)/prod-home/data/attachments/1"))
            try FileManager.default.createDirectory(atPath: "\(root)/dev-home", withIntermediateDirectories: true)
            let yaml = Self.yaml(
                root: root, tag: tag, buckets: buckets, prodDB: prodDB, devDB: devDB, devPort: devPort, uat: uat.baseURL,
                prod: prod.baseURL)
            self.yaml = yaml
            // The repository's own config, released with the code: what go-live runs on in CodeBuild.
            try Data(yaml.utf8).write(to: URL(fileURLWithPath: "\(repository)/pipeline.yml"))
            for arguments in [
                ["init", "-q", "-b", "master"], ["add", "-A"],
                [
                    "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m",
                    "TEST-1: raise the heap",
                ],
            ] {
                let output = try await ProcessRunner.run(
                    "/usr/bin/git", ["-C", repository] + arguments, timeout: .seconds(30))
                #expect(output.status == 0, "git \(arguments): \(output.errorText)")
            }
            config = try PipelineConfig.parse(yaml, file: "pipeline.yml", directory: repository)
        }

        static let template = """
            Parameters:
              CodeVersion: { Type: String, Default: none }
              EnvironmentName: { Type: String }
            Resources:
              Version:
                Type: AWS::SSM::Parameter
                Properties: { Type: String, Value: !Ref CodeVersion, Name: !Sub "/${EnvironmentName}/code-version" }
            """

        static func yaml(
            root: String, tag: String, buckets: [String: String], prodDB: DatabaseLocation, devDB: DatabaseLocation,
            devPort: Int, uat: String, prod: String
        ) -> String {
            func db(_ location: DatabaseLocation) -> String {
                "{ url: \"postgres://\(location.user)@\(location.host):\(location.port)/\(location.database)\", password: env:PGPASSWORD }"
            }
            func stacks(_ environment: String) -> String {
                "[{ name: \(tag)-\(environment)-app, template: cloudformation/app.yaml, parameters: { EnvironmentName: \(tag)-\(environment) } }]"
            }
            return """
                name: phases
                production: prod
                accounts:
                  main: { id: "123456789012", region: us-east-1 }
                snapshots: { account: main, bucket: \(buckets["snapshots"]!), keep: 2 }
                environments:
                  dev:
                    account: main
                    deployBucket: \(buckets["dev"]!)
                    stacks: \(stacks("dev"))
                    applications:
                      jira:
                        url: http://127.0.0.1:\(devPort)
                        credentials: { token: env:RELAY_TEST_TOKEN }
                        database: \(db(devDB))
                        sharedHome: \(root)/dev-home
                    settings:
                      jira: { title: Jira DEV, baseURL: "http://127.0.0.1:\(devPort)", mailDisabled: true }
                    tests: { functional: [jira], project: TEST }
                  uat:
                    account: main
                    deployBucket: \(buckets["uat"]!)
                    stacks: \(stacks("uat"))
                    applications:
                      jira: { url: "\(uat)", credentials: { token: env:RELAY_TEST_TOKEN } }
                    tests:
                      functional: [jira]
                      project: TEST
                      perf: { mix: jira, users: 2, hold: 1, p90: 10000, compliance: { minimumMinutes: 0, minimumUsers: 2 } }
                  prod:
                    account: main
                    deployBucket: \(buckets["prod"]!)
                    stacks: \(stacks("prod"))
                    applications:
                      jira:
                        url: "\(prod)"
                        credentials: { token: env:RELAY_TEST_TOKEN }
                        database: \(db(prodDB))
                        sharedHome: \(root)/prod-home
                        version: "8.11.0"
                    tests:
                      smoke: { jira: { issue: TEST-1 } }
                      waivers: { commit: "the test's PROD is one simulator, not EC2 instances with a release marker" }
                """
        }

        var pipeline: Pipeline {
            var environment = Sandbox.environment
            environment["RELAY_TEST_TOKEN"] = AtlassianSimulator.User.admin.token
            var pipeline = Pipeline(config: config, environment: environment)
            pipeline.applicationControl["dev"] = .init(
                stop: { _ in
                    if let simulator = self.dev.withLock({ value in
                        defer { value = nil }; return value
                    }) {
                        await simulator.stop()
                    }
                },
                start: { _ in
                    let simulator = try await AtlassianSimulator.start(
                        .init(product: .jira, database: self.devDB), port: self.devPort)
                    self.dev.withLock { $0 = simulator }
                })
            return pipeline
        }

        var options: Pipeline.Options {
            .init(reportDirectory: "\(root)/reports", workDirectory: "\(root)/work", pollInterval: .milliseconds(200))
        }

        /// Every key in the four buckets.
        func objects() async throws -> [String: [String]] {
            var result: [String: [String]] = [:]
            for (name, bucket) in buckets {
                result[name] = try await s3.listAllObjects(bucket: bucket).map(\.key).sorted()
            }
            return result
        }

        func devTitle() async throws -> String? {
            try await withResource {
                try await JiraSettingsStore.open(devDB)
            } cleanup: { store in
                await store.close()
            } body: { store in
                try await store.properties()["jira.title"].map { "\($0)" }
            }
        }

        func stack(_ environment: String) async throws -> String? {
            try await cloudFormation.describeStack("\(tag)-\(environment)-app").map { "\($0.status)" }
        }

        func close() async {
            for simulator in [dev.withLock { $0 }, uat, prod].compactMap({ $0 }) { await simulator.stop() }
            for environment in ["dev", "uat", "prod"] {
                try? await cloudFormation.deleteStack("\(tag)-\(environment)-app")
            }
            for database in [prodDB, devDB, uatDB] { await Sandbox.dropDatabase(database.database) }
            for bucket in buckets.values { try? await Sandbox.deleteBucket(s3.aws, bucket) }
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    @Test func nightlyThenUATThenGoLiveWithEveryGuardInTheWay() async throws {
        try await withResource {
            try await World()
        } cleanup: { world in
            await world.close()
        } body: { world in
            try await Self.nightlyThenUATThenGoLive(in: world)
        }
    }

    /// The JSON report a CodeBuild run of `phase` wrote for `commit`.
    static func report(_ run: CodeBuildRun.Result, _ phase: String, _ commit: String) throws -> RunReport {
        let file = "\(run.sourceDirectory)/reports/\(phase)-\(commit.prefix(12)).json"
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(RunReport.self, from: try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    /// The body of ``nightlyThenUATThenGoLiveWithEveryGuardInTheWay()``, in a world of its own.
    static func nightlyThenUATThenGoLive(in world: World) async throws {
        let pipeline = world.pipeline
        let commit = try await pipeline.resolve("master", phase: .nightly)

        // --dry-run changes nothing: no snapshot, release or pass; no stack; DEV's settings as they were.
        let before = try await world.objects()
        let titleBefore = try await world.devTitle()
        let dry = try await pipeline.run(.nightly, commit: commit, dryRun: true, options: world.options)
        #expect(dry.steps.map(\.outcome) == Array(repeating: .planned, count: 5), "\(dry.text)")
        #expect(dry.steps[1].message?.contains("restore") == true, "\(dry.text)")
        #expect(try await world.objects() == before)
        #expect(try await world.devTitle() == titleBefore)
        #expect(try await world.stack("dev") == nil)

        // UAT refuses a commit that has not passed nightly, and writes nothing.
        let early = try await pipeline.run(.uat, commit: commit, options: world.options)
        #expect(!early.passed)
        #expect(early.steps[0].message?.contains("has not passed nightly") == true, "\(early.text)")
        #expect(early.steps.dropFirst().allSatisfy { $0.outcome == .skipped })
        #expect(try await world.objects()["uat"] == [])

        // A failing App-Tester blocks the passed record.
        // The refresh restarts DEV's simulator, so the failure is scripted into its start.
        var broken = pipeline
        let original = try #require(pipeline.applicationControl["dev"])
        broken.applicationControl["dev"] = .init(
            stop: original.stop,
            start: { name in
                try await original.start(name)
                world.dev.withLock { $0?.fail(.init(pathPrefix: "/rest/api/2/search", status: 500)) }
            })
        let failed: RunReport? = try await broken.run(.nightly, commit: commit, options: world.options)
        let failedNightly = try #require(failed)
        #expect(
            failedNightly.steps.map(\.outcome) == [.passed, .passed, .passed, .passed, .failed], "\(failedNightly.text)"
        )
        #expect(failedNightly.steps[4].message?.contains("HTTP 500") == true, "\(failedNightly.text)")
        #expect(try await world.objects()["dev"]?.contains("passed/nightly/\(commit).json") == false)
        #expect(try await world.stack("dev") != nil)

        // Nightly passes once the app is healthy: DEV has PROD's data but DEV's settings, and the pass is recorded.
        world.dev.withLock { $0?.clearFailures() }
        let nightly = try await pipeline.run(.nightly, commit: commit, options: world.options)
        #expect(nightly.passed, "\(nightly.text)")
        #expect(try await world.objects()["dev"]?.contains("passed/nightly/\(commit).json") == true)
        #expect(try await world.devTitle()?.contains("Jira DEV") == true)
        #expect(FileManager.default.fileExists(atPath: "\(world.root)/dev-home/data/attachments/1"))
        #expect(FileManager.default.fileExists(atPath: "\(world.root)/reports/nightly-\(commit.prefix(12)).xml"))
        // The cold deployer gave every stack the commit as its CodeVersion.
        let ssm = SSMClient(try Sandbox.motoAWSClient())
        #expect(try await ssm.parameter("/\(world.tag)-dev/code-version") == commit)

        // UAT, as the uat CodeBuild project runs it (its buildspec out of the template, the tools
        // from a tarball, the config from the artifacts bucket, no checkout): promoted, deployed,
        // tested, loaded, and the release's Jira issue told.
        let uatRun = try await CodeBuildRun.run(
            "UatProject", tools: ["uat"], config: world.yaml,
            variables: [
                "COMMIT_ID": commit, "DEPLOYER": "cold",
                "RELAY_TEST_TOKEN": pipeline.environment["RELAY_TEST_TOKEN"] ?? "",
            ], s3: world.s3, in: "\(world.root)/codebuild-uat")
        #expect(uatRun.status == 0, "\(uatRun.output)")
        let uat = try Self.report(uatRun, "uat", commit)
        #expect(uat.passed && uat.commit == commit, "\(uat.text)")
        #expect(uat.steps.first { $0.name == "invite" }?.figures["issues"] == "TEST-1")
        #expect(uatRun.output.contains("templates from the release in s3://\(world.buckets["dev"]!)"), "\(uatRun.output)")
        #expect(world.prod.requests.contains { $0.method == "POST" && $0.path == "/rest/api/2/issue/TEST-1/comment" })
        #expect(try await world.objects()["uat"]?.contains("passed/uat/\(commit).json") == true)

        // After the commit passed UAT, the base branch moves on with a changed template: go-live
        // deploys the template that passed (from the release), not the checkout's.
        let repository = "\(world.root)/infra"
        try Data(World.template.replacingOccurrences(of: "/code-version", with: "/changed").utf8)
            .write(to: URL(fileURLWithPath: "\(repository)/cloudformation/app.yaml"))
        for arguments in [
            ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "TEST-2: rename"],
        ] {
            let output = try await ProcessRunner.run("/usr/bin/git", ["-C", repository] + arguments, timeout: .seconds(30))
            #expect(output.status == 0, "git \(arguments): \(output.errorText)")
        }

        // go-live refuses without --confirm-prod, before anything runs.
        let unconfirmed = await #expect(throws: PipelineError.self) {
            try await pipeline.run(.goLive, commit: commit, options: world.options)
        }
        #expect(unconfirmed?.kind == .productionWriteUnconfirmed)
        #expect(unconfirmed?.description.contains("--confirm-prod") == true)  // the advice is the contract
        #expect(try await world.objects()["prod"] == [])
        #expect(try await world.stack("prod") == nil)

        // With it, PROD gets the commit, and DEV and UAT are not touched.
        let devAndUAT = try await world.objects().filter { $0.key == "dev" || $0.key == "uat" }
        var confirmed = world.options
        confirmed.confirmProduction = true
        let plan = try await pipeline.run(.goLive, commit: commit, dryRun: true, options: confirmed)
        #expect(plan.steps[1].message?.contains("templates from the release in s3://\(world.buckets["uat"]!)") == true, "\(plan.text)")
        // As the go-live CodeBuild project runs it, with no repository: on the config, stacks
        // and templates of the release that passed (--from-release), the checkout's changed
        // template nowhere in it.
        let released = try await pipeline.fetchRelease(for: .goLive, commit: commit, workDirectory: "\(world.root)/work")
        #expect(released.directory == "\(world.root)/work/release/\(commit)")
        #expect(!FileManager.default.fileExists(atPath: released.directory + "/.git"))
        #expect(try String(contentsOfFile: released.path("cloudformation/app.yaml"), encoding: .utf8).contains("/code-version"))
        #expect(released.environments["prod"]?.stacks == world.config.environments["prod"]?.stacks)
        let fromNightly = await #expect(throws: PipelineError.self) {
            try await pipeline.fetchRelease(for: .nightly, commit: commit, workDirectory: "\(world.root)/work")
        }
        #expect(fromNightly?.kind == .unknownStep)
        // And the whole of it as the go-live project runs: its buildspec out of the template,
        // the tools unpacked from a tarball, the config from the artifacts bucket, no checkout.
        let codeBuild = "\(world.root)/codebuild-go-live"
        let live = try await CodeBuildRun.run(
            "GoLiveProject", tools: ["go-live"], config: world.yaml,
            variables: [
                "COMMIT_ID": commit, "DEPLOYER": "cold",
                "RELAY_TEST_TOKEN": pipeline.environment["RELAY_TEST_TOKEN"] ?? "",
            ], s3: world.s3, in: codeBuild)
        #expect(live.status == 0, "\(live.output)")
        let report = try Self.report(live, "go-live", commit)
        #expect(report.passed && report.commit == commit, "\(report.text)")
        #expect(live.output.contains("templates from the release in s3://\(world.buckets["uat"]!)"), "\(live.output)")
        #expect((try? await SSMClient(try Sandbox.motoAWSClient()).parameter("/\(world.tag)-prod/changed")) == nil)
        #expect(try await world.objects().filter { $0.key == "dev" || $0.key == "uat" } == devAndUAT)
        #expect(try await world.objects()["prod"]?.contains("releases/\(commit)/code.tar") == true)
        #expect(try await world.stack("prod")?.contains("COMPLETE") == true)
        #expect(try await ssm.parameter("/\(world.tag)-prod/code-version") == commit)

        // The smoke test cannot show that PROD runs the release without the version it expects:
        // without one the step fails, unless waived (which the figures carry).
        let versioned = try world.config.environment("prod")
        for waiver in [nil, "versions are not tracked here"] {
            var config = world.config
            config.environments["prod"]?.applications?["jira"]?.version = nil
            config.environments["prod"]?.tests?.waivers?["version"] = waiver
            let smoke = try Pipeline(config: config, environment: pipeline.environment).smokeTester(commit: commit)
            if let waiver {
                #expect(try await smoke.run()["waived"]?.hasPrefix(waiver + "; ") == true)
            } else {
                let failure = await #expect(throws: StepFailed.self) { try await smoke.run() }
                #expect(failure?.description.contains("applications.jira.version") == true, "\(String(describing: failure))")
            }
        }
        #expect(versioned.application(.jira)?.version == "8.11.0")

        // Nightly can never write to PROD, even when asked to.
        let nightlyWrite = #expect(throws: PipelineError.self) {
            try ProductionGuard(production: "prod", confirmed: true).check(
                phase: .nightly, writingTo: "prod", step: "x")
        }
        #expect(nightlyWrite?.kind == .productionWriteOutsideGoLive)
    }
}
