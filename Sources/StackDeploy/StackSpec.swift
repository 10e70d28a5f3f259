import Foundation

/// What one CloudFormation stack should look like: its template, parameters, tags and what it
/// depends on.
///
/// ```swift
/// let app = StackSpec(
///     name: "dev-jira", template: .file("cloudformation/jira.yaml"),
///     parameters: ["CodeVersion": .value(commit), "VpcId": .output(stack: "dev-network", key: "VpcId")],
///     tags: ["environment": "dev"], capabilities: ["CAPABILITY_NAMED_IAM"])
/// ```
public struct StackSpec: Sendable, Equatable {
    /// Where the template comes from.
    public enum Template: Sendable, Equatable {
        /// A local file; uploaded to the deploy bucket when it is over CloudFormation's inline limit.
        case file(String)
        /// The template text itself.
        case body(String)
        /// An S3 URL of the template.
        case url(String)
    }

    /// A parameter's value.
    public enum Parameter: Sendable, Equatable {
        /// This value.
        case value(String)
        /// An output of another stack (which then is a dependency).
        case output(stack: String, key: String)
        /// Whatever the stack has now (only for updates).
        case previous
    }

    /// The stack's name.
    public var name: String
    /// The template.
    public var template: Template
    /// Parameters by key.
    public var parameters: [String: Parameter]
    /// Tags by key.
    public var tags: [String: String]
    /// Capabilities to acknowledge, for example `CAPABILITY_NAMED_IAM`.
    public var capabilities: [String]
    /// Whether termination protection should be on.
    public var terminationProtection: Bool
    /// Stacks that must be deployed first, besides those whose outputs feed the parameters.
    public var dependsOn: [String]
    /// Logical ids of stateful resources this deploy may replace or delete (``ChangeRisk``);
    /// any other such change is refused.
    public var allowReplaceOrDelete: Set<String>

    /// Creates a spec.
    public init(
        name: String, template: Template, parameters: [String: Parameter] = [:], tags: [String: String] = [:],
        capabilities: [String] = [], terminationProtection: Bool = false, dependsOn: [String] = [],
        allowReplaceOrDelete: Set<String> = []
    ) {
        self.name = name
        self.template = template
        self.parameters = parameters
        self.tags = tags
        self.capabilities = capabilities
        self.terminationProtection = terminationProtection
        self.dependsOn = dependsOn
        self.allowReplaceOrDelete = allowReplaceOrDelete
    }

    /// Every stack this one waits for: ``dependsOn`` and the stacks whose outputs it reads.
    public var dependencies: Set<String> {
        var result = Set(dependsOn)
        for case .output(let stack, _) in parameters.values { result.insert(stack) }
        return result
    }
}
