import AWSCore
import AtlasRelayTestSupport
import Foundation
import Testing

@testable import StackDeploy

/// The risk gate on change sets: verdicts, the refusal before anything executes (scripted
/// CloudFormation, for replacements moto does not report), and the stack policy and a refused
/// deletion against moto.
struct ChangeRiskTests {
    static func change(_ action: String, _ id: String, _ type: String, replacement: String? = nil) -> ResourceChange {
        ResourceChange(action: action, logicalId: id, resourceType: type, replacement: replacement)
    }

    @Test func statefulReplacementsAndDeletionsAreRefusedUnlessAllowedAndIAMIsListedApart() {
        let risk = ChangeRisk(addingStatefulTypes: ["Custom::Ledger"])
        let cases: [(ResourceChange, Set<String>, ChangeRisk.Verdict)] = [
            (Self.change("Remove", "Database", "AWS::RDS::DBInstance"), [], .refused),
            (Self.change("Modify", "Database", "AWS::RDS::DBInstance", replacement: "True"), [], .refused),
            // Conditional: CloudFormation decides while it runs, so it counts as a replacement.
            (Self.change("Modify", "SharedHome", "AWS::EFS::FileSystem", replacement: "Conditional"), [], .refused),
            (Self.change("Modify", "Database", "AWS::RDS::DBInstance", replacement: "False"), [], .routine),
            (Self.change("Remove", "Database", "AWS::RDS::DBInstance"), ["Database"], .allowed),
            (Self.change("Remove", "Database", "AWS::RDS::DBInstance"), ["Other"], .refused),
            (Self.change("Remove", "Ledger", "Custom::Ledger"), [], .refused),
            (Self.change("Add", "Attachments", "AWS::S3::Bucket"), [], .routine),
            (Self.change("Modify", "Node", "AWS::EC2::Instance", replacement: "True"), [], .routine),
            (Self.change("Add", "NodeRole", "AWS::IAM::Role"), [], .iam),
            (Self.change("Remove", "NodePolicy", "AWS::IAM::Policy"), [], .iam),
        ]
        for (change, allowed, expected) in cases {
            #expect(risk.verdict(of: change, allowed: allowed) == expected, "\(change) allowed \(allowed)")
        }
        let plan = StackPlan(
            stack: "prod-db", isNew: false, changes: cases.map(\.0),
            verdicts: cases.map { risk.verdict(of: $0.0, allowed: $0.1) })
        #expect(!plan.isAllowed)
        #expect(plan.iamChanges.map(\.logicalId) == ["NodeRole", "NodePolicy"])
        #expect(plan.text.contains("- Database  AWS::RDS::DBInstance  [REFUSED"), "\(plan.text)")
        #expect(plan.text.contains("IAM changes (2):"), "\(plan.text)")
    }

    @Test func theStackPolicyDeniesReplacingAndDeletingStatefulTypesExceptWhatIsAllowed() throws {
        let risk = ChangeRisk()
        func deny(_ policy: String) throws -> [String: Any] {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(policy.utf8)) as? [String: Any])
            let statements = try #require(object["Statement"] as? [[String: Any]])
            #expect(statements.contains { $0["Effect"] as? String == "Allow" && $0["Action"] as? String == "Update:*" })
            return try #require(statements.first { $0["Effect"] as? String == "Deny" })
        }
        let closed = try deny(risk.stackPolicy(allowing: []))
        #expect(closed["Action"] as? [String] == ["Update:Replace", "Update:Delete"])
        #expect(closed["Resource"] as? String == "*")
        let types = (closed["Condition"] as? [String: [String: [String]]])?["StringEquals"]?["ResourceType"] ?? []
        #expect(Set(types) == ChangeRisk.standardStatefulTypes)
        let open = try deny(risk.stackPolicy(allowing: ["Database"]))
        #expect(open["NotResource"] as? [String] == ["LogicalResourceId/Database"])
        #expect(open["Resource"] == nil)
    }

    @Test func aRefusedReplacementDeletesTheChangeSetAndExecutesNothing() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["prod-db"] = .init(status: "UPDATE_COMPLETE")
                $0.changes["prod-db"] = [
                    Self.change("Modify", "Database", "AWS::RDS::DBInstance", replacement: "True"),
                    Self.change("Add", "DatabaseRole", "AWS::IAM::Role"),
                ]
                $0.outcomes["prod-db"] = .init(events: [], finalStatus: "UPDATE_COMPLETE")
            }
            let deployer = StackFailureTests.deployer(scripted)
            var spec = StackSpec(name: "prod-db", template: StackFailureTests.template)
            let refused = try await #require(throws: DeployError.self) { try await deployer.deploy(spec) }
            #expect(refused.kind == .riskyChange)
            #expect(refused.advice.contains("allowReplaceOrDelete"))
            #expect(scripted.actions.contains("DeleteChangeSet"))
            #expect(!scripted.actions.contains("ExecuteChangeSet") && !scripted.actions.contains("SetStackPolicy"))
            // The plan says the same without changing anything.
            let plan = try await deployer.plan(spec)
            #expect(!plan.isAllowed && plan.verdicts == [.refused, .iam])

            // Allowed for this deploy: the policy that lets it through is set before executing.
            spec.allowReplaceOrDelete = ["Database"]
            let result = try await deployer.deploy(spec)
            #expect(result.outcome == .updated)
            let actions = scripted.actions
            let policy = try #require(actions.lastIndex(of: "SetStackPolicy"))
            #expect(policy < (actions.lastIndex(of: "ExecuteChangeSet") ?? -1))
            let body = scripted.withState { $0.policies["prod-db"] } ?? ""
            #expect(body.contains("LogicalResourceId/Database"), "\(body)")
        }
    }

    @Test func againstMotoTheStackIsProtectedAndATableIsNotDeletedUnlessAllowed() async throws {
        let cloudFormation = CloudFormationClient(try Sandbox.motoAWSClient())
        let deployer = StackDeployer(
            cloudFormation: cloudFormation, options: .init(pollInterval: .milliseconds(50), timeout: .seconds(60)))
        let name = MotoStackDeployTests.unique("risk")
        let table = #""Table":{"Type":"AWS::DynamoDB::Table","Properties":{"TableName":"\#(name)-t","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"k","AttributeType":"S"}],"KeySchema":[{"AttributeName":"k","KeyType":"HASH"}]}}"#
        let parameter = #""Marker":{"Type":"AWS::SSM::Parameter","Properties":{"Name":"/\#(name)/marker","Type":"String","Value":"v"}}"#
        var spec = StackSpec(name: name, template: .body(#"{"Resources":{\#(table),\#(parameter)}}"#))
        #expect(try await deployer.deploy(spec).outcome == .created)
        let policy = try #require(try await cloudFormation.stackPolicy(name))
        #expect(policy.contains("AWS::DynamoDB::Table") && policy.contains("Update:Delete"), "\(policy)")

        // The template without the table: refused, and the table is still in the stack.
        spec.template = .body(#"{"Resources":{\#(parameter)}}"#)
        let plan = try await deployer.plan(spec)
        #expect(plan.changes.map(\.logicalId) == ["Table"] && plan.verdicts == [.refused], "\(plan.text)")
        let refused = try await #require(throws: DeployError.self) { try await deployer.deploy(spec) }
        #expect(refused.kind == .riskyChange)
        #expect(try await Self.resources(name, cloudFormation).contains("Table"))

        // Allowed: it goes.
        spec.allowReplaceOrDelete = ["Table"]
        #expect(try await deployer.deploy(spec).outcome == .updated)
        #expect(try await !Self.resources(name, cloudFormation).contains("Table"))
        #expect(try await cloudFormation.stackPolicy(name)?.contains("LogicalResourceId/Table") == true)
        try? await cloudFormation.deleteStack(name)
    }

    /// The logical ids of the stack's resources (`DescribeStackResources`).
    static func resources(_ stack: String, _ cloudFormation: CloudFormationClient) async throws -> [String] {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        let result = try await cloudFormation.aws.query(.cloudFormation, action: "DescribeStackResources", parameters: parameters)
        return (result.child("StackResources")?.children("member") ?? []).compactMap { $0.string("LogicalResourceId") }
    }
}
