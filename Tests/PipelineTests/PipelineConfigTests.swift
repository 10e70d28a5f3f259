import Foundation
import Testing

@testable import Pipeline

@Suite struct PipelineConfigTests {
    static let sandboxConfig = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Examples/sandbox/pipeline.yml").standardized.path

    static func parse(_ text: String) throws -> PipelineConfig {
        try PipelineConfig.parse(text, file: "pipeline.yml", directory: "/nonexistent")
    }

    static let minimal = """
        name: t
        production: prod
        accounts:
          dev: { id: "111111111111", region: eu-west-1 }
          prod: { id: "222222222222", region: eu-west-1, role: "arn:aws:iam::222222222222:role/deployer" }
        environments:
          dev:
            account: dev
            deployBucket: dev-deploy
            applications:
              jira: { url: "https://jira.dev.example.com", credentials: { token: "env:DEV_TOKEN" } }
          prod:
            account: prod
            deployBucket: prod-deploy
            applications:
              jira: { url: "https://jira.example.com", credentials: { user: admin, password: "ssm:/prod/jira/admin" } }
        """

    @Test func theSandboxConfigLoadsAndMapsToTheModules() throws {
        let config = try PipelineConfig.load(Self.sandboxConfig)
        #expect(config.production == "prod")
        let dev = try config.environment("dev")
        #expect(config.account(of: dev).region == "us-east-1")
        let specs = config.stackSpecs(of: dev)
        #expect(specs.map(\.name) == ["dev-network", "dev-database", "dev-jira", "dev-confluence"])
        #expect(specs[1].dependsOn == ["dev-network"])
        #expect(specs[2].parameters["EnvironmentName"] == .value("dev"))
        #expect(specs[2].dependsOn == ["dev-database"])
        guard case .file(let template) = specs[0].template else { Issue.record("not a file"); return }
        #expect(FileManager.default.fileExists(atPath: template))
        let settings = config.settings(of: dev)
        #expect(settings.environment == "dev" && !settings.isProduction)
        #expect(settings.productionBaseURLs == ["http://127.0.0.1:18083", "http://127.0.0.1:18093"])
        #expect(settings.jira?.mailDisabled == true)
        #expect(dev.applications?["jira"]?.database?.password == SecretReference("env:PGPASSWORD"))
        #expect(config.settings(of: config.productionEnvironment).isProduction)
    }

    @Test func eachPurposeUsesItsOwnRole() throws {
        let text = Self.minimal
            .replacingOccurrences(
                of: "role: \"arn:aws:iam::222222222222:role/deployer\" }",
                with:
                    "role: \"arn:aws:iam::222222222222:role/deployer\", readRole: \"arn:aws:iam::222222222222:role/reader\" }"
            )
            .replacingOccurrences(
                of: "environments:\n",
                with:
                    "snapshots: { account: prod, bucket: snaps, role: \"arn:aws:iam::222222222222:role/data\" }\nenvironments:\n"
            )
        let pipeline = Pipeline(config: try Self.parse(text), environment: [:])
        #expect(pipeline.clients["prod"]?.role == "arn:aws:iam::222222222222:role/deployer")
        #expect(pipeline.readers["prod"]?.role == "arn:aws:iam::222222222222:role/reader")
        #expect(pipeline.clients["dev"]?.role == nil && pipeline.readers["dev"]?.role == nil)
        #expect(pipeline.snapshotClients?.role == "arn:aws:iam::222222222222:role/data")
        let noSnapshots = Pipeline(config: try Self.parse(Self.minimal), environment: [:])
        #expect(noSnapshots.snapshotClients == nil)
    }

    @Test func problemsPointAtTheLineAndTheKey() throws {
        // A typo in a key, with a suggestion.
        let typo = Self.minimal.replacingOccurrences(of: "deployBucket: dev-deploy", with: "deployBuckt: dev-deploy")
        let error = try #require(throws: PipelineConfigError.self) { try Self.parse(typo) }
        #expect(
            error.description
                == "pipeline.yml:9:5: environments.dev.deployBuckt: unknown key 'deployBuckt' (did you mean 'deployBucket'?)"
        )

        // A missing key names the mapping it is missing from.
        let missing = Self.minimal.replacingOccurrences(of: "    deployBucket: prod-deploy\n", with: "")
        let missingError = try #require(throws: PipelineConfigError.self) { try Self.parse(missing) }
        #expect(missingError.description.hasPrefix("pipeline.yml:13:5: environments.prod: missing key 'deployBucket'"))

        // A wrong type.
        let wrongType = Self.minimal.replacingOccurrences(of: "name: t", with: "name: [t]")
        let typeError = try #require(throws: PipelineConfigError.self) { try Self.parse(wrongType) }
        #expect(typeError.description == "pipeline.yml:1:7: name: expected a single value, found a list")
    }

    @Test func inlineSecretsAreRefusedWithoutBeingRepeated() throws {
        let inline = Self.minimal.replacingOccurrences(of: "\"env:DEV_TOKEN\"", with: "s3cr3t-t0ken")
        let error = try #require(throws: PipelineConfigError.self) { try Self.parse(inline) }
        #expect(error.description.contains("environments.dev.applications.jira.credentials.token"))
        #expect(error.description.contains("inline secrets are refused"))
        #expect(!error.description.contains("s3cr3t"))

        let inURL = Self.minimal.replacingOccurrences(
            of: "credentials: { token: \"env:DEV_TOKEN\" } }",
            with:
                "credentials: { token: \"env:DEV_TOKEN\" }, database: { url: \"postgres://jira:hunter2@db:5432/jira\" } }"
        )
        let urlError = try #require(throws: PipelineConfigError.self) { try Self.parse(inURL) }
        #expect(urlError.description.contains("the URL holds a password"))
        #expect(!urlError.description.contains("hunter2"))
    }

    @Test func crossReferencesAndPRODURLsAreChecked() throws {
        let bad = Self.minimal
            .replacingOccurrences(of: "production: prod", with: "production: live")
            .replacingOccurrences(of: "account: dev\n", with: "account: staging\n")
            .replacingOccurrences(of: "https://jira.dev.example.com", with: "https://jira.example.com/")
        let error = try #require(throws: PipelineConfigError.self) { try Self.parse(bad) }
        #expect(error.problems.count == 2, "\(error)")
        #expect(
            error.problems.contains { $0.contains("production: 'live' is not one of the environments (dev, prod)") })
        #expect(error.problems.contains { $0.contains("environments.dev.account: unknown account 'staging'") })

        let control = Self.minimal.replacingOccurrences(
            of: "    deployBucket: dev-deploy\n",
            with: "    deployBucket: dev-deploy\n    control: { stop: \"x\", autoScalingGroup: g }\n")
        let controlError = try #require(throws: PipelineConfigError.self) { try Self.parse(control) }
        #expect(
            controlError.description.contains(
                "environments.dev.control: give stop and start commands, or autoScalingGroup"))

        let prodURL = Self.minimal.replacingOccurrences(
            of: "https://jira.dev.example.com", with: "https://JIRA.example.com/")
        let urlError = try #require(throws: PipelineConfigError.self) { try Self.parse(prodURL) }
        #expect(
            urlError.description.contains("environments.dev.applications.jira.url: https://JIRA.example.com/ is PROD's")
        )
    }

    /// `dev` and `uat` with their databases and shared homes, `refresh` sections given by the test.
    static func refreshing(dev: String?, uat: String?, prod: String? = nil) -> String {
        func environment(_ name: String, _ refresh: String?) -> String {
            """
              \(name):
                account: dev
                deployBucket: \(name)-deploy
                applications:
                  jira:
                    url: "https://jira.\(name).example.com"
                    credentials: { user: atlas-relay, password: "env:PASSWORD" }
                    database: { url: "postgres://relay@127.0.0.1/jira_\(name)", password: "env:PGPASSWORD", owner: jira }
                    sharedHome: /srv/\(name)/jira
            \(refresh.map { "    refresh: \($0)\n" } ?? "")
            """
        }
        return """
            name: t
            production: prod
            accounts:
              dev: { id: "111111111111", region: eu-west-1 }
              prod: { id: "222222222222", region: eu-west-1 }
            snapshots: { account: prod, bucket: snaps }
            environments:
            \(environment("dev", dev))\(environment("uat", uat))
              prod:
                account: prod
                deployBucket: prod-deploy
                applications:
                  jira:
                    url: "https://jira.example.com"
                    database: { url: "postgres://relay@127.0.0.1/jira_prod", password: "env:PGPASSWORD" }
                    sharedHome: /srv/prod/jira
            \(prod.map { "    refresh: \($0)\n" } ?? "")
            """
    }

    /// Static credentials, so no step looks for others (instance metadata) while it is built.
    static let awsKeys = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example"]

    @Test func refreshSectionsChooseWhatNightlyAndUATRefresh() throws {
        // No refresh section anywhere: nightly refreshes dev, as before.
        let plain = try Self.parse(Self.refreshing(dev: nil, uat: nil))
        #expect(plain.nightlyRefreshes.map(\.name) == ["dev"])

        // Marked environments, in name order; nightly: false only on demand.
        let both = try Self.parse(Self.refreshing(dev: "{ jobs: 4, reindex: foreground }", uat: "{ nightly: true }"))
        #expect(both.nightlyRefreshes.map(\.name) == ["dev", "uat"])
        let pipeline = Pipeline(config: both, environment: Self.awsKeys)
        let nightly = try pipeline.steps(.nightly, commit: "c0ffee", options: .init())
        #expect(nightly.map(\.name).prefix(3) == ["data-provider", "data-refresher", "data-refresher-uat"])
        #expect(both.environments["dev"]?.refresh?.jobs == 4)
        #expect(both.environments["dev"]?.applications?["jira"]?.database?.owner == "jira")

        let onDemand = try Self.parse(
            Self.refreshing(dev: "{}", uat: "{ nightly: false, keepFromProduction: [jira.webhooks.off] }"))
        #expect(onDemand.nightlyRefreshes.map(\.name) == ["dev"])
        let uatPipeline = Pipeline(config: onDemand, environment: Self.awsKeys)
        #expect(try uatPipeline.steps(.uat, commit: "c0ffee", options: .init()).first?.name == "code-releaser")
        let refreshed = try uatPipeline.steps(.uat, commit: "c0ffee", options: .init(refresh: true))
        #expect(refreshed.map(\.name).prefix(2) == ["data-refresher", "code-releaser"])
        #expect(refreshed.first?.writesTo == "uat")
        // The policy reaches the refresher's settings.
        #expect(onDemand.settings(of: try onDemand.environment("uat")).sanitisation.off == ["jira.webhooks.off"])
        #expect(onDemand.settings(of: try onDemand.environment("dev")).sanitisation.off == [])
    }

    @Test func aRefreshSectionIsCheckedWhenTheFileLoads() throws {
        let error = try #require(throws: PipelineConfigError.self) {
            try Self.parse(
                Self.refreshing(
                    dev: "{ jobs: 0, maxDelete: lots, reindex: sometimes, keepFromProduction: [jira.mail.everything] }",
                    uat: "{ licences: { confluence: \"env:LICENCE\" } }", prod: "{}"))
        }
        let text = "\(error)"
        #expect(text.contains("environments.prod.refresh: prod is PROD; a refresh never writes to PROD"), "\(text)")
        #expect(text.contains("environments.dev.refresh.jobs: jobs is at least 1"), "\(text)")
        #expect(text.contains("environments.dev.refresh.maxDelete: maxDelete is a number of files"), "\(text)")
        #expect(text.contains("reindex is background, foreground, none, not 'sometimes'"), "\(text)")
        #expect(text.contains("unknown sanitisation step 'jira.mail.everything'"), "\(text)")
        #expect(text.contains("environments.uat.refresh.licences.confluence: uat has no application 'confluence'"), "\(text)")
        // An inline licence is a secret: refused like any other.
        #expect(throws: PipelineConfigError.self) {
            try Self.parse(Self.refreshing(dev: "{ licences: { jira: AAAB-licence-text } }", uat: nil))
        }
    }

    @Test func aDumpFormatOrJobCountThatPgDumpHasNotIsRefusedAtItsKey() throws {
        let good = Self.refreshing(dev: nil, uat: nil).replacingOccurrences(
            of: "snapshots: { account: prod, bucket: snaps }",
            with: "snapshots: { account: prod, bucket: snaps, dumpFormat: directory, dumpJobs: 3 }")
        let config = try Self.parse(good)
        #expect(config.snapshots?.dumpFormat == "directory" && config.snapshots?.dumpJobs == 3)
        let bad = good.replacingOccurrences(of: "dumpFormat: directory, dumpJobs: 3", with: "dumpFormat: tar, dumpJobs: 0")
        let error = try #require(throws: PipelineConfigError.self) { try Self.parse(bad) }
        #expect(Set(error.issues.map(\.keyPath)) == [["snapshots", "dumpFormat"], ["snapshots", "dumpJobs"]])
    }

    /// dev and uat without tests, PROD without a Jira; `waivers` for both, when given.
    static func ungated(waivers: String?) -> String {
        let tests = waivers.map { "    tests: { waivers: \($0) }\n" } ?? ""
        return """
            name: t
            production: prod
            accounts: { main: { id: "111111111111", region: eu-west-1 } }
            snapshots: { account: main, bucket: snaps }
            environments:
              dev:
                account: main
                deployBucket: dev-deploy
                applications: { jira: { url: "https://jira.dev.example.com" } }
            \(tests)  uat:
                account: main
                deployBucket: uat-deploy
                applications: { jira: { url: "https://jira.uat.example.com" } }
            \(tests)  prod:
                account: main
                deployBucket: prod-deploy
                applications: { confluence: { url: "https://confluence.example.com" } }
            """
    }

    /// Gates that cannot pass on nothing: no suite, no load test, nobody to invite each fail the
    /// step; a waiver passes it, saying why.
    @Test func gatesWithoutEvidenceFailUnlessWaived() async throws {
        func step(_ name: String, _ phase: Phase, in text: String) throws -> PhaseStep {
            let pipeline = Pipeline(config: try Self.parse(text), environment: Self.awsKeys)
            return try #require(try pipeline.steps(phase, commit: "c0ffee", options: .init()).first { $0.name == name })
        }
        for (name, phase) in [("app-tester", Phase.nightly), ("perf-tester", .uat), ("invite", .uat)] {
            let strict = try step(name, phase, in: Self.ungated(waivers: nil))
            let failure = await #expect(throws: StepFailed.self, "\(name)") { try await strict.run() }
            #expect(failure?.description.contains("tests.waivers.") == true, "\(name): \(failure.map { "\($0)" } ?? "")")
        }
        let waived = Self.ungated(
            waivers: #"{ functional: "smoke only here", perf: "no load rig yet", invite: "no tracker in this estate" }"#)
        #expect(try await step("app-tester", .nightly, in: waived).run()["waived"] == "smoke only here")
        #expect(try await step("perf-tester", .uat, in: waived).run()["waived"] == "no load rig yet")
        #expect(try await step("invite", .uat, in: waived).run()["waived"] == "no tracker in this estate")

        // A waiver needs its reason, and only known gates can be waived.
        let empty = try #require(throws: PipelineConfigError.self) {
            try Self.parse(Self.ungated(waivers: #"{ perf: "" }"#))
        }
        #expect("\(empty)".contains("a waiver needs its reason"), "\(empty)")
        let unknown = try #require(throws: PipelineConfigError.self) {
            try Self.parse(Self.ungated(waivers: #"{ smoke: "later" }"#))
        }
        #expect("\(unknown)".contains("smoke"), "\(unknown)")
    }

    @Test func secretsResolveFromTheEnvironmentAndNeverShowTheirValue() async throws {
        let resolver = SecretResolver(environment: ["DEV_TOKEN": "abc"])
        #expect(try await resolver.resolve(#require(SecretReference("env:DEV_TOKEN"))) == "abc")
        let missing = try #require(SecretReference("env:NOPE"))
        let error = try await #require(throws: PipelineError.self) { try await resolver.resolve(missing) }
        #expect(error.kind == .secretUnavailable)
        #expect(error.description.contains("env:NOPE"))  // names the reference
        #expect(SecretReference("plain") == nil && SecretReference("vault:x") == nil && SecretReference("env:") == nil)
    }

    @Test func theGuardLetsOnlyAConfirmedGoLiveWriteToPROD() throws {
        let unconfirmed = ProductionGuard(production: "prod", confirmed: false)
        let refused = #expect(throws: PipelineError.self) {
            try unconfirmed.check(phase: .goLive, writingTo: "prod", step: "deployer")
        }
        #expect(refused?.kind == .productionWriteUnconfirmed)
        let confirmed = ProductionGuard(production: "prod", confirmed: true)
        try confirmed.check(phase: .goLive, writingTo: "prod", step: "deployer")
        let error = try #require(throws: PipelineError.self) {
            try confirmed.check(phase: .nightly, writingTo: "prod", step: "cold-deployer")
        }
        #expect(error.kind == .productionWriteOutsideGoLive)
        try unconfirmed.check(phase: .uat, writingTo: "uat", step: "deployer")
    }

    @Test func stackOutputsFeedParametersAndUnknownStacksAreNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID())").path
        try FileManager.default.createDirectory(atPath: "\(directory)/cf", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("Resources: {}".utf8).write(to: URL(fileURLWithPath: "\(directory)/cf/t.yaml"))
        let stacks = """
                stacks:
                  - { name: dev-net, template: cf/t.yaml }
                  - { name: dev-app, template: cf/t.yaml, parameters: { VpcId: { output: dev-net.VpcId } } }
                  - { name: dev-bad, template: cf/missing.yaml, parameters: { X: { output: dev-nett.Y } }, dependsOn: [dev-db] }
            """
        let text = Self.minimal.replacingOccurrences(
            of: "    deployBucket: dev-deploy\n", with: "    deployBucket: dev-deploy\n\(stacks)\n")
        let error = try #require(throws: PipelineConfigError.self) {
            try PipelineConfig.parse(text, file: "p.yml", directory: directory)
        }
        #expect(error.problems.count == 3, "\(error)")
        #expect(
            error.problems.contains {
                $0.contains("environments.dev.stacks.2.template: no template at \(directory)/cf/missing.yaml")
            })
        #expect(
            error.problems.contains {
                $0.contains("environments.dev.stacks.2.parameters.X: 'dev-nett' is not a stack of dev")
            })
        #expect(
            error.problems.contains {
                $0.contains("environments.dev.stacks.2.dependsOn: 'dev-db' is not a stack of dev")
            })
        let good = text.components(separatedBy: "\n").filter { !$0.contains("dev-bad") }.joined(separator: "\n")
        let config = try PipelineConfig.parse(good, file: "p.yml", directory: directory)
        let specs = config.stackSpecs(of: try config.environment("dev"))
        #expect(specs[1].parameters["VpcId"] == .output(stack: "dev-net", key: "VpcId"))
        #expect(specs[1].tags["atlas-relay:environment"] == "dev")
    }

    @Test func stacksNameWhatTheRiskGateMayLetThroughAndEnvironmentsAddStatefulTypes() throws {
        let text = Self.minimal.replacingOccurrences(
            of: "    deployBucket: prod-deploy\n",
            with: "    deployBucket: prod-deploy\n    deploy: { statefulTypes: [AWS::ElastiCache::ServerlessCache] }\n"
                + "    stacks: [{ name: prod-db, template: db.yaml, allowReplaceOrDelete: [Database] }]\n")
        let config = try PipelineConfig.parse(text, file: "pipeline.yml", directory: "/nonexistent", checkingFiles: false)
        let prod = try config.environment("prod")
        #expect(prod.deploy?.statefulTypes == ["AWS::ElastiCache::ServerlessCache"])
        #expect(config.stackSpecs(of: prod).first?.allowReplaceOrDelete == ["Database"])

        let wrong = text.replacingOccurrences(of: "AWS::ElastiCache::ServerlessCache", with: "ServerlessCache")
        let error = try #require(throws: PipelineConfigError.self) {
            try PipelineConfig.parse(wrong, file: "pipeline.yml", directory: "/nonexistent", checkingFiles: false)
        }
        #expect(error.issues.map(\.keyPath) == [["environments", "prod", "deploy", "statefulTypes", "0"]])
    }
}
