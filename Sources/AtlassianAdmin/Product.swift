/// An Atlassian Data Center product Atlas Relay administers: the one name for it everywhere
/// (config keys, settings stores, clients, testers, the simulator), never a bare string.
///
/// The raw value is the name used in `pipeline.yml` and on the command line (`jira`,
/// `confluence`).
public enum Product: String, Sendable, CaseIterable, Codable, Hashable, CustomStringConvertible {
    /// Jira Software Data Center.
    case jira
    /// Confluence Data Center.
    case confluence

    /// The product's display name (`Jira`, `Confluence`).
    public var displayName: String {
        switch self {
        case .jira: "Jira"
        case .confluence: "Confluence"
        }
    }

    /// The raw value: `jira` or `confluence`.
    public var description: String { rawValue }
}
