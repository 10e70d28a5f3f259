import Foundation

/// The risk gate on change sets: which resource types hold data, what a change does to them, and
/// the stack policy that keeps CloudFormation itself from replacing or deleting them.
///
/// A change that replaces (`Replacement` `True` or `Conditional`) or removes a resource of a
/// stateful type is refused unless the stack allows that resource by its logical id
/// (``StackSpec/allowReplaceOrDelete``). IAM changes pass but are listed apart, so a reviewer
/// sees who gains which permissions.
///
/// ```swift
/// let risk = ChangeRisk(addingStatefulTypes: ["AWS::ElastiCache::ServerlessCache"])
/// let verdict = risk.verdict(of: change, allowed: spec.allowReplaceOrDelete)
/// ```
public struct ChangeRisk: Sendable, Equatable {
    /// The resource types whose replacement or deletion loses data: the databases, file systems,
    /// volumes, tables and buckets the issue names, and every type CloudFormation's
    /// `DeletionPolicy: Snapshot` supports (AWS documents those as the resources with data to
    /// snapshot).
    public static let standardStatefulTypes: Set<String> = [
        "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::EFS::FileSystem", "AWS::EC2::Volume",
        "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket",
        "AWS::ElastiCache::CacheCluster", "AWS::ElastiCache::ReplicationGroup", "AWS::Neptune::DBCluster",
        "AWS::Redshift::Cluster",
    ]

    /// What the gate makes of one change.
    public enum Verdict: Sendable, Equatable {
        /// Nothing stateful is replaced or removed, and no IAM resource changes.
        case routine
        /// An IAM resource is added, changed or removed: allowed, and listed apart.
        case iam
        /// A stateful resource is replaced or removed, and the stack allows it.
        case allowed
        /// A stateful resource would be replaced or removed: the deploy stops.
        case refused

        /// How the plan prints it.
        public var label: String {
            switch self {
            case .routine: "ok"
            case .iam: "IAM"
            case .allowed: "ALLOWED (allowReplaceOrDelete)"
            case .refused: "REFUSED: loses a stateful resource"
            }
        }
    }

    /// The stateful types: the standard ones and those the caller adds.
    public let statefulTypes: Set<String>

    /// A gate with the standard stateful types and `extra` ones (for example a custom resource
    /// type that holds data).
    public init(addingStatefulTypes extra: some Sequence<String> = []) {
        statefulTypes = Self.standardStatefulTypes.union(extra)
    }

    /// Whether `change` replaces or removes its resource (a `Conditional` replacement counts:
    /// CloudFormation decides only while it runs).
    public static func destroys(_ change: ResourceChange) -> Bool {
        change.action == "Remove" || (change.action == "Modify" && change.replaces)
    }

    /// The verdict on `change` for a stack that allows replacing or deleting `allowed`
    /// (logical ids).
    public func verdict(of change: ResourceChange, allowed: Set<String>) -> Verdict {
        if statefulTypes.contains(change.resourceType), Self.destroys(change) {
            return allowed.contains(change.logicalId) ? .allowed : .refused
        }
        return change.resourceType.hasPrefix("AWS::IAM::") ? .iam : .routine
    }

    /// The stack policy set on every stack the deployer creates or updates: every update is
    /// allowed except replacing or deleting a resource of a stateful type, other than the
    /// `allowed` logical ids. A stack policy cannot be removed once set, only replaced, so the
    /// deployer sets it again on each deploy with that deploy's allowances.
    public func stackPolicy(allowing allowed: Set<String>) -> String {
        var deny: [String: Any] = [
            "Effect": "Deny", "Principal": "*", "Action": ["Update:Replace", "Update:Delete"],
            "Condition": ["StringEquals": ["ResourceType": statefulTypes.sorted()]],
        ]
        if allowed.isEmpty {
            deny["Resource"] = "*"
        } else {
            deny["NotResource"] = allowed.sorted().map { "LogicalResourceId/\($0)" }
        }
        let policy: [String: Any] = [
            "Statement": [["Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"], deny]
        ]
        let data = try! JSONSerialization.data(withJSONObject: policy, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
