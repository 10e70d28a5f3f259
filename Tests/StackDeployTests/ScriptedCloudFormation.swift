import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Synchronization

@testable import StackDeploy

/// A CloudFormation endpoint for the paths moto cannot produce (failed resources, rollbacks,
/// stuck stacks, throttling). It answers in the Query protocol's XML, with the element names and
/// error shapes of the CloudFormation API reference's examples, from a per-test script: the
/// stacks' starting states and what an executed change set turns into.
final class ScriptedCloudFormation: Sendable {
    struct Event {
        var logicalId: String
        var type: String
        var status: String
        var reason: String?
        /// A nested stack's name (its events are scripted under that name, as CloudFormation
        /// takes a name or an ARN in StackName).
        var physicalId: String? = nil
    }

    /// What executing a change set on a stack does: the events it adds and the final status.
    struct Outcome {
        var events: [Event]
        var finalStatus: String
        var outputs: [String: String] = [:]
    }

    struct StackState {
        var status: String
        var outputs: [String: String] = [:]
        var parameters: [String: String] = [:]
        var events: [(id: String, event: Event, time: Date)] = []
    }

    struct State {
        var stacks: [String: StackState] = [:]
        var outcomes: [String: Outcome] = [:]
        /// Change sets by id: stack and whether they contain changes.
        var changeSets: [String: (stack: String, empty: Bool, parameters: [String: String])] = [:]
        var noChanges: Set<String> = []
        /// Stacks whose change sets CloudFormation refuses, with its message.
        var refusals: [String: String] = [:]
        var throttleNext = 0
        var counter = 0
        /// The changes a stack's change sets contain (default: `AppInstance` replaced).
        var changes: [String: [ResourceChange]] = [:]
        /// Stack policies as set, by stack.
        var policies: [String: String] = [:]
        /// What `ContinueUpdateRollback` turns a stack into, and the skips it was sent.
        var continued: [String: Outcome] = [:]
        var skipped: [String: [String]] = [:]
        /// `ListStackResources`: (logical id, type, status) by stack.
        var resources: [String: [(String, String, String)]] = [:]
    }

    final class Script: Sendable {
        let state = Mutex(State())
    }

    let script: Script
    let server: TestHTTPServer

    private init(script: Script, server: TestHTTPServer) {
        self.script = script
        self.server = server
    }

    static func start() async throws -> ScriptedCloudFormation {
        let script = Script()
        let server = try await TestHTTPServer.start { request in Self.answer(request, script) }
        return ScriptedCloudFormation(script: script, server: server)
    }

    /// Starts a scripted endpoint, runs `body` with it, then stops it whether `body` returned or threw.
    static func with<T>(_ body: (ScriptedCloudFormation) async throws -> T) async throws -> T {
        try await withResource(start, cleanup: { await $0.stop() }, body: body)
    }

    /// Reads or changes the script's state.
    @discardableResult
    func withState<T: Sendable>(_ body: (inout State) -> T) -> T { script.state.withLock { body(&$0) } }

    func stop() async { await server.stop() }

    /// The actions received, in order.
    var actions: [String] { server.requests.map { Self.form($0.body)["Action"] ?? "" } }

    func client() -> CloudFormationClient {
        let aws = AWSClient(
            region: "us-east-1",
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: "AKIDSCRIPTED", secretAccessKey: "s")),
            endpoints: EndpointResolver(explicitEndpoint: server.baseURL),
            retryPolicy: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(5)))
        return CloudFormationClient(aws)
    }

    // MARK: - Answers

    static func form(_ body: Data) -> [String: String] {
        var result: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            result[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return result
    }

    static func answer(_ request: RecordedRequest, _ script: Script) -> TestResponse {
        let form = Self.form(request.body)
        let action = form["Action"] ?? ""
        return script.state.withLock { state in
            if state.throttleNext > 0 {
                state.throttleNext -= 1
                return Self.error("Throttling", "Rate exceeded", status: 400)
            }
            let name = form["StackName"] ?? ""
            switch action {
            case "DescribeStacks":
                guard let stack = state.stacks[name] else {
                    return Self.error("ValidationError", "Stack with id \(name) does not exist")
                }
                let outputs = stack.outputs.sorted { $0.key < $1.key }.map {
                    "<member><OutputKey>\($0.key)</OutputKey><OutputValue>\($0.value)</OutputValue></member>"
                }.joined()
                let parameters = stack.parameters.sorted { $0.key < $1.key }.map {
                    "<member><ParameterKey>\($0.key)</ParameterKey><ParameterValue>\($0.value)</ParameterValue></member>"
                }.joined()
                return Self.result(
                    action,
                    """
                    <Stacks><member><StackName>\(name)</StackName>\
                    <StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/\(name)/1</StackId>\
                    <StackStatus>\(stack.status)</StackStatus><Outputs>\(outputs)</Outputs>\
                    <Parameters>\(parameters)</Parameters><EnableTerminationProtection>false</EnableTerminationProtection>\
                    </member></Stacks>
                    """)
            case "CreateChangeSet":
                if let message = state.refusals[name] { return Self.error("ValidationError", message) }
                if state.noChanges.contains(name) && form["ChangeSetType"] == "UPDATE" {
                    return Self.error("ValidationError", "No updates are to be performed.")
                }
                state.counter += 1
                let id =
                    "arn:aws:cloudformation:us-east-1:123456789012:changeSet/\(form["ChangeSetName"] ?? "")/\(state.counter)"
                var parameters: [String: String] = [:]
                for index in 1...20 {
                    guard let key = form["Parameters.member.\(index).ParameterKey"] else { break }
                    parameters[key] = form["Parameters.member.\(index).ParameterValue"] ?? ""
                }
                state.changeSets[id] = (name, state.outcomes[name] == nil, parameters)
                if state.stacks[name] == nil { state.stacks[name] = StackState(status: "REVIEW_IN_PROGRESS") }
                return Self.result(
                    action,
                    "<Id>\(id)</Id><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/\(name)/1</StackId>")
            case "DescribeChangeSet":
                let id = form["ChangeSetName"] ?? ""
                guard let changeSet = state.changeSets[id] else {
                    return Self.error("ChangeSetNotFound", "ChangeSet [\(id)] does not exist", status: 404)
                }
                if changeSet.empty {
                    return Self.result(
                        action,
                        """
                        <ChangeSetId>\(id)</ChangeSetId><Status>FAILED</Status><ExecutionStatus>UNAVAILABLE</ExecutionStatus>\
                        <StatusReason>The submitted information didn't contain changes. Submit different information \
                        to create a change set.</StatusReason><Changes/>
                        """)
                }
                let changes = (state.changes[changeSet.stack] ?? [
                    ResourceChange(action: "Modify", logicalId: "AppInstance", resourceType: "AWS::EC2::Instance", replacement: "True")
                ]).map { change in
                    """
                    <member><Type>Resource</Type><ResourceChange><Action>\(change.action)</Action>\
                    <LogicalResourceId>\(change.logicalId)</LogicalResourceId><ResourceType>\(change.resourceType)</ResourceType>\
                    \(change.replacement.map { "<Replacement>\($0)</Replacement>" } ?? "")\
                    <Scope><member>Properties</member></Scope></ResourceChange></member>
                    """
                }.joined()
                return Self.result(
                    action,
                    """
                    <ChangeSetId>\(id)</ChangeSetId><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus>\
                    <Changes>\(changes)</Changes>
                    """)
            case "ExecuteChangeSet":
                let id = form["ChangeSetName"] ?? ""
                guard let changeSet = state.changeSets[id], let outcome = state.outcomes[changeSet.stack] else {
                    return Self.error("InvalidChangeSetStatus", "ChangeSet [\(id)] cannot be executed")
                }
                var stack = state.stacks[changeSet.stack] ?? StackState(status: "REVIEW_IN_PROGRESS")
                for event in outcome.events {
                    state.counter += 1
                    stack.events.append(("event-\(state.counter)", event, Date()))
                }
                stack.status = outcome.finalStatus
                stack.outputs = outcome.outputs
                stack.parameters = changeSet.parameters
                state.stacks[changeSet.stack] = stack
                return Self.result(action, "")
            case "DescribeStackEvents":
                guard let stack = state.stacks[name] else {
                    return Self.error("ValidationError", "Stack [\(name)] does not exist")
                }
                let members = stack.events.reversed().map { entry in
                    """
                    <member><EventId>\(entry.id)</EventId><StackName>\(name)</StackName>\
                    \(entry.event.physicalId.map { "<PhysicalResourceId>\($0)</PhysicalResourceId>" } ?? "")\
                    <LogicalResourceId>\(entry.event.logicalId)</LogicalResourceId>\
                    <ResourceType>\(entry.event.type)</ResourceType>\
                    <Timestamp>\(entry.time.formatted(.iso8601))</Timestamp>\
                    <ResourceStatus>\(entry.event.status)</ResourceStatus>\
                    \(entry.event.reason.map { "<ResourceStatusReason>\(XMLEscaping.escape($0))</ResourceStatusReason>" } ?? "")\
                    </member>
                    """
                }.joined()
                return Self.result(action, "<StackEvents>\(members)</StackEvents>")
            case "SetStackPolicy":
                state.policies[name] = form["StackPolicyBody"] ?? ""
                return Self.result(action, "")
            case "GetStackPolicy":
                return Self.result(
                    action, state.policies[name].map { "<StackPolicyBody>\(XMLEscaping.escape($0))</StackPolicyBody>" } ?? "")
            case "ContinueUpdateRollback":
                guard var stack = state.stacks[name], stack.status == "UPDATE_ROLLBACK_FAILED",
                    let outcome = state.continued[name]
                else {
                    return Self.error("ValidationError", "Stack \(name) is not in UPDATE_ROLLBACK_FAILED state")
                }
                state.skipped[name] = (1...20).compactMap { form["ResourcesToSkip.member.\($0)"] }
                for event in outcome.events {
                    state.counter += 1
                    stack.events.append(("event-\(state.counter)", event, Date()))
                }
                stack.status = outcome.finalStatus
                state.stacks[name] = stack
                return Self.result(action, "")
            case "ListStackResources":
                let members = (state.resources[name] ?? []).map {
                    """
                    <member><LogicalResourceId>\($0.0)</LogicalResourceId><ResourceType>\($0.1)</ResourceType>\
                    <ResourceStatus>\($0.2)</ResourceStatus></member>
                    """
                }.joined()
                return Self.result(action, "<StackResourceSummaries>\(members)</StackResourceSummaries>")
            case "DeleteStack":
                state.stacks[name] = nil
                return Self.result(action, "")
            case "DeleteChangeSet", "UpdateTerminationProtection":
                return Self.result(action, "")
            default:
                return Self.error("InvalidAction", "unscripted action \(action)")
            }
        }
    }

    static func result(_ action: String, _ inner: String) -> TestResponse {
        .text(
            """
            <\(action)Response xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">\
            <\(action)Result>\(inner)</\(action)Result>\
            <ResponseMetadata><RequestId>b9b4b068-3a41-11e5-94eb-example</RequestId></ResponseMetadata>\
            </\(action)Response>
            """, headers: [("Content-Type", "text/xml")])
    }

    static func error(_ code: String, _ message: String, status: Int = 400) -> TestResponse {
        .text(
            """
            <ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>\
            <Code>\(code)</Code><Message>\(XMLEscaping.escape(message))</Message></Error>\
            <RequestId>5ccc7dcd-744c-11e5-be70-example</RequestId></ErrorResponse>
            """, status: status, headers: [("Content-Type", "text/xml")])
    }
}
