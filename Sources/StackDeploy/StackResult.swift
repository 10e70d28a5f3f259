/// What deploying one stack did.
public struct StackResult: Sendable, Equatable {
    /// What happened.
    public enum Outcome: String, Sendable {
        /// The stack was created.
        case created
        /// The stack was updated.
        case updated
        /// Template and parameters matched the stack; nothing was executed.
        case unchanged
    }

    /// The stack.
    public let stack: String
    /// What happened.
    public let outcome: Outcome
    /// The changes that were executed (empty when unchanged).
    public let changes: [ResourceChange]
    /// The stack's outputs afterwards.
    public let outputs: [String: String]
}
