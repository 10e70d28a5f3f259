/// A CloudFormation stack status, with what it means for a deployment.
///
/// Every status CloudFormation documents is known; an unknown one (a future addition) is kept as
/// text and treated as "in progress" until it proves otherwise, so nothing acts on a guess.
public struct StackStatus: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The status as CloudFormation spells it, for example `UPDATE_ROLLBACK_COMPLETE`.
    public let rawValue: String

    /// Wraps a status string.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// What a status means for the next deployment.
    public enum Category: String, Sendable {
        /// The last operation succeeded; the stack is ready for the next one.
        case complete
        /// The last operation failed and was rolled back; the stack works at its previous state
        /// and can be updated again.
        case rolledBack
        /// The stack never came into being (or failed to go away); it can only be deleted.
        case deleteOnly
        /// A rollback failed; the stack needs `continue-update-rollback` before anything else.
        case stuck
        /// The last operation failed with rollback disabled; the failed resources were kept.
        case failedWithoutRollback
        /// An operation is running; wait for it.
        case inProgress
        /// Created by a change set that was never executed: there is nothing yet to update.
        case reviewInProgress
        /// Deleted.
        case deleted
    }

    /// The category of this status.
    public var category: Category {
        switch rawValue {
        case "CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE": .complete
        case "UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE": .rolledBack
        case "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED": .deleteOnly
        case "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED": .stuck
        case "CREATE_FAILED", "UPDATE_FAILED": .failedWithoutRollback
        case "REVIEW_IN_PROGRESS": .reviewInProgress
        case "DELETE_COMPLETE": .deleted
        default: .inProgress  // *_IN_PROGRESS, *_CLEANUP_IN_PROGRESS and anything new
        }
    }

    /// Whether an operation is still running.
    public var isInProgress: Bool { category == .inProgress }

    /// Whether the stack can take a change set now.
    public var acceptsChanges: Bool {
        [.complete, .rolledBack, .reviewInProgress, .failedWithoutRollback].contains(category)
    }

    /// What an operator should do about a stack left in this status (empty when nothing).
    ///
    /// - Parameters:
    ///   - stack: the stack's name, for the commands.
    ///   - failedResources: logical ids whose rollback failed, for `--resources-to-skip`.
    public func advice(stack: String, failedResources: [String] = []) -> String {
        switch category {
        case .complete, .deleted: return ""
        case .rolledBack:
            return
                "the update was rolled back and \(stack) runs its previous version; fix the cause above and deploy again"
        case .deleteOnly:
            return
                "\(stack) can only be deleted now: aws cloudformation delete-stack --stack-name \(stack), then deploy again"
        case .stuck:
            let skip = failedResources.isEmpty ? "" : " --resources-to-skip " + failedResources.joined(separator: " ")
            return "the rollback of \(stack) failed; fix or skip the resources that could not roll back: "
                + "aws cloudformation continue-update-rollback --stack-name \(stack)\(skip)"
        case .failedWithoutRollback:
            return "\(stack) failed with rollback disabled and kept what it made; deploy a fix, or roll back with "
                + "aws cloudformation rollback-stack --stack-name \(stack)"
        case .inProgress:
            return "\(stack) is busy (\(rawValue)); wait until it finishes, or cancel an update with "
                + "aws cloudformation cancel-update-stack --stack-name \(stack)"
        case .reviewInProgress:
            return "\(stack) exists only as an unexecuted change set; the next deploy creates it"
        }
    }

    public var description: String { rawValue }
}
