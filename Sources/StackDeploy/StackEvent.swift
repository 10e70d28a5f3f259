import Foundation

/// One line of a stack's event history.
public struct StackEvent: Sendable, Equatable {
    /// Unique per event.
    public let id: String
    /// When it happened.
    public let timestamp: Date
    /// The resource's logical id (the stack's name for stack-level events).
    public let logicalId: String
    /// The resource's type.
    public let resourceType: String
    /// The resource's status, for example `UPDATE_FAILED`.
    public let status: String
    /// CloudFormation's reason, when it gives one.
    public let reason: String?
    /// The stack the event belongs to (a nested stack's own name for its events).
    public var stackName: String = ""
    /// The resource's physical id: for a nested stack (`AWS::CloudFormation::Stack`), its ARN.
    public var physicalId: String?

    /// Creates an event.
    public init(
        id: String, timestamp: Date, logicalId: String, resourceType: String, status: String, reason: String?,
        stackName: String = "", physicalId: String? = nil
    ) {
        self.id = id
        self.timestamp = timestamp
        self.logicalId = logicalId
        self.resourceType = resourceType
        self.status = status
        self.reason = reason
        self.stackName = stackName
        self.physicalId = physicalId
    }

    /// Whether the event is about a nested stack (a resource of type `AWS::CloudFormation::Stack`
    /// that is not the stack itself).
    public var isNestedStack: Bool {
        resourceType == "AWS::CloudFormation::Stack" && logicalId != stackName && physicalId.map { !$0.isEmpty } == true
    }

    /// Whether this event reports a failure.
    public var isFailure: Bool { status.hasSuffix("_FAILED") }

    /// One readable line: time, status, type, logical id and reason.
    public var line: String {
        let time = timestamp.formatted(.iso8601)
        return "\(time)  \(status)  \(resourceType)  \(logicalId)" + (reason.map { "  \($0)" } ?? "")
    }
}
