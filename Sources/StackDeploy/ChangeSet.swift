/// One change of a change set.
public struct ResourceChange: Sendable, Equatable {
    /// `Add`, `Modify`, `Remove`, `Import` or `Dynamic`.
    public let action: String
    /// The resource's logical id in the template.
    public let logicalId: String
    /// The resource's type, for example `AWS::EC2::Instance`.
    public let resourceType: String
    /// `True`, `False` or `Conditional` for a `Modify`; nil otherwise.
    public let replacement: String?

    /// Whether the change replaces the resource (or may: `Conditional`).
    public var replaces: Bool { replacement == "True" || replacement == "Conditional" }
}

/// A change set as `DescribeChangeSet` reports it.
public struct ChangeSet: Sendable, Equatable {
    /// The change set's ARN.
    public let id: String
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `DELETE_*` or `FAILED`.
    public let status: String
    /// Why it failed, when it did.
    public let statusReason: String?
    /// `AVAILABLE` when it can be executed.
    public let executionStatus: String?
    /// The resource changes (all pages).
    public let changes: [ResourceChange]

    /// Whether the change set failed only because there was nothing to change, in either of the
    /// wordings CloudFormation uses.
    public var isEmpty: Bool {
        status == "FAILED" && CloudFormationClient.isNoChangesMessage(statusReason ?? "")
    }
}
