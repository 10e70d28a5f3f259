import AWSCore
import AtlasRelayTestSupport
import Foundation
import Testing

@testable import StackDeploy

/// Stacks a failed operation left behind, against the scripted endpoint (moto cannot fail a
/// rollback): a failed rollback is continued and a failed create recreated only when allowed and
/// no stateful resource is at stake; a nested stack's failure is traced to its own resource.
struct StuckStackTests {
    typealias Event = ScriptedCloudFormation.Event

    static func deployer(_ scripted: ScriptedCloudFormation, _ recovery: StackDeployer.Recovery) -> StackDeployer {
        StackDeployer(
            cloudFormation: scripted.client(),
            options: .init(pollInterval: .milliseconds(20), timeout: .seconds(20), recovery: recovery))
    }

    static func history(_ events: [Event]) -> [(id: String, event: Event, time: Date)] {
        events.enumerated().map { ("old-\($0.offset)", $0.element, Date(timeIntervalSinceNow: -600 + Double($0.offset))) }
    }

    /// A stack whose update failed and whose rollback then failed on `stuck`.
    static func rollbackFailed(_ name: String, stuck: [(String, String)]) -> ScriptedCloudFormation.StackState {
        var events: [Event] = [
            .init(logicalId: name, type: "AWS::CloudFormation::Stack", status: "UPDATE_IN_PROGRESS"),
            .init(logicalId: "Node", type: "AWS::EC2::Instance", status: "UPDATE_FAILED", reason: "bad AMI"),
            .init(logicalId: name, type: "AWS::CloudFormation::Stack", status: "UPDATE_ROLLBACK_IN_PROGRESS"),
        ]
        events += stuck.map { .init(logicalId: $0.0, type: $0.1, status: "UPDATE_FAILED", reason: "cannot roll back") }
        events.append(.init(logicalId: name, type: "AWS::CloudFormation::Stack", status: "UPDATE_ROLLBACK_FAILED"))
        return .init(status: "UPDATE_ROLLBACK_FAILED", events: history(events))
    }

    @Test func aFailedRollbackIsContinuedSkippingOnlyWhatHoldsNoData() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["dev-app"] = Self.rollbackFailed("dev-app", stuck: [("NodeSecurityGroup", "AWS::EC2::SecurityGroup")])
                $0.continued["dev-app"] = .init(
                    events: [.init(logicalId: "dev-app", type: "AWS::CloudFormation::Stack", status: "UPDATE_ROLLBACK_COMPLETE")],
                    finalStatus: "UPDATE_ROLLBACK_COMPLETE")
                $0.outcomes["dev-app"] = .init(events: [], finalStatus: "UPDATE_COMPLETE")
            }
            let spec = StackSpec(name: "dev-app", template: StackFailureTests.template)
            // Not allowed: the deploy stops with the exact command, and nothing is continued.
            let refused = try await #require(throws: DeployError.self) {
                try await Self.deployer(scripted, .init()).deploy(spec)
            }
            #expect(refused.kind == .stackNotUpdatable)
            #expect(
                refused.advice.contains(
                    "aws cloudformation continue-update-rollback --stack-name dev-app --resources-to-skip NodeSecurityGroup"),
                "\(refused.advice)")
            #expect(!scripted.actions.contains("ContinueUpdateRollback"))

            // Allowed: continued with the security group skipped, then deployed.
            let result = try await Self.deployer(scripted, .init(continueRollback: true)).deploy(spec)
            #expect(result.outcome == .updated)
            #expect(scripted.withState { $0.skipped["dev-app"] } == ["NodeSecurityGroup"])
            let actions = scripted.actions
            #expect((actions.firstIndex(of: "ContinueUpdateRollback") ?? .max) < (actions.firstIndex(of: "CreateChangeSet") ?? -1))
        }
    }

    @Test func aDatabaseThatCouldNotRollBackIsNeverSkipped() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["prod-db"] = Self.rollbackFailed(
                    "prod-db", stuck: [("Database", "AWS::RDS::DBInstance"), ("DbSecurityGroup", "AWS::EC2::SecurityGroup")])
                $0.continued["prod-db"] = .init(events: [], finalStatus: "UPDATE_ROLLBACK_COMPLETE")
            }
            let error = try await #require(throws: DeployError.self) {
                try await Self.deployer(scripted, .init(continueRollback: true))
                    .deploy(StackSpec(name: "prod-db", template: StackFailureTests.template))
            }
            #expect(error.kind == .stackNotUpdatable)
            #expect(error.message.contains("Database (AWS::RDS::DBInstance)"), "\(error.message)")
            #expect(error.advice.contains("--resources-to-skip DbSecurityGroup") && !error.advice.contains("skip Database"))
            #expect(!scripted.actions.contains("ContinueUpdateRollback"))
        }
    }

    @Test func aFailedCreateIsRecreatedOnlyWhenAllowedAndItKeptNoData() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["uat-app"] = .init(status: "ROLLBACK_COMPLETE")
                $0.resources["uat-app"] = [("Node", "AWS::EC2::Instance", "DELETE_COMPLETE")]
                $0.stacks["uat-db"] = .init(status: "ROLLBACK_COMPLETE")
                // DeletionPolicy: Retain kept the database when the create rolled back.
                $0.resources["uat-db"] = [("Database", "AWS::RDS::DBInstance", "DELETE_SKIPPED")]
                $0.outcomes["uat-app"] = .init(events: [], finalStatus: "CREATE_COMPLETE")
            }
            let app = StackSpec(name: "uat-app", template: StackFailureTests.template)
            let notAllowed = try await #require(throws: DeployError.self) {
                try await Self.deployer(scripted, .init()).deploy(app)
            }
            #expect(notAllowed.kind == .stackNotUpdatable && notAllowed.advice.contains("delete-stack --stack-name uat-app"))

            let recreated = try await Self.deployer(scripted, .init(recreateFailedCreate: true)).deploy(app)
            #expect(recreated.outcome == .created)
            let changeSets = scripted.server.requests.map { ScriptedCloudFormation.form($0.body) }
                .filter { $0["Action"] == "CreateChangeSet" }
            #expect(changeSets.last?["ChangeSetType"] == "CREATE")

            let kept = try await #require(throws: DeployError.self) {
                try await Self.deployer(scripted, .init(recreateFailedCreate: true))
                    .deploy(StackSpec(name: "uat-db", template: StackFailureTests.template))
            }
            #expect(kept.kind == .stackNotUpdatable && kept.message.contains("Database (AWS::RDS::DBInstance)"))
            #expect(scripted.withState { $0.stacks["uat-db"] } != nil, "a stack with a kept database was deleted")
        }
    }

    @Test func aNestedStacksFailureIsTracedToItsOwnFirstFailedResource() async throws {
        try await ScriptedCloudFormation.with { scripted in
            let nested = "dev-jira-NodesStack-1ABC"
            scripted.withState {
                $0.stacks["dev-jira"] = .init(status: "UPDATE_COMPLETE")
                $0.stacks[nested] = .init(
                    status: "UPDATE_ROLLBACK_COMPLETE",
                    events: [
                        ("n-1", .init(logicalId: nested, type: "AWS::CloudFormation::Stack", status: "UPDATE_IN_PROGRESS"), Date()),
                        ("n-2", .init(logicalId: "LaunchTemplate", type: "AWS::EC2::LaunchTemplate", status: "UPDATE_FAILED",
                            reason: "The image id '[ami-0bad]' does not exist"), Date()),
                    ])
                $0.outcomes["dev-jira"] = .init(
                    events: [
                        .init(logicalId: "dev-jira", type: "AWS::CloudFormation::Stack", status: "UPDATE_IN_PROGRESS"),
                        .init(
                            logicalId: "NodesStack", type: "AWS::CloudFormation::Stack", status: "UPDATE_FAILED",
                            reason: "Embedded stack \(nested) was not successfully updated", physicalId: nested),
                        .init(logicalId: "dev-jira", type: "AWS::CloudFormation::Stack", status: "UPDATE_ROLLBACK_COMPLETE"),
                    ], finalStatus: "UPDATE_ROLLBACK_COMPLETE")
            }
            let error = try await #require(throws: DeployError.self) {
                try await Self.deployer(scripted, .init()).deploy(StackSpec(name: "dev-jira", template: StackFailureTests.template))
            }
            #expect(error.kind == .deploymentFailed)
            #expect(error.rootCause?.logicalId == "LaunchTemplate")
            #expect(error.rootCause?.stackName == nested)
            #expect(error.description.contains("in nested stack \(nested)") && error.description.contains("ami-0bad"))
        }
    }
}
