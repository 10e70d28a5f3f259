import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import Foundation
import S3Sync
import StackDeploy
import Testing

@testable import Pipeline

/// `dev-release bootstrap` in moto with three accounts (moto keeps each account's state apart
/// for credentials from AssumeRole into it): the roles stack goes into UAT's and PROD's own
/// accounts through their admin role, with the role names pipeline.yml uses, and the CodeBuild
/// stack plans in DEV's.
struct BootstrapTests {
    @Test func theRolesGoIntoTheirOwnAccountsAndTheCodeBuildStackPlansInDEVs() async throws {
        let tag = UUID().uuidString.lowercased().prefix(8)
        let accounts = ["dev": "123456789012", "uat": "222222222222", "prod": "333333333333"]
        let endpoints = EndpointResolver(explicitEndpoint: try Sandbox.motoEndpoint())
        // Each environment's deploy bucket in its own account (the bucket policy needs it).
        var buckets: [String: String] = [:]
        for (name, id) in accounts.sorted(by: { $0.key < $1.key }) {
            let credentials = AssumeRoleCredentialProvider(
                AssumeRoleSettings(roleArn: "arn:aws:iam::\(id):role/OrganizationAccountAccessRole", sessionName: "t"),
                source: Sandbox.motoCredentials, region: "us-east-1", endpoints: endpoints)
            buckets[name] = try await Sandbox.makeBucket(try Sandbox.motoAWSClient(credentials: credentials), prefix: "bs-\(name)")
        }
        let prefix = "bs\(tag)"
        let config = try PipelineConfig.parse(
            """
            name: bootstrap
            production: prod
            accounts:
              dev: { id: "123456789012", region: us-east-1 }
              uat: { id: "222222222222", region: us-east-1, role: "arn:aws:iam::222222222222:role/\(prefix)-uat-deployer" }
              prod:
                id: "333333333333"
                region: us-east-1
                role: "arn:aws:iam::333333333333:role/\(prefix)-prod-deployer"
                readRole: "arn:aws:iam::333333333333:role/\(prefix)-prod-reader"
            snapshots: { account: dev, bucket: snapshots-\(tag) }
            environments:
              dev: { account: dev, deployBucket: \(buckets["dev"]!) }
              uat: { account: uat, deployBucket: \(buckets["uat"]!) }
              prod: { account: prod, deployBucket: \(buckets["prod"]!) }
            """, file: "pipeline.yml", directory: Sandbox.repositoryRoot.path)
        var environment = Sandbox.environment
        environment["AWS_ENDPOINT_URL_S3"] = try Sandbox.motoEndpoint()  // every bucket here is moto's
        let pipeline = Pipeline(config: config, environment: environment)
        let settings = Pipeline.Bootstrap(
            codeBuild: .init(
                artifactsBucket: buckets["dev"]!, toolsVersion: "v1.0.0",
                toolsRepository: "https://github.com/example/atlas-relay.git"),
            projectPrefix: prefix,
            templates: Sandbox.repositoryRoot.appendingPathComponent("Examples/codebuild").path)

        let stacks = try pipeline.bootstrapStacks(settings)
        #expect(stacks.map(\.spec.name) == ["\(prefix)-roles-uat", "\(prefix)-roles-prod", "\(prefix)-codebuild"])
        #expect(stacks.map(\.account) == ["uat", "prod", "dev"])
        let codeBuild = try #require(stacks.last?.spec.parameters)
        #expect(codeBuild["ProdDeployRoleArn"] == .value("arn:aws:iam::333333333333:role/\(prefix)-prod-deployer"))
        #expect(codeBuild["ProdReadRoleArn"] == .value("arn:aws:iam::333333333333:role/\(prefix)-prod-reader"))
        #expect(codeBuild["UatRoleArn"] == .value("arn:aws:iam::222222222222:role/\(prefix)-uat-deployer"))

        // The plan of all three, as `dev-release bootstrap --dry-run` prints it.
        let plan = try await pipeline.bootstrap(settings, configFile: "pipeline.yml", dryRun: true)
        #expect(plan.count == 4 && plan[2].contains("AWS::CodeBuild::Project"), "\(plan)")

        // The roles stacks for real, as `dev-release bootstrap --roles-only` deploys them (moto
        // cannot execute the CodeBuild stack: it has no CodeBuild resources in CloudFormation),
        // each in its own account, none in DEV's, and no config uploaded.
        // (moto leaves the stacks' Outputs empty, so the roles are read from IAM in each account.)
        var rolesOnly = settings
        rolesOnly.codeBuild = nil
        #expect(try pipeline.bootstrapStacks(rolesOnly).map(\.spec.name) == stacks.dropLast().map(\.spec.name))
        let lines = try await pipeline.bootstrap(
            rolesOnly, configFile: "pipeline.yml", dryRun: false, pollInterval: .milliseconds(200))
        #expect(lines.count == 2 && lines.allSatisfy { $0.contains(": created") }, "\(lines)")
        let configKey = try await S3Client(try Sandbox.motoAWSClient()).getObjectData(
            bucket: buckets["dev"]!, key: "atlas-relay/pipeline.yml")
        #expect(configKey == nil, "--roles-only uploaded the config")
        let iam = AWSService(signingName: "iam", environmentId: "IAM", wireProtocol: .query(apiVersion: "2010-05-08"))
        for stack in stacks.dropLast() {
            let id = accounts[stack.account]!
            let names =
                stack.account == "uat"
                ? ["\(prefix)-uat-deployer", "\(prefix)-uat-deployer-read"]
                : ["\(prefix)-prod-deployer", "\(prefix)-prod-reader"]
            let admin = AssumeRoleCredentialProvider(
                AssumeRoleSettings(roleArn: "arn:aws:iam::\(id):role/OrganizationAccountAccessRole", sessionName: "t"),
                source: Sandbox.motoCredentials, region: "us-east-1", endpoints: endpoints)
            let there = try Sandbox.motoAWSClient(credentials: admin)
            for name in names {
                var parameters = QueryParameters()
                parameters.set("RoleName", name)
                let role = try await there.query(iam, action: "GetRole", parameters: parameters)
                #expect(role.child("Role")?.string("Arn") == "arn:aws:iam::\(id):role/\(name)")
                let inDevIAM = await #expect(throws: AWSServiceError.self) {
                    try await Sandbox.motoAWSClient().query(iam, action: "GetRole", parameters: parameters)
                }
                #expect(inDevIAM?.code == "NoSuchEntity")
            }
            let inDev = try await CloudFormationClient(try Sandbox.motoAWSClient()).describeStack(stack.spec.name)
            #expect(inDev == nil, "\(stack.spec.name) is in DEV's account too")
        }

        // Without a role for PROD's account there is nothing go-live could deploy through.
        var roleless = config
        roleless.accounts["prod"]?.role = nil
        let refused = #expect(throws: PipelineError.self) {
            try Pipeline(config: roleless, environment: environment).bootstrapStacks(settings)
        }
        #expect(refused?.kind == .incompleteConfig)
    }
}
