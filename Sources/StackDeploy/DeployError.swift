/// Why a deployment did not succeed: a ``Kind`` to switch on, the stack, its final status, the
/// first failed resource event, what to do next and the error underneath, if any.
///
/// ```swift
/// do { try await deployer.deploy(spec) } catch let error as DeployError where error.kind == .timedOut {
///     print("still running: \(error.stack)")
/// }
/// ```
public struct DeployError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is, to switch on.
    public enum Kind: Sendable, Hashable {
        /// The deployment was refused before anything changed: a template that is missing or too
        /// large, a parameter that cannot be resolved, a duplicate, unknown or cyclic dependency,
        /// a version that is not a commit id.
        case invalidSpec
        /// The stack is in a state that accepts no changes (an operation in progress, a failed
        /// create); ``DeployError/advice`` says how to recover it.
        case stackNotUpdatable
        /// CloudFormation refused or failed the change set; nothing was changed.
        case changeSetRejected
        /// The stack operation failed or rolled back; ``DeployError/rootCause`` says why.
        case deploymentFailed
        /// The change set would replace or delete a stateful resource the stack does not allow
        /// (``ChangeRisk``); it was deleted and nothing was changed.
        case riskyChange
        /// The operation was still running at the deployer's deadline.
        case timedOut
        /// No running instance belongs to the stack (a hot deploy).
        case noInstances
        /// Anything else: the message says what, ``DeployError/underlying`` holds the error.
        case other
    }

    /// What kind of failure it is.
    public let kind: Kind
    /// The stack.
    public let stack: String
    /// What went wrong, in a sentence.
    public let message: String
    /// The stack's status when the deployer stopped, if it has one.
    public let status: StackStatus?
    /// The first failed resource event of the operation: the root cause, as far as
    /// CloudFormation tells.
    public let rootCause: StackEvent?
    /// What to do next.
    public let advice: String
    /// The error underneath (an AWS error, say), if any.
    public let underlying: (any Error)?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - kind: the kind, ``Kind/other`` by default.
    ///   - stack: the stack it is about.
    ///   - message: what went wrong, in a sentence.
    ///   - status: the stack's status, if known.
    ///   - rootCause: the first failed resource event, if any.
    ///   - advice: what to do next.
    ///   - underlying: the error underneath, if any.
    public init(
        _ kind: Kind = .other, stack: String, message: String, status: StackStatus? = nil,
        rootCause: StackEvent? = nil, advice: String = "", underlying: (any Error)? = nil
    ) {
        self.kind = kind
        self.stack = stack
        self.message = message
        self.status = status
        self.rootCause = rootCause
        self.advice = advice
        self.underlying = underlying
    }

    /// `stack: message (status …); root cause: …. Next: advice`.
    public var description: String {
        var text = "\(stack): \(message)"
        if let status { text += " (status \(status))" }
        if let rootCause {
            text += "; root cause: \(rootCause.logicalId) (\(rootCause.resourceType)) \(rootCause.status)"
            if !rootCause.stackName.isEmpty && rootCause.stackName != stack {
                text += " in nested stack \(rootCause.stackName)"
            }
            if let reason = rootCause.reason { text += ": \(reason)" }
        }
        if !advice.isEmpty { text += ". Next: \(advice)" }
        return text
    }
}
