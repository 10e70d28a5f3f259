import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import S3Sync
import StackDeploy
import Testing

@testable import Pipeline

/// A commit travels DEV → UAT → PROD across three accounts, as in AWS: DEV (123456789012, the
/// pipeline's own credentials), UAT (222222222222) and PROD (333333333333), each reached only
/// through the deploy role `pipeline.yml` names for it. moto keeps each account's state apart
/// for credentials from AssumeRole into it; the deploy buckets are in moto's S3 here, because
/// SeaweedFS has no STS to honour those credentials.
struct ThreeAccountTests {
    static let accounts = ["dev": "123456789012", "uat": "222222222222", "prod": "333333333333"]

    static func assumed(_ account: String, _ role: String) throws -> AWSClient {
        let credentials = AssumeRoleCredentialProvider(
            AssumeRoleSettings(roleArn: "arn:aws:iam::\(accounts[account]!):role/\(role)", sessionName: "three-accounts"),
            source: Sandbox.motoCredentials, region: "us-east-1",
            endpoints: EndpointResolver(explicitEndpoint: try Sandbox.motoEndpoint()))
        return try Sandbox.motoAWSClient(credentials: credentials)
    }

    @Test func aCommitTravelsFromDEVThroughUATToPRODEachInItsOwnAccount() async throws {
        let tag = "x" + UUID().uuidString.lowercased().prefix(8)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("three-\(tag)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        // Each account's clients: DEV's own, UAT's and PROD's through their admin role.
        let clients = [
            "dev": try Sandbox.motoAWSClient(), "uat": try Self.assumed("uat", "OrganizationAccountAccessRole"),
            "prod": try Self.assumed("prod", "OrganizationAccountAccessRole"),
        ]
        var buckets: [String: String] = [:]
        for name in ["dev", "uat", "prod"] { buckets[name] = try await Sandbox.makeBucket(clients[name]!, prefix: "3a-\(name)") }
        buckets["snapshots"] = try await Sandbox.makeBucket(clients["dev"]!, prefix: "3a-snap")

        // The infrastructure repository: one template and the config.
        let template = PhaseTests.World.template  // records the commit it was deployed with
        func stacks(_ environment: String) -> String {
            "[{ name: \(tag)-\(environment)-app, template: cloudformation/app.yaml, parameters: { EnvironmentName: \(tag)-\(environment) } }]"
        }
        let yaml = """
            name: three-accounts
            production: prod
            accounts:
              dev: { id: "123456789012", region: us-east-1 }
              uat: { id: "222222222222", region: us-east-1, role: "arn:aws:iam::222222222222:role/atlas-uat-deployer" }
              prod: { id: "333333333333", region: us-east-1, role: "arn:aws:iam::333333333333:role/atlas-prod-deployer" }
            snapshots: { account: dev, bucket: \(buckets["snapshots"]!) }
            environments:
              dev: { account: dev, deployBucket: \(buckets["dev"]!), stacks: \(stacks("dev")) }
              uat: { account: uat, deployBucket: \(buckets["uat"]!), stacks: \(stacks("uat")) }
              prod: { account: prod, deployBucket: \(buckets["prod"]!), stacks: \(stacks("prod")) }
            """
        let repository = root + "/infra"
        try FileManager.default.createDirectory(atPath: repository + "/cloudformation", withIntermediateDirectories: true)
        try template.write(toFile: repository + "/cloudformation/app.yaml", atomically: true, encoding: .utf8)
        try yaml.write(toFile: repository + "/pipeline.yml", atomically: true, encoding: .utf8)
        for arguments in [
            ["init", "-q", "-b", "master"], ["add", "-A"],
            ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "TEST-1: three accounts"],
        ] {
            let output = try await ProcessRunner.run("/usr/bin/git", ["-C", repository] + arguments, timeout: .seconds(30))
            #expect(output.status == 0, "git \(arguments): \(output.errorText)")
        }
        var environment = Sandbox.environment
        environment["AWS_ENDPOINT_URL_S3"] = try Sandbox.motoEndpoint()
        let pipeline = Pipeline(config: try PipelineConfig.load(repository + "/pipeline.yml"), environment: environment)
        var options = Pipeline.Options(workDirectory: root + "/work", pollInterval: .milliseconds(200))
        let commit = try await pipeline.resolve("HEAD", phase: .nightly)

        // DEV: released and deployed with the pipeline's own credentials; the pass recorded as
        // nightly's whole run would (the run here leaves out the data steps, so it records none).
        let nightly = try await pipeline.run(
            .nightly, commit: commit, selection: .init(only: ["code-releaser", "cold-deployer"]), options: options)
        #expect(nightly.steps.filter { $0.outcome == .passed }.count == 2, "\(nightly.text)")
        try await CodeReleaser.recordPass(
            commit: commit, phase: "nightly", in: pipeline.deployBucket(try pipeline.config.environment("dev")))

        // UAT: promoted and deployed through UAT's role, into UAT's account.
        let uat = try await pipeline.run(
            .uat, commit: commit, selection: .init(only: ["code-releaser", "deployer"]), options: options)
        #expect(uat.steps.filter { $0.outcome == .passed }.count == 2, "\(uat.text)")
        try await CodeReleaser.recordPass(
            commit: commit, phase: "uat", in: pipeline.deployBucket(try pipeline.config.environment("uat")))

        // PROD: through PROD's role, into PROD's account.
        options.confirmProduction = true
        let live = try await pipeline.run(
            .goLive, commit: commit, selection: .init(only: ["code-releaser", "deployer"]), options: options)
        #expect(live.steps.filter { $0.outcome == .passed }.count == 2, "\(live.text)")

        // Each environment's stack and parameter are in its own account only, and each account's
        // bucket holds the release.
        for (name, _) in Self.accounts.sorted(by: { $0.key < $1.key }) {
            for (other, client) in clients.sorted(by: { $0.key < $1.key }) {
                let stack = try await CloudFormationClient(client).describeStack("\(tag)-\(name)-app")
                #expect((stack != nil) == (other == name), "\(tag)-\(name)-app in \(other)'s account: \(String(describing: stack?.status))")
            }
            let version = try await SSMClient(clients[name]!).parameter("/\(tag)-\(name)/code-version")
            #expect(version == commit, "\(name)")
            let release = try await S3Client(clients[name]!).getObjectData(
                bucket: buckets[name]!, key: "releases/\(commit)/manifest.json")
            #expect(release != nil, "no release in \(name)'s bucket")
        }
    }
}
