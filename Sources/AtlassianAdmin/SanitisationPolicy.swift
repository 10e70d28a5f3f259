/// Which sanitisation steps an environment runs, and their parameters: part of
/// ``EnvironmentSettings`` (`sanitisation:` in the settings file).
///
/// Every step is on unless ``off`` names it (`keepFromProduction` in the file, as the
/// pipeline's `refresh:` section calls it; `off` is read too); an unknown name is an error
/// (``EnvironmentSettings/validate()``), so a misspelt name never leaves a step on silently.
///
/// ```yaml
/// sanitisation:
///   keepFromProduction: [jira.webhooks.off]   # steps off; only where PROD's behaviour is really wanted
///   webhookAllowList: ["https://hooks.dev.example.com/"]
///   productionHosts: [jira-internal.example.com]
///   licences: {jira: "secretsmanager:dev/jira-licence"}
/// ```
public struct SanitisationPolicy: Sendable, Equatable, Codable {
    /// Step names turned off explicitly.
    public var off: [String]
    /// URL prefixes of webhooks that stay enabled (compared case-insensitively).
    public var webhookAllowList: [String]
    /// PROD's hosts besides those of PROD's base URLs, for the PROD-reference scan (hostnames
    /// or URLs).
    public var productionHosts: [String]
    /// A secret reference for each product's licence (`jira`: ...). The caller resolves it and
    /// passes the licence to ``Sanitisation/apply(_:database:settings:context:only:logger:)``.
    public var licences: [String: String]

    /// Creates a policy; the default has every step on.
    public init(
        off: [String] = [], webhookAllowList: [String] = [], productionHosts: [String] = [],
        licences: [String: String] = [:]
    ) {
        self.off = off
        self.webhookAllowList = webhookAllowList
        self.productionHosts = productionHosts
        self.licences = licences
    }

    enum CodingKeys: String, CodingKey { case keepFromProduction, off, webhookAllowList, productionHosts, licences }

    /// Reads a policy; every field is optional.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        off =
            try container.decodeIfPresent([String].self, forKey: .keepFromProduction)
            ?? container.decodeIfPresent([String].self, forKey: .off) ?? []
        webhookAllowList = try container.decodeIfPresent([String].self, forKey: .webhookAllowList) ?? []
        productionHosts = try container.decodeIfPresent([String].self, forKey: .productionHosts) ?? []
        licences = try container.decodeIfPresent([String: String].self, forKey: .licences) ?? [:]
    }

    /// Writes the policy (the steps off as `keepFromProduction`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(off, forKey: .keepFromProduction)
        try container.encode(webhookAllowList, forKey: .webhookAllowList)
        try container.encode(productionHosts, forKey: .productionHosts)
        try container.encode(licences, forKey: .licences)
    }

    /// Whether `step` runs.
    public func isOn(_ step: SanitisationStep) -> Bool { !off.contains(step.name) }

    /// What is wrong with the policy: unknown step names, licences for unknown products, allow-list
    /// entries that are not http(s) URL prefixes.
    func problems() -> [String] {
        var problems: [String] = []
        for name in off where SanitisationStep.named(name) == nil {
            problems.append(
                "unknown sanitisation step '\(name)' in keepFromProduction (known: "
                    + SanitisationStep.all.map(\.name).joined(separator: ", ") + ")")
        }
        for product in licences.keys.sorted() where Product(rawValue: product) == nil {
            problems.append("sanitisation.licences names '\(product)', which is not jira or confluence")
        }
        for prefix in webhookAllowList {
            let lower = prefix.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://"), lower.count > "https://".count else {
                problems.append("webhookAllowList entry '\(prefix)' is not an http(s) URL prefix")
                continue
            }
        }
        return problems
    }

    /// Whether `url` starts with an allow-listed prefix.
    func allowsWebhook(_ url: String) -> Bool {
        let lower = url.lowercased()
        return webhookAllowList.contains { lower.hasPrefix($0.lowercased()) }
    }
}
