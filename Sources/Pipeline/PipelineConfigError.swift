import AtlassianAdmin

/// What is wrong with a pipeline config: one line per problem, each with `file:line:column`
/// and the key path.
public struct PipelineConfigError: Error, Sendable, CustomStringConvertible {
    /// One problem, with its kind to switch on and where it is.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// What kind of problem it is.
        public enum Kind: Sendable, Hashable {
            /// A non-PROD environment names one of PROD's resources (by identity).
            case productionResource(ResourceIdentity.Kind)
            /// Anything else: unreadable, unknown or missing keys, wrong values, bad references.
            case invalid
        }

        /// What kind of problem it is.
        public let kind: Kind
        /// The key path, for example `["environments", "dev", "deployBucket"]` (empty when the
        /// problem is not about one key).
        public let keyPath: [String]
        /// `file:line:column: key.path: message`.
        public let description: String
    }

    /// The problems, with their kinds.
    public let issues: [Problem]

    /// The problems as text.
    public var problems: [String] { issues.map(\.description) }

    /// An error of problems described only by text (kind ``Problem/Kind/invalid``).
    public init(problems: [String]) {
        issues = problems.map { Problem(kind: .invalid, keyPath: [], description: $0) }
    }

    /// An error of `issues`.
    public init(issues: [Problem]) { self.issues = issues }

    public var description: String {
        problems.count == 1
            ? problems[0] : "the pipeline config has \(problems.count) problems:\n" + problems.joined(separator: "\n")
    }
}
