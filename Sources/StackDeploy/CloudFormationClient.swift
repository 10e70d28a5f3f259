import AWSCore
import Foundation

/// The CloudFormation operations the deployers need (Query protocol).
public struct CloudFormationClient: Sendable {
    /// The transport.
    public let aws: AWSClient

    /// Creates a client on top of `aws`.
    public init(_ aws: AWSClient) { self.aws = aws }

    /// The stack, or nil when there is none of that name (or it was deleted).
    public func describeStack(_ name: String) async throws -> Stack? {
        var parameters = QueryParameters()
        parameters.set("StackName", name)
        let result: XMLNode
        do {
            result = try await aws.query(.cloudFormation, action: "DescribeStacks", parameters: parameters)
        } catch let error as AWSServiceError
            where error.code == "ValidationError" && error.message.contains("does not exist")
        {
            return nil
        }
        guard let node = result.child("Stacks")?.children("member").first else { return nil }
        let stack = Self.stack(node)
        return stack.status.category == .deleted ? nil : stack
    }

    /// A parameter for ``createChangeSet(_:)``.
    public enum ParameterValue: Sendable, Equatable {
        /// This value.
        case value(String)
        /// Keep the stack's current value.
        case previous
    }

    /// What ``createChangeSet(_:)`` needs.
    public struct ChangeSetRequest: Sendable {
        /// The stack.
        public var stackName: String
        /// The change set's name (letters, digits, hyphens; starting with a letter).
        public var changeSetName: String
        /// `CREATE` for a new stack, `UPDATE` for an existing one.
        public var isCreate: Bool
        /// The template body, or nil when `templateURL` is set.
        public var templateBody: String?
        /// An S3 URL of the template.
        public var templateURL: String?
        /// Parameters by key.
        public var parameters: [String: ParameterValue]
        /// Tags by key.
        public var tags: [String: String]
        /// Capabilities, for example `CAPABILITY_NAMED_IAM`.
        public var capabilities: [String]
        /// A description of the change set.
        public var description: String?

        /// Creates a request.
        public init(
            stackName: String, changeSetName: String, isCreate: Bool, templateBody: String? = nil,
            templateURL: String? = nil, parameters: [String: ParameterValue] = [:], tags: [String: String] = [:],
            capabilities: [String] = [], description: String? = nil
        ) {
            self.stackName = stackName
            self.changeSetName = changeSetName
            self.isCreate = isCreate
            self.templateBody = templateBody
            self.templateURL = templateURL
            self.parameters = parameters
            self.tags = tags
            self.capabilities = capabilities
            self.description = description
        }
    }

    /// Starts creating a change set.
    ///
    /// - Returns: the change set's ARN and the stack's ARN.
    /// - Throws: `AWSServiceError`; a `ValidationError` "No updates are to be performed." means
    ///   the template and parameters are what the stack already has (see ``isNoChangesMessage(_:)``).
    public func createChangeSet(_ request: ChangeSetRequest) async throws -> (changeSetId: String, stackId: String) {
        var parameters = QueryParameters()
        parameters.set("StackName", request.stackName)
        parameters.set("ChangeSetName", request.changeSetName)
        parameters.set("ChangeSetType", request.isCreate ? "CREATE" : "UPDATE")
        parameters.set("TemplateBody", request.templateBody)
        parameters.set("TemplateURL", request.templateURL)
        parameters.set("Description", request.description)
        parameters.setList("Parameters", request.parameters.sorted { $0.key < $1.key }) { entry, member in
            member.set("ParameterKey", entry.key)
            switch entry.value {
            case .value(let value): member.set("ParameterValue", value)
            case .previous: member.set("UsePreviousValue", true)
            }
        }
        parameters.setList("Tags", request.tags.sorted { $0.key < $1.key }) { entry, member in
            member.set("Key", entry.key)
            member.set("Value", entry.value)
        }
        parameters.setList("Capabilities", request.capabilities)
        let result = try await aws.query(.cloudFormation, action: "CreateChangeSet", parameters: parameters)
        guard let id = result.string("Id") else {
            throw AWSClientError(.malformedResponse, "CreateChangeSet for \(request.stackName) answered without an Id")
        }
        return (id, result.string("StackId") ?? "")
    }

    /// Describes a change set, with every page of its changes.
    public func describeChangeSet(_ id: String) async throws -> ChangeSet {
        var changes: [ResourceChange] = []
        var token: String?
        var last: XMLNode
        repeat {
            var parameters = QueryParameters()
            parameters.set("ChangeSetName", id)
            parameters.set("NextToken", token)
            last = try await aws.query(.cloudFormation, action: "DescribeChangeSet", parameters: parameters)
            changes +=
                last.child("Changes")?.children("member").compactMap { member in
                    guard let change = member.child("ResourceChange") else { return nil }
                    return ResourceChange(
                        action: change.string("Action") ?? "", logicalId: change.string("LogicalResourceId") ?? "",
                        resourceType: change.string("ResourceType") ?? "",
                        replacement: change.string("Replacement").flatMap { $0.isEmpty ? nil : $0 })
                } ?? []
            token = last.string("NextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return ChangeSet(
            id: last.string("ChangeSetId") ?? id, status: last.string("Status") ?? "",
            statusReason: last.string("StatusReason"), executionStatus: last.string("ExecutionStatus"),
            changes: changes)
    }

    /// Executes a change set.
    public func executeChangeSet(_ id: String) async throws {
        var parameters = QueryParameters()
        parameters.set("ChangeSetName", id)
        _ = try await aws.query(.cloudFormation, action: "ExecuteChangeSet", parameters: parameters)
    }

    /// Deletes a change set (one that was only for looking at).
    public func deleteChangeSet(_ id: String) async throws {
        var parameters = QueryParameters()
        parameters.set("ChangeSetName", id)
        _ = try await aws.query(.cloudFormation, action: "DeleteChangeSet", parameters: parameters, idempotent: true)
    }

    /// Deletes a stack.
    public func deleteStack(_ name: String) async throws {
        var parameters = QueryParameters()
        parameters.set("StackName", name)
        _ = try await aws.query(.cloudFormation, action: "DeleteStack", parameters: parameters, idempotent: true)
    }

    /// Sets the stack's policy (`SetStackPolicy`): which updates CloudFormation refuses.
    public func setStackPolicy(_ stack: String, body: String) async throws {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        parameters.set("StackPolicyBody", body)
        _ = try await aws.query(.cloudFormation, action: "SetStackPolicy", parameters: parameters, idempotent: true)
    }

    /// The stack's policy (`GetStackPolicy`), nil when it has none.
    public func stackPolicy(_ stack: String) async throws -> String? {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        let result = try await aws.query(.cloudFormation, action: "GetStackPolicy", parameters: parameters)
        return result.string("StackPolicyBody").flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Continues a rollback that failed (`ContinueUpdateRollback`), skipping `resources`
    /// (logical ids, `Nested.Resource` for a nested stack's), which CloudFormation then marks as
    /// rolled back without touching them.
    public func continueUpdateRollback(_ stack: String, skipping resources: [String]) async throws {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        parameters.setList("ResourcesToSkip", resources)
        _ = try await aws.query(.cloudFormation, action: "ContinueUpdateRollback", parameters: parameters)
    }

    /// The stack's resources (`ListStackResources`, all pages): logical id, type and status.
    public func resources(of stack: String) async throws -> [(logicalId: String, type: String, status: String)] {
        var resources: [(logicalId: String, type: String, status: String)] = []
        var token: String?
        repeat {
            var parameters = QueryParameters()
            parameters.set("StackName", stack)
            parameters.set("NextToken", token)
            let result = try await aws.query(.cloudFormation, action: "ListStackResources", parameters: parameters)
            for member in result.child("StackResourceSummaries")?.children("member") ?? [] {
                resources.append(
                    (member.string("LogicalResourceId") ?? "", member.string("ResourceType") ?? "",
                     member.string("ResourceStatus") ?? ""))
            }
            token = result.string("NextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return resources
    }

    /// Turns termination protection on or off.
    public func setTerminationProtection(_ stack: String, enabled: Bool) async throws {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        parameters.set("EnableTerminationProtection", enabled)
        _ = try await aws.query(
            .cloudFormation, action: "UpdateTerminationProtection", parameters: parameters, idempotent: true)
    }

    /// The stack's events newer than the event `after` (all of them when nil), oldest first.
    ///
    /// CloudFormation lists events newest first; paging stops at `after`, or once `newest`
    /// events were collected.
    public func events(of stack: String, after: String? = nil, newest: Int = .max) async throws -> [StackEvent] {
        var collected: [StackEvent] = []
        var token: String?
        pages: repeat {
            var parameters = QueryParameters()
            parameters.set("StackName", stack)
            parameters.set("NextToken", token)
            let result = try await aws.query(.cloudFormation, action: "DescribeStackEvents", parameters: parameters)
            for member in result.child("StackEvents")?.children("member") ?? [] {
                let event = StackEvent(
                    id: member.string("EventId") ?? "",
                    timestamp: member.string("Timestamp").flatMap(ISO8601.parse) ?? Date(timeIntervalSince1970: 0),
                    logicalId: member.string("LogicalResourceId") ?? "",
                    resourceType: member.string("ResourceType") ?? "",
                    status: member.string("ResourceStatus") ?? "",
                    reason: member.string("ResourceStatusReason").flatMap { $0.isEmpty ? nil : $0 },
                    stackName: member.string("StackName") ?? stack,
                    physicalId: member.string("PhysicalResourceId").flatMap { $0.isEmpty ? nil : $0 })
                if let after, event.id == after { break pages }
                collected.append(event)
                if collected.count >= newest { break pages }
            }
            token = result.string("NextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return collected.reversed()
    }

    /// Whether a message is one of CloudFormation's ways of saying "nothing to change".
    public static func isNoChangesMessage(_ message: String) -> Bool {
        message.contains("No updates are to be performed") || message.contains("didn't contain changes")
    }

    static func stack(_ node: XMLNode) -> Stack {
        func pairs(_ list: String, _ key: String, _ value: String) -> [String: String] {
            var result: [String: String] = [:]
            for member in node.child(list)?.children("member") ?? [] {
                if let k = member.string(key) { result[k] = member.string(value) ?? "" }
            }
            return result
        }
        return Stack(
            name: node.string("StackName") ?? "", id: node.string("StackId") ?? "",
            status: StackStatus(rawValue: node.string("StackStatus") ?? ""),
            statusReason: node.string("StackStatusReason").flatMap { $0.isEmpty ? nil : $0 },
            outputs: pairs("Outputs", "OutputKey", "OutputValue"),
            parameters: pairs("Parameters", "ParameterKey", "ParameterValue"), tags: pairs("Tags", "Key", "Value"),
            terminationProtection: node.string("EnableTerminationProtection") == "true")
    }
}
