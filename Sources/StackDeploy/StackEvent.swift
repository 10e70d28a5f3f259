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

    /// Whether this event reports a failure.
    public var isFailure: Bool { status.hasSuffix("_FAILED") }

    /// One readable line: time, status, type, logical id and reason.
    public var line: String {
        let time = timestamp.formatted(.iso8601)
        return "\(time)  \(status)  \(resourceType)  \(logicalId)" + (reason.map { "  \($0)" } ?? "")
    }
}
