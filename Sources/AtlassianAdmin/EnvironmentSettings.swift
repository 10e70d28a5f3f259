import Foundation

/// How an environment should look once PROD data is in it: its own titles, base URLs, colours and
/// banner, and no outgoing mail. ``plan(jira:confluence:)`` shows what differs from what is there,
/// ``apply(jira:confluence:)`` changes only that and checks the result.
///
/// This covers the settings kept in the product databases (the stores), written while the
/// applications are down, right after a restore.
public struct EnvironmentSettings: Sendable, Equatable, Codable {
    /// Jira's desired settings.
    public struct Jira: Sendable, Equatable, Codable {
        /// The site title (`jira.title`).
        public var title: String?
        /// The base URL (`jira.baseurl`).
        public var baseURL: String?
        /// Top bar, text, highlight, menu and link colours as `#rrggbb`, by name: `topBar`,
        /// `topText`, `topHighlight`, `menu`, `link`.
        public var colours: [String: String]?
        /// The announcement banner (HTML), shown to everyone; empty removes it.
        public var banner: String?
        /// Outgoing mail off (`jira.mail.send.disabled`).
        public var mailDisabled: Bool?

        /// Creates Jira settings; nil leaves a setting as it is.
        public init(
            title: String? = nil, baseURL: String? = nil, colours: [String: String]? = nil, banner: String? = nil,
            mailDisabled: Bool? = nil
        ) {
            self.title = title
            self.baseURL = baseURL
            self.colours = colours
            self.banner = banner
            self.mailDisabled = mailDisabled
        }
    }

    /// The environment's name, for example `dev`.
    public var environment: String
    /// Whether this is PROD (then nothing is written unless allowed).
    public var isProduction: Bool
    /// PROD's base URLs, which a non-PROD environment must never take over.
    public var productionBaseURLs: [String]
    /// Jira, when the environment has one.
    public var jira: Jira?
    /// Confluence, when the environment has one: the settings of its database store.
    public var confluence: ConfluenceSettingsStore.Settings?

    /// Creates the desired state of an environment.
    public init(
        environment: String, isProduction: Bool = false, productionBaseURLs: [String] = [], jira: Jira? = nil,
        confluence: ConfluenceSettingsStore.Settings? = nil
    ) {
        self.environment = environment
        self.isProduction = isProduction
        self.productionBaseURLs = productionBaseURLs
        self.jira = jira
        self.confluence = confluence
    }

    enum CodingKeys: String, CodingKey {
        case environment, isProduction, productionBaseURLs, jira, confluence
    }

    /// Reads settings; `isProduction` defaults to false and `productionBaseURLs` to none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        environment = try container.decode(String.self, forKey: .environment)
        isProduction = try container.decodeIfPresent(Bool.self, forKey: .isProduction) ?? false
        productionBaseURLs = try container.decodeIfPresent([String].self, forKey: .productionBaseURLs) ?? []
        jira = try container.decodeIfPresent(Jira.self, forKey: .jira)
        confluence = try container.decodeIfPresent(ConfluenceSettingsStore.Settings.self, forKey: .confluence)
    }

    /// Jira's colour names and their application properties.
    public static let jiraColourKeys: [String: String] = [
        "topBar": "jira.lf.top.bgcolour", "topText": "jira.lf.top.textcolour",
        "topHighlight": "jira.lf.top.hilightcolour", "menu": "jira.lf.menu.bgcolour", "link": "jira.lf.text.linkcolour",
    ]

    /// Checks the settings themselves: colour names and values, and that a non-PROD environment
    /// does not use a PROD base URL.
    ///
    /// - Throws: ``SettingsStoreError`` naming every problem.
    public func validate() throws {
        var problems: [String] = []
        for (name, value) in (jira?.colours ?? [:]).sorted(by: { $0.key < $1.key }) {
            if Self.jiraColourKeys[name] == nil {
                problems.append(
                    "unknown Jira colour '\(name)' (known: \(Self.jiraColourKeys.keys.sorted().joined(separator: ", ")))"
                )
            }
            if value.count != 7 || !value.hasPrefix("#") || !value.dropFirst().allSatisfy(\.isHexDigit) {
                problems.append("Jira colour \(name) is '\(value)', not #rrggbb")
            }
        }
        if !isProduction {
            let prod = Set(productionBaseURLs.map(Self.normalised))
            for (product, url) in [("Jira", jira?.baseURL), ("Confluence", confluence?.baseURL)] {
                if let url, prod.contains(Self.normalised(url)) {
                    problems.append("\(product)'s base URL \(url) is PROD's, but \(environment) is not PROD")
                }
            }
        }
        guard problems.isEmpty else {
            throw SettingsStoreError(
                "the settings for \(environment) are invalid: " + problems.joined(separator: "; ")
                    + "; nothing was written")
        }
    }

    static func normalised(_ url: String) -> String {
        var text = url.lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// One setting that differs.
    public struct Change: Sendable, Equatable {
        /// `Jira` or `Confluence`.
        public let product: String
        /// The setting, for example `jira.title` or `siteTitle`.
        public let setting: String
        /// What it is now (nil when absent).
        public let from: String?
        /// What it will be.
        public let to: String
    }

    /// What applying would change, as data and as text.
    public struct Plan: Sendable, Equatable {
        /// The changes, Jira first.
        public let changes: [Change]

        /// One line per change, `product setting: "from" → "to"`, or a line saying nothing changes.
        public var text: String {
            guard !changes.isEmpty else { return "no changes" }
            return changes.map {
                "\($0.product) \($0.setting): \($0.from.map { "\"\($0)\"" } ?? "(none)") → \"\($0.to)\""
            }
            .joined(separator: "\n")
        }
    }

    /// Jira's desired properties.
    func jiraValues() -> [String: JiraSettingsStore.Value] {
        guard let jira else { return [:] }
        var values: [String: JiraSettingsStore.Value] = [:]
        if let title = jira.title { values["jira.title"] = .string(title) }
        if let url = jira.baseURL { values["jira.baseurl"] = .string(url) }
        for (name, colour) in jira.colours ?? [:] {
            if let key = Self.jiraColourKeys[name] { values[key] = .string(colour) }
        }
        if let banner = jira.banner {
            values["jira.alertheader"] = .text(banner)
            values["jira.alertheader.visibility"] = .string("public")
        }
        if let off = jira.mailDisabled { values["jira.mail.send.disabled"] = .number(off ? 1 : 0) }
        return values
    }

    func confluenceValues() -> ConfluenceSettingsStore.Settings { confluence ?? .init() }

    /// What differs between these settings and the databases.
    public func plan(jira: JiraSettingsStore?, confluence: ConfluenceSettingsStore?) async throws -> Plan {
        try validate()
        var changes: [Change] = []
        if let jira, self.jira != nil {
            let current = try await jira.properties()
            for (key, value) in jiraValues().sorted(by: { $0.key < $1.key }) where current[key] != value {
                changes.append(
                    Change(product: "Jira", setting: key, from: current[key]?.description, to: value.description))
            }
        }
        if let confluence, self.confluence != nil {
            let current = try await confluence.settings()
            let wanted = confluenceValues()
            for entry in ConfluenceSettingsStore.paths {
                guard let value = wanted[keyPath: entry.keyPath], current[keyPath: entry.keyPath] != value else {
                    continue
                }
                changes.append(
                    Change(
                        product: "Confluence", setting: entry.path.joined(separator: "/"),
                        from: current[keyPath: entry.keyPath], to: value))
            }
        }
        return Plan(changes: changes)
    }

    /// Changes what differs, then checks that nothing is left to change.
    ///
    /// - Parameter allowProduction: must be true when ``isProduction`` is.
    /// - Returns: the plan that was applied.
    /// - Throws: ``SettingsStoreError`` for invalid settings or PROD without permission (before
    ///   anything is written), or when the databases do not read back as written.
    @discardableResult
    public func apply(jira: JiraSettingsStore?, confluence: ConfluenceSettingsStore?, allowProduction: Bool = false)
        async throws -> Plan
    {
        if isProduction && !allowProduction {
            throw SettingsStoreError(
                "\(environment) is PROD; its settings are rewritten only when that is allowed explicitly")
        }
        let plan = try await plan(jira: jira, confluence: confluence)
        guard !plan.changes.isEmpty else { return plan }
        if let jira, self.jira != nil { try await jira.set(jiraValues()) }
        if let confluence, self.confluence != nil { try await confluence.set(confluenceValues()) }
        let left = try await self.plan(jira: jira, confluence: confluence)
        guard left.changes.isEmpty else {
            throw SettingsStoreError("after apply, these still differ:\n\(left.text)")
        }
        return plan
    }
}
