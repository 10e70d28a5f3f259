/// What a change set would do to one stack, without doing it.
public struct StackPlan: Sendable, Equatable {
    /// The stack.
    public let stack: String
    /// Whether the stack would be created.
    public let isNew: Bool
    /// The changes (empty when there are none).
    public let changes: [ResourceChange]
    /// The risk gate's verdict on each change, in the order of ``changes``.
    public let verdicts: [ChangeRisk.Verdict]

    /// Creates a plan.
    public init(stack: String, isNew: Bool, changes: [ResourceChange], verdicts: [ChangeRisk.Verdict]) {
        self.stack = stack
        self.isNew = isNew
        self.changes = changes
        self.verdicts = verdicts
    }

    /// Whether the deploy would go ahead: no change is refused.
    public var isAllowed: Bool { !verdicts.contains(.refused) }

    /// The IAM changes, listed apart in ``text``.
    public var iamChanges: [ResourceChange] {
        zip(changes, verdicts).filter { $0.1 == .iam }.map(\.0)
    }

    /// A readable block: the stack, then one line per change (`+` add, `~` modify, `-` remove)
    /// with its verdict, then the IAM changes again on their own.
    public var text: String {
        let head = "\(stack): " + (isNew ? "create" : changes.isEmpty ? "no changes" : "update")
            + (isAllowed ? "" : " REFUSED by the risk gate (allow with allowReplaceOrDelete, or change the template)")
        func line(_ change: ResourceChange) -> String {
            let mark = ["Add": "+", "Modify": "~", "Remove": "-"][change.action] ?? "*"
            let replacement = change.action == "Modify" ? "  replacement: \(change.replacement ?? "False")" : ""
            return "  \(mark) \(change.logicalId)  \(change.resourceType)\(replacement)"
        }
        var lines = zip(changes, verdicts).map { change, verdict in "\(line(change))  [\(verdict.label)]" }
        if !iamChanges.isEmpty {
            lines.append("  IAM changes (\(iamChanges.count)):")
            lines += iamChanges.map { "  " + line($0) }
        }
        return ([head] + lines).joined(separator: "\n")
    }
}
