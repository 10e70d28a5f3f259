/// A stack as `DescribeStacks` reports it.
public struct Stack: Sendable, Equatable {
    /// The stack's name.
    public let name: String
    /// The stack's ARN.
    public let id: String
    /// Its current status.
    public let status: StackStatus
    /// Why it is in that status, when CloudFormation says.
    public let statusReason: String?
    /// Its outputs, by key.
    public let outputs: [String: String]
    /// Its parameters, by key.
    public let parameters: [String: String]
    /// Its tags, by key.
    public let tags: [String: String]
    /// Whether termination protection is on.
    public let terminationProtection: Bool
}
