import AWSCore
import AtlasRelayTestSupport
import Foundation
import Logging
import Testing

@testable import StackDeploy

/// Failure paths moto cannot produce, against the scripted endpoint: rollbacks, stuck stacks,
/// delete-only stacks, throttling, and a multi-stack deployment that stops at the first failure.
struct StackFailureTests {
    static let template = StackSpec.Template.body(#"{"Resources":{"AppInstance":{"Type":"AWS::EC2::Instance"}}}"#)

    static func deployer(_ scripted: ScriptedCloudFormation, logger: Logger? = nil) -> StackDeployer {
        StackDeployer(
            cloudFormation: scripted.client(),
            options: .init(pollInterval: .milliseconds(20), timeout: .seconds(20)),
            logger: logger ?? Logger(label: "test"))
    }

    @Test func failedUpdateReportsTheFirstFailedResourceAndThatTheStackRolledBack() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["dev-jira"] = .init(status: "UPDATE_COMPLETE")
                $0.outcomes["dev-jira"] = .init(
                    events: [
                        .init(logicalId: "dev-jira", type: "AWS::CloudFormation::Stack", status: "UPDATE_IN_PROGRESS"),
                        .init(
                            logicalId: "AppInstance", type: "AWS::EC2::Instance", status: "UPDATE_FAILED",
                            reason: "The image id '[ami-0bad]' does not exist"),
                        .init(
                            logicalId: "AppAlarm", type: "AWS::CloudWatch::Alarm", status: "UPDATE_FAILED",
                            reason: "Resource update cancelled"),
                        .init(
                            logicalId: "dev-jira", type: "AWS::CloudFormation::Stack",
                            status: "UPDATE_ROLLBACK_IN_PROGRESS",
                            reason: "The following resource(s) failed to update: [AppInstance]."),
                        .init(
                            logicalId: "dev-jira", type: "AWS::CloudFormation::Stack",
                            status: "UPDATE_ROLLBACK_COMPLETE"),
                    ], finalStatus: "UPDATE_ROLLBACK_COMPLETE")
            }
            let recorder = LogRecorder()
            let spec = StackSpec(
                name: "dev-jira", template: Self.template, parameters: ["CodeVersion": .value("c0ffee")])
            let error = try await #require(throws: DeployError.self) {
                try await Self.deployer(scripted, logger: recorder.logger()).deploy(spec)
            }
            #expect(error.kind == .deploymentFailed)
            #expect(error.status == StackStatus(rawValue: "UPDATE_ROLLBACK_COMPLETE"))
            #expect(error.rootCause?.logicalId == "AppInstance")  // not the cancelled alarm
            #expect(error.rootCause?.reason == "The image id '[ami-0bad]' does not exist")
            #expect(error.advice.contains("runs its previous version"))
            #expect(error.description.contains("ami-0bad"))
            // The events streamed as readable lines while the deployer waited.
            #expect(recorder.text.contains("UPDATE_FAILED  AWS::EC2::Instance  AppInstance  The image id"))
            #expect(recorder.text.contains("UPDATE_ROLLBACK_COMPLETE"))
        }
    }

    @Test func failedRollbackAdvisesContinueUpdateRollbackSkippingTheStuckResources() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["dev-db"] = .init(status: "UPDATE_COMPLETE")
                $0.outcomes["dev-db"] = .init(
                    events: [
                        .init(
                            logicalId: "Database", type: "AWS::RDS::DBInstance", status: "UPDATE_FAILED",
                            reason: "Cannot upgrade postgres from 15 to 13"),
                        .init(
                            logicalId: "dev-db", type: "AWS::CloudFormation::Stack",
                            status: "UPDATE_ROLLBACK_IN_PROGRESS"),
                        .init(
                            logicalId: "DbSecurityGroup", type: "AWS::EC2::SecurityGroup", status: "UPDATE_FAILED",
                            reason: "resource sg-123 has a dependent object"),
                        .init(
                            logicalId: "dev-db", type: "AWS::CloudFormation::Stack", status: "UPDATE_ROLLBACK_FAILED"),
                    ], finalStatus: "UPDATE_ROLLBACK_FAILED")
            }
            let spec = StackSpec(name: "dev-db", template: Self.template)
            let error = try await #require(throws: DeployError.self) {
                try await Self.deployer(scripted).deploy(spec)
            }
            #expect(error.status?.category == .stuck)
            #expect(error.rootCause?.logicalId == "Database")
            #expect(
                error.advice.contains(
                    "aws cloudformation continue-update-rollback --stack-name dev-db --resources-to-skip DbSecurityGroup"
                ))
        }
    }

    @Test func aStackThatNeverSettlesEndsAtTheDeadlineWithAdvice() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["dev-confluence"] = .init(status: "UPDATE_COMPLETE")
                $0.outcomes["dev-confluence"] = .init(
                    events: [
                        .init(
                            logicalId: "Nodes", type: "AWS::AutoScaling::AutoScalingGroup",
                            status: "UPDATE_IN_PROGRESS", reason: "Waiting on 2 resource signals with a timeout of PT1H")
                    ], finalStatus: "UPDATE_IN_PROGRESS")
            }
            let deployer = StackDeployer(
                cloudFormation: scripted.client(),
                options: .init(pollInterval: .milliseconds(20), timeout: .milliseconds(300)))
            // The limit only keeps a broken deadline from hanging the run: on 2 loaded cores the
            // whole suite beside it has stretched a 0.3 s wait past 30 s, so it is not a measure.
            let error = try await #require(throws: DeployError.self) {
                try await withTimeLimit(.seconds(300)) {
                    try await deployer.deploy(StackSpec(name: "dev-confluence", template: Self.template))
                }
            }
            #expect(error.kind == .timedOut)
            #expect(error.advice.contains("cancel-update-stack --stack-name dev-confluence"))
        }
    }

    @Test func stacksThatCannotTakeAnUpdateAreRefusedBeforeAnyChangeSet() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["dead"] = .init(status: "ROLLBACK_COMPLETE")
                $0.stacks["busy"] = .init(status: "UPDATE_IN_PROGRESS")
                $0.stacks["stuck"] = .init(status: "UPDATE_ROLLBACK_FAILED")
            }
            let deployer = Self.deployer(scripted)
            let dead = try await #require(throws: DeployError.self) {
                try await deployer.deploy(StackSpec(name: "dead", template: Self.template))
            }
            #expect(dead.kind == .stackNotUpdatable)
            #expect(dead.advice.contains("delete-stack --stack-name dead"))
            let busy = try await #require(throws: DeployError.self) {
                try await deployer.deploy(StackSpec(name: "busy", template: Self.template))
            }
            #expect(busy.advice.contains("is busy (UPDATE_IN_PROGRESS)"))
            let stuck = try await #require(throws: DeployError.self) {
                try await deployer.deploy(StackSpec(name: "stuck", template: Self.template))
            }
            #expect(stuck.advice.contains("continue-update-rollback --stack-name stuck"))
            #expect(!scripted.actions.contains("CreateChangeSet"))
        }
    }

    @Test func anInvalidParameterIsReportedWithCloudFormationsReason() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["dev-jira"] = .init(status: "UPDATE_COMPLETE")
                $0.refusals["dev-jira"] = "Parameters: [CodeVersoin] do not exist in the template"
            }
            let error = try await #require(throws: DeployError.self) {
                try await Self.deployer(scripted).deploy(
                    StackSpec(name: "dev-jira", template: Self.template, parameters: ["CodeVersoin": .value("1")]))
            }
            #expect(error.kind == .changeSetRejected)
            #expect(error.description.contains("[CodeVersoin] do not exist in the template"))  // CloudFormation's reason
            #expect(error.advice.contains("nothing was changed"))
            #expect(!scripted.actions.contains("ExecuteChangeSet"))
        }
    }

    @Test func throttlingIsRetriedAndAnEmptyChangeSetIsANoOp() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["dev-net"] = .init(status: "UPDATE_COMPLETE", outputs: ["VpcId": "vpc-1"])
                $0.throttleNext = 2
            }
            let result = try await Self.deployer(scripted).deploy(StackSpec(name: "dev-net", template: Self.template))
            #expect(result.outcome == .unchanged)
            #expect(result.outputs == ["VpcId": "vpc-1"])
            #expect(scripted.actions.prefix(3) == ["DescribeStacks", "DescribeStacks", "DescribeStacks"])
            // The FAILED "didn't contain changes" change set was cleaned up, not executed.
            #expect(scripted.actions.contains("DeleteChangeSet"))
            #expect(!scripted.actions.contains("ExecuteChangeSet"))
        }
    }

    @Test func newStackIsCreatedAndThenProtectedFromTermination() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.outcomes["prod-db"] = .init(
                    events: [.init(logicalId: "Db", type: "AWS::RDS::DBInstance", status: "CREATE_COMPLETE")],
                    finalStatus: "CREATE_COMPLETE", outputs: ["Endpoint": "db.internal"])
            }
            let result = try await Self.deployer(scripted).deploy(
                StackSpec(name: "prod-db", template: Self.template, terminationProtection: true))
            #expect(result.outcome == .created)
            #expect(result.outputs == ["Endpoint": "db.internal"])
            let protect = try #require(scripted.server.requests.last)
            #expect(ScriptedCloudFormation.form(protect.body)["Action"] == "UpdateTerminationProtection")
            #expect(ScriptedCloudFormation.form(protect.body)["EnableTerminationProtection"] == "true")
            #expect(scripted.actions.filter { $0 == "CreateChangeSet" }.count == 1)
        }
    }

    @Test func graphStopsAtTheFirstFailureAndSaysWhatWasSkippedAndWhy() async throws {
        try await ScriptedCloudFormation.with { scripted in
            scripted.withState {
                $0.stacks["net"] = .init(status: "UPDATE_COMPLETE")
                $0.outcomes["net"] = .init(
                    events: [.init(logicalId: "Vpc", type: "AWS::EC2::VPC", status: "UPDATE_COMPLETE")],
                    finalStatus: "UPDATE_COMPLETE", outputs: ["VpcId": "vpc-new"])
                $0.stacks["db"] = .init(status: "UPDATE_COMPLETE")
                $0.outcomes["db"] = .init(
                    events: [
                        .init(logicalId: "Db", type: "AWS::RDS::DBInstance", status: "UPDATE_FAILED", reason: "quota"),
                        .init(logicalId: "db", type: "AWS::CloudFormation::Stack", status: "UPDATE_ROLLBACK_COMPLETE"),
                    ], finalStatus: "UPDATE_ROLLBACK_COMPLETE")
                $0.stacks["jira"] = .init(status: "UPDATE_COMPLETE")
                $0.outcomes["jira"] = .init(events: [], finalStatus: "UPDATE_COMPLETE")
                $0.stacks["wiki"] = .init(status: "UPDATE_COMPLETE")
                $0.outcomes["wiki"] = .init(events: [], finalStatus: "UPDATE_COMPLETE")
            }
            let graph = try StackGraph([
                StackSpec(
                    name: "jira", template: Self.template, parameters: ["VpcId": .output(stack: "net", key: "VpcId")],
                    dependsOn: ["db"]),
                StackSpec(name: "db", template: Self.template, dependsOn: ["net"]),
                StackSpec(name: "net", template: Self.template),
                StackSpec(name: "wiki", template: Self.template, dependsOn: ["db"]),
                StackSpec(name: "portal", template: Self.template, dependsOn: ["jira"]),
            ])
            #expect(graph.order.map(\.name) == ["net", "db", "jira", "wiki", "portal"])
            let report = await graph.deploy(with: Self.deployer(scripted), concurrency: 2)
            #expect(!report.succeeded)
            let outcomes: [String: StackGraph.Outcome] = Dictionary(
                uniqueKeysWithValues: report.entries.map { ($0.stack, $0.outcome) })
            guard case .deployed(let net) = outcomes["net"] else { Issue.record("net: \(report.summary)"); return }
            #expect(net.outcome == .updated && net.outputs["VpcId"] == "vpc-new")
            guard case .failed(let reason) = outcomes["db"] else { Issue.record("db: \(report.summary)"); return }
            #expect(reason.contains("root cause: Db (AWS::RDS::DBInstance) UPDATE_FAILED: quota"))
            #expect(outcomes["jira"] == .skipped("needs db, which did not deploy"))
            #expect(outcomes["portal"] == .skipped("needs jira, which did not deploy"))  // behind a skipped stack
            #expect(report.summary.contains("wiki: skipped: needs db"))
            #expect(scripted.withState { $0.stacks["jira"]?.parameters.isEmpty == true })  // never touched
        }
    }

    @Test func graphRefusesCyclesUnknownDependenciesAndDuplicates() throws {
        let cycle = #expect(throws: DeployError.self) {
            try StackGraph([
                StackSpec(name: "a", template: Self.template, dependsOn: ["b"]),
                StackSpec(name: "b", template: Self.template, parameters: ["X": .output(stack: "a", key: "X")]),
            ])
        }
        #expect(cycle?.kind == .invalidSpec)
        #expect(cycle?.message.contains("cycle: a → b → a") == true)  // names the cycle
        let unknown = #expect(throws: DeployError.self) {
            try StackGraph([StackSpec(name: "a", template: Self.template, dependsOn: ["nope"])])
        }
        #expect(unknown?.kind == .invalidSpec)
        #expect(unknown?.message.contains("nope, which is not in this deployment") == true)
        let duplicate = #expect(throws: DeployError.self) {
            try StackGraph([
                StackSpec(name: "a", template: Self.template), StackSpec(name: "a", template: Self.template),
            ])
        }
        #expect(duplicate?.kind == .invalidSpec)
    }

    @Test func everyDocumentedStatusHasACategory() {
        let expected: [String: StackStatus.Category] = [
            "CREATE_IN_PROGRESS": .inProgress, "CREATE_FAILED": .failedWithoutRollback, "CREATE_COMPLETE": .complete,
            "ROLLBACK_IN_PROGRESS": .inProgress, "ROLLBACK_FAILED": .deleteOnly, "ROLLBACK_COMPLETE": .deleteOnly,
            "DELETE_IN_PROGRESS": .inProgress, "DELETE_FAILED": .deleteOnly, "DELETE_COMPLETE": .deleted,
            "UPDATE_IN_PROGRESS": .inProgress, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": .inProgress,
            "UPDATE_COMPLETE": .complete, "UPDATE_FAILED": .failedWithoutRollback,
            "UPDATE_ROLLBACK_IN_PROGRESS": .inProgress, "UPDATE_ROLLBACK_FAILED": .stuck,
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": .inProgress, "UPDATE_ROLLBACK_COMPLETE": .rolledBack,
            "REVIEW_IN_PROGRESS": .reviewInProgress, "IMPORT_IN_PROGRESS": .inProgress, "IMPORT_COMPLETE": .complete,
            "IMPORT_ROLLBACK_IN_PROGRESS": .inProgress, "IMPORT_ROLLBACK_FAILED": .stuck,
            "IMPORT_ROLLBACK_COMPLETE": .rolledBack,
        ]
        for (status, category) in expected {
            #expect(StackStatus(rawValue: status).category == category, "\(status)")
        }
        #expect(StackStatus(rawValue: "UPDATE_ROLLBACK_COMPLETE").acceptsChanges)
        #expect(!StackStatus(rawValue: "ROLLBACK_COMPLETE").acceptsChanges)
    }
}
