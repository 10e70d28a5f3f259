import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import Foundation
import S3Sync
import Testing

@testable import StackDeploy

/// The deployer against moto's CloudFormation: create, update, no-op, plan, outputs feeding
/// other stacks, termination protection, templates over the inline limit.
struct MotoStackDeployTests {
    static func aws() throws -> AWSClient { try Sandbox.motoAWSClient() }

    static func deployer(templateBucket: StackDeployer.TemplateBucket? = nil) throws -> StackDeployer {
        StackDeployer(
            cloudFormation: CloudFormationClient(try aws()),
            options: .init(pollInterval: .milliseconds(50), timeout: .seconds(30), templateBucket: templateBucket))
    }

    static func unique(_ base: String) -> String { "\(base)-\(UUID().uuidString.prefix(8).lowercased())" }

    /// A template with one SNS topic named after the code version, and two outputs.
    static func template(padding: Int = 0) -> String {
        let metadata = padding > 0 ? #","Metadata":{"Padding":"\#(String(repeating: "x", count: padding))"}"# : ""
        return #"""
            {"Parameters":{"CodeVersion":{"Type":"String"},"Upstream":{"Type":"String","Default":"none"}},
             "Resources":{"Topic":{"Type":"AWS::SNS::Topic","Properties":{"TopicName":{"Fn::Sub":"${AWS::StackName}-${CodeVersion}"}}}},
             "Outputs":{"TopicArn":{"Value":{"Ref":"Topic"}},"Version":{"Value":{"Ref":"CodeVersion"}}}\#(metadata)}
            """#
    }

    @Test func createThenNoOpThenUpdate() async throws {
        let deployer = try Self.deployer()
        let name = Self.unique("dev-jira")
        var spec = StackSpec(
            name: name, template: .body(Self.template()), parameters: ["CodeVersion": .value("a1")],
            tags: ["environment": "dev"])  // termination protection: moto lacks UpdateTerminationProtection
        let created = try await deployer.deploy(spec)
        #expect(created.outcome == .created)
        #expect(created.changes.map(\.logicalId) == ["Topic"])
        var stack = try #require(try await deployer.cloudFormation.describeStack(name))
        #expect(stack.status.category == .complete)
        #expect(stack.parameters["CodeVersion"] == "a1")
        #expect(stack.tags == ["environment": "dev"])

        #expect(try await deployer.deploy(spec).outcome == .unchanged)

        spec.parameters["CodeVersion"] = .value("b2")
        #expect(try await deployer.deploy(spec).outcome == .updated)
        stack = try #require(try await deployer.cloudFormation.describeStack(name))
        #expect(stack.parameters["CodeVersion"] == "b2")
        #expect(stack.status == StackStatus(rawValue: "UPDATE_COMPLETE"))
    }

    @Test func planShowsChangesAndLeavesNothingBehind() async throws {
        let deployer = try Self.deployer()
        let name = Self.unique("dev-plan")
        let spec = StackSpec(name: name, template: .body(Self.template()), parameters: ["CodeVersion": .value("p1")])
        let plan = try await deployer.plan(spec)
        #expect(plan.isNew)
        #expect(plan.changes.map { "\($0.action) \($0.logicalId)" } == ["Add Topic"])
        #expect(plan.text.contains("+ Topic  AWS::SNS::Topic"))
        #expect(try await deployer.cloudFormation.describeStack(name) == nil)
    }

    @Test func outputsOfAnExistingStackFeedTheStacksThatDependOnIt() async throws {
        let aws = try Self.aws()
        let network = Self.unique("dev-network")
        // moto computes outputs for CreateStack only (not after a change set), so the network
        // stack is made directly, as if it had been deployed long ago.
        var parameters = QueryParameters()
        parameters.set("StackName", network)
        parameters.set("TemplateBody", Self.template())
        parameters.setList("Parameters", [("CodeVersion", "net1")]) { pair, member in
            member.set("ParameterKey", pair.0)
            member.set("ParameterValue", pair.1)
        }
        _ = try await aws.query(.cloudFormation, action: "CreateStack", parameters: parameters)
        let networkArn = try #require(try await CloudFormationClient(aws).describeStack(network)?.outputs["TopicArn"])

        let jira = Self.unique("dev-jira"), confluence = Self.unique("dev-confluence")
        let upstream = StackSpec.Parameter.output(stack: network, key: "TopicArn")
        let graph = try StackGraph([
            StackSpec(
                name: jira, template: .body(Self.template()),
                parameters: ["CodeVersion": .value("c1"), "Upstream": upstream]),
            StackSpec(
                name: confluence, template: .body(Self.template()),
                parameters: ["CodeVersion": .value("c1"), "Upstream": upstream]),
            StackSpec(name: network, template: .body(Self.template()), parameters: ["CodeVersion": .value("net1")]),
        ])
        #expect(graph.order.last?.name == confluence)
        #expect(graph.order.first?.name == network)
        let report = await graph.deploy(with: try Self.deployer(), concurrency: 2)
        #expect(report.succeeded, "\(report.summary)")
        #expect(report.summary.contains("\(network): unchanged"))
        #expect(report.summary.contains("\(jira): created (1 change(s))"))
        for name in [jira, confluence] {
            let stack = try #require(try await CloudFormationClient(aws).describeStack(name))
            #expect(stack.parameters["Upstream"] == networkArn)
        }
    }

    @Test func coldDeployMovesEveryApplicationStackToTheNewVersion() async throws {
        let deployer = try Self.deployer()
        let infraTemplate = #"{"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}"#
        let network = Self.unique("dev-network"), jira = Self.unique("dev-jira"), wiki = Self.unique("dev-wiki")
        let stacks = [
            StackSpec(name: network, template: .body(infraTemplate)),
            StackSpec(
                name: jira, template: .body(Self.template()), parameters: ["CodeVersion": .previous],
                dependsOn: [network]),
            StackSpec(
                name: wiki, template: .body(Self.template()), parameters: ["CodeVersion": .previous],
                dependsOn: [network]),
        ]
        let cold = ColdDeployer(deployer: deployer, concurrency: 2)
        let first = try await cold.deploy(stacks, version: "1111111")
        #expect(first.succeeded, "\(first.summary)")
        let second = try await cold.deploy(stacks, version: "2222222")
        #expect(second.succeeded, "\(second.summary)")
        #expect(second.summary.contains("\(network): unchanged"))
        #expect(second.summary.contains("\(jira): updated"))
        for name in [jira, wiki] {
            #expect(try await deployer.cloudFormation.describeStack(name)?.parameters["CodeVersion"] == "2222222")
        }
    }

    @Test func badInputIsRefusedBeforeAnythingChanges() async throws {
        let deployer = try Self.deployer()
        let name = Self.unique("dev-bad")
        let missing = try await #require(throws: DeployError.self) {
            try await deployer.deploy(StackSpec(name: name, template: .file("/nonexistent/jira.yaml")))
        }
        #expect(missing.kind == .invalidSpec)
        #expect(missing.message.contains("/nonexistent/jira.yaml"))  // names the file
        let noOutput = try await #require(throws: DeployError.self) {
            try await deployer.deploy(
                StackSpec(
                    name: name, template: .body(Self.template()),
                    parameters: ["CodeVersion": .output(stack: Self.unique("no-such-stack"), key: "X")]))
        }
        #expect(noOutput.kind == .invalidSpec)
        #expect(noOutput.message.contains("which does not exist"))
        let previous = try await #require(throws: DeployError.self) {
            try await deployer.deploy(
                StackSpec(name: name, template: .body(Self.template()), parameters: ["CodeVersion": .previous]))
        }
        #expect(previous.kind == .invalidSpec)
        #expect(previous.message.contains("the stack is new"))
        let tooBig = try await #require(throws: DeployError.self) {
            try await deployer.deploy(
                StackSpec(
                    name: name, template: .body(Self.template(padding: 60_000)),
                    parameters: ["CodeVersion": .value("x")]))
        }
        #expect(tooBig.kind == .invalidSpec)
        #expect(tooBig.message.contains("51200-byte inline limit"))  // names the limit
        #expect(try await deployer.cloudFormation.describeStack(name) == nil)
    }

    @Test func templatesOverTheInlineLimitGoThroughTheDeployBucket() async throws {
        // moto's CloudFormation reads TemplateURL from its own S3, at localhost (not 127.0.0.1).
        let motoPort = try #require(URL(string: try Sandbox.motoEndpoint())?.port)
        let s3 = S3Client(try Sandbox.motoAWSClient(endpoint: "http://localhost:\(motoPort)"))
        try await withSandboxBucket(s3.aws, prefix: "deploy") { bucket in
            let deployer = try Self.deployer(templateBucket: .init(s3: s3, bucket: bucket))
            let name = Self.unique("dev-big")
            let result = try await deployer.deploy(
                StackSpec(
                    name: name, template: .body(Self.template(padding: 60_000)),
                    parameters: ["CodeVersion": .value("big")]))
            #expect(result.outcome == .created)
            let stored = try await s3.listAllObjects(bucket: bucket, prefix: "templates/\(name)/")
            #expect(stored.count == 1 && stored[0].size > 60_000)
        }
    }
}
