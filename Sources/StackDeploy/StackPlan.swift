/// What a change set would do to one stack, without doing it.
public struct StackPlan: Sendable, Equatable {
    /// The stack.
    public let stack: String
    /// Whether the stack would be created.
    public let isNew: Bool
    /// The changes (empty when there are none).
    public let changes: [ResourceChange]

    /// A readable block: the stack, then one line per change (`+` add, `~` modify, `-` remove).
    public var text: String {
        let head = "\(stack): " + (isNew ? "create" : changes.isEmpty ? "no changes" : "update")
        let lines = changes.map { change -> String in
            let mark = ["Add": "+", "Modify": "~", "Remove": "-"][change.action] ?? "*"
            let replacement = change.action == "Modify" ? "  replacement: \(change.replacement ?? "False")" : ""
            return "  \(mark) \(change.logicalId)  \(change.resourceType)\(replacement)"
        }
        return ([head] + lines).joined(separator: "\n")
    }
}
