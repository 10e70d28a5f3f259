import Foundation

/// How an environment should look once PROD data is in it: its own titles, base URLs, colours and
/// banner, and no outgoing mail. ``plan(jira:confluence:)`` shows what differs from what is there,
/// ``apply(jira:confluence:)`` changes only that and checks the result.
///
/// Two halves: ``plan(jira:confluence:)`` and ``apply(jira:confluence:allowProduction:)`` work on
/// the product databases (the stores) while the applications are down, right after a restore;
/// ``plan(jiraAPI:confluenceAPI:)`` and ``apply(jiraAPI:confluenceAPI:allowProduction:)`` work over
/// REST once they run (application links, Confluence's colour scheme, Jira's title, base URL and
/// colours).
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
        /// Where each application link should point, by the peer's link name or type id (for
        /// example `confluence: https://confluence.dev.example.com`).
        public var applicationLinks: [String: String]?

        /// Creates Jira settings; nil leaves a setting as it is.
        public init(
            title: String? = nil, baseURL: String? = nil, colours: [String: String]? = nil, banner: String? = nil,
            mailDisabled: Bool? = nil, applicationLinks: [String: String]? = nil
        ) {
            self.title = title
            self.baseURL = baseURL
            self.colours = colours
            self.banner = banner
            self.mailDisabled = mailDisabled
            self.applicationLinks = applicationLinks
        }
    }

    /// Confluence's desired settings.
    public struct Confluence: Sendable, Equatable, Codable {
        /// The site title (`<siteTitle>`).
        public var siteTitle: String?
        /// The base URL (`<baseUrl>`).
        public var baseURL: String?
        /// HTML at the top of every page (the banner).
        public var bannerHTML: String?
        /// Colours of the light colour scheme as `#rrggbb`, by Confluence's names (`topBarColor`,
        /// `linkColor`, …); set over REST.
        public var colours: [String: String]?
        /// Where each application link should point, by the peer's link name or type id.
        public var applicationLinks: [String: String]?

        /// Creates Confluence settings; nil leaves a setting as it is.
        public init(
            siteTitle: String? = nil, baseURL: String? = nil, bannerHTML: String? = nil,
            colours: [String: String]? = nil, applicationLinks: [String: String]? = nil
        ) {
            self.siteTitle = siteTitle
            self.baseURL = baseURL
            self.bannerHTML = bannerHTML
            self.colours = colours
            self.applicationLinks = applicationLinks
        }

        var store: ConfluenceSettingsStore.Settings {
            .init(siteTitle: siteTitle, baseURL: baseURL, bannerHTML: bannerHTML)
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
    /// Confluence, when the environment has one.
    public var confluence: Confluence?

    /// Creates the desired state of an environment.
    public init(
        environment: String, isProduction: Bool = false, productionBaseURLs: [String] = [], jira: Jira? = nil,
        confluence: Confluence? = nil
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
        confluence = try container.decodeIfPresent(Confluence.self, forKey: .confluence)
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
            if !Self.isColour(value) { problems.append("Jira colour \(name) is '\(value)', not #rrggbb") }
        }
        for (name, value) in (confluence?.colours ?? [:]).sorted(by: { $0.key < $1.key }) {
            if !Self.confluenceColourKeys.contains(name) {
                problems.append(
                    "unknown Confluence colour '\(name)' (known: \(Self.confluenceColourKeys.joined(separator: ", ")))")
            }
            if !Self.isColour(value) { problems.append("Confluence colour \(name) is '\(value)', not #rrggbb") }
        }
        let links =
            (jira?.applicationLinks ?? [:]).map { ("Jira", $0.key, $0.value) }
            + (confluence?.applicationLinks ?? [:]).map { ("Confluence", $0.key, $0.value) }
        for (product, peer, url) in links.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                problems.append("\(product)'s application link to \(peer) is '\(url)', not an http(s) URL")
                continue
            }
        }
        if !isProduction {
            let prod = Set(productionBaseURLs.map(Self.normalised))
            for (product, url) in [("Jira", jira?.baseURL), ("Confluence", confluence?.baseURL)] {
                if let url, prod.contains(Self.normalised(url)) {
                    problems.append("\(product)'s base URL \(url) is PROD's, but \(environment) is not PROD")
                }
            }
            for (product, peer, url) in links where prod.contains(Self.normalised(url)) {
                problems.append(
                    "\(product)'s application link to \(peer) would point at PROD (\(url)), but \(environment) is not PROD"
                )
            }
        }
        guard problems.isEmpty else {
            throw SettingsStoreError(
                "the settings for \(environment) are invalid: " + problems.joined(separator: "; ")
                    + "; nothing was written")
        }
    }

    /// Refuses PROD unless `allowProduction`.
    func checkWritable(allowProduction: Bool) throws {
        if isProduction && !allowProduction {
            throw SettingsStoreError(
                "\(environment) is PROD; its settings are rewritten only when that is allowed explicitly")
        }
    }

    /// The colour names of Confluence's colour scheme.
    public static let confluenceColourKeys = [
        "breadcrumbsTextColor", "headerButtonBgColor", "headerButtonTextColor", "headingTextColor", "linkColor",
        "menuItemSelectedBgColor", "menuItemSelectedTextColor", "menuItemTextColor", "searchFieldBgColor",
        "searchFieldTextColor", "topBarColor", "topBarMenuSelectedBgColor", "topBarMenuSelectedTextColor",
    ]

    static func isColour(_ value: String) -> Bool {
        value.count == 7 && value.hasPrefix("#") && value.dropFirst().allSatisfy(\.isHexDigit)
    }

    /// `url` as ``ResourceIdentity`` compares URLs (see ``ResourceIdentity/normalisedURL(_:)``).
    package static func normalised(_ url: String) -> String { ResourceIdentity.normalisedURL(url) }

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

    func confluenceValues() -> ConfluenceSettingsStore.Settings { confluence?.store ?? .init() }

    /// The links in `links` that `targets` wants elsewhere, each relocated; a target that matches
    /// no link is an error (a misspelt peer must not pass silently).
    static func relocations(_ links: [ApplicationLink], targets: [String: String]?, product: String) throws
        -> [(from: ApplicationLink, to: ApplicationLink)]
    {
        var moves: [(from: ApplicationLink, to: ApplicationLink)] = []
        for (peer, url) in (targets ?? [:]).sorted(by: { $0.key < $1.key }) {
            let matching = links.filter {
                $0.name.lowercased() == peer.lowercased() || $0.typeId.lowercased() == peer.lowercased()
            }
            guard !matching.isEmpty else {
                throw SettingsStoreError(
                    "\(product) has no application link to '\(peer)' (links: "
                        + "\(links.map { "\($0.name) (\($0.typeId))" }.joined(separator: ", "))); check the peer's name"
                )
            }
            for link in matching
            where normalised(link.rpcUrl) != normalised(url) || link.displayUrl.map(normalised) != normalised(url) {
                moves.append((link, link.relocated(to: url)))
            }
        }
        return moves
    }

    static func linkChanges(_ moves: [(from: ApplicationLink, to: ApplicationLink)], product: String) -> [Change] {
        moves.map {
            Change(
                product: product, setting: "application link \($0.from.name)", from: $0.from.rpcUrl, to: $0.to.rpcUrl)
        }
    }

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
            let moves = try Self.relocations(
                try await jira.applicationLinks(), targets: self.jira?.applicationLinks, product: "Jira")
            changes += Self.linkChanges(moves, product: "Jira")
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
            let moves = try Self.relocations(
                try await confluence.applicationLinks(), targets: self.confluence?.applicationLinks,
                product: "Confluence")
            changes += Self.linkChanges(moves, product: "Confluence")
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
        try checkWritable(allowProduction: allowProduction)
        let plan = try await plan(jira: jira, confluence: confluence)
        guard !plan.changes.isEmpty else { return plan }
        if let jira, self.jira != nil {
            try await jira.set(jiraValues())
            for move in try Self.relocations(
                try await jira.applicationLinks(), targets: self.jira?.applicationLinks, product: "Jira")
            {
                try await jira.saveApplicationLink(move.to)
            }
        }
        if let confluence, self.confluence != nil {
            try await confluence.set(confluenceValues())
            for move in try Self.relocations(
                try await confluence.applicationLinks(), targets: self.confluence?.applicationLinks,
                product: "Confluence")
            {
                try await confluence.saveApplicationLink(move.to)
            }
        }
        let left = try await self.plan(jira: jira, confluence: confluence)
        guard left.changes.isEmpty else {
            throw SettingsStoreError("after apply, these still differ:\n\(left.text)")
        }
        return plan
    }
}

extension EnvironmentSettings {
    /// What differs from the running applications, read over REST: Jira's title, base URL and
    /// colours, Confluence's colour scheme, and both products' application links. (Banners, mail
    /// and Confluence's title and base URL have no REST API; ``plan(jira:confluence:)`` covers them.)
    public func plan(jiraAPI: JiraClient?, confluenceAPI: ConfluenceClient?) async throws -> Plan {
        try validate()
        var changes: [Change] = []
        if let jiraAPI, let jira {
            let info = try await jiraAPI.serverInfo()
            if let url = jira.baseURL, info.baseUrl != url {
                changes.append(Change(product: "Jira", setting: "baseUrl", from: info.baseUrl, to: url))
            }
            var wanted: [String: String] = [:]
            if let title = jira.title { wanted["jira.title"] = title }
            for (name, colour) in jira.colours ?? [:] { wanted[Self.jiraColourKeys[name]!] = colour }
            for (key, value) in wanted.sorted(by: { $0.key < $1.key }) {
                let current = try await jiraAPI.applicationProperty(key)?.value
                if current != value { changes.append(Change(product: "Jira", setting: key, from: current, to: value)) }
            }
            let moves = try Self.relocations(
                try await jiraAPI.applicationLinks(), targets: jira.applicationLinks, product: "Jira")
            changes += Self.linkChanges(moves, product: "Jira")
        }
        if let confluenceAPI, let confluence {
            if let colours = confluence.colours, !colours.isEmpty {
                let current = try await confluenceAPI.colorScheme().colorSchemeModelLight ?? [:]
                for (name, colour) in colours.sorted(by: { $0.key < $1.key })
                where current[name]?.lowercased() != colour.lowercased() {
                    changes.append(
                        Change(product: "Confluence", setting: "colour \(name)", from: current[name], to: colour))
                }
            }
            let moves = try Self.relocations(
                try await confluenceAPI.applicationLinks(), targets: confluence.applicationLinks,
                product: "Confluence")
            changes += Self.linkChanges(moves, product: "Confluence")
        }
        return Plan(changes: changes)
    }

    /// Changes over REST what ``plan(jiraAPI:confluenceAPI:)`` finds different, then checks that
    /// nothing is left to change.
    @discardableResult
    public func apply(jiraAPI: JiraClient?, confluenceAPI: ConfluenceClient?, allowProduction: Bool = false)
        async throws -> Plan
    {
        try checkWritable(allowProduction: allowProduction)
        let plan = try await plan(jiraAPI: jiraAPI, confluenceAPI: confluenceAPI)
        guard !plan.changes.isEmpty else { return plan }
        if let jiraAPI, let jira {
            for change in plan.changes where change.product == "Jira" && change.setting.hasPrefix("jira.") {
                try await jiraAPI.setApplicationProperty(change.setting, to: change.to)
            }
            if let url = jira.baseURL, plan.changes.contains(where: { $0.product == "Jira" && $0.setting == "baseUrl" })
            {
                try await jiraAPI.setBaseURL(url)
            }
            for move in try Self.relocations(
                try await jiraAPI.applicationLinks(), targets: jira.applicationLinks, product: "Jira")
            {
                try await jiraAPI.relocateApplicationLink(id: move.from.id, to: move.to.rpcUrl)
            }
        }
        if let confluenceAPI, let confluence {
            if let colours = confluence.colours, plan.changes.contains(where: { $0.setting.hasPrefix("colour ") }) {
                var scheme = try await confluenceAPI.colorScheme()
                scheme.colorSchemeModelLight = (scheme.colorSchemeModelLight ?? [:]).merging(colours) { $1 }
                try await confluenceAPI.setColorScheme(scheme)
            }
            for move in try Self.relocations(
                try await confluenceAPI.applicationLinks(), targets: confluence.applicationLinks,
                product: "Confluence")
            {
                try await confluenceAPI.relocateApplicationLink(id: move.from.id, to: move.to.rpcUrl)
            }
        }
        let left = try await self.plan(jiraAPI: jiraAPI, confluenceAPI: confluenceAPI)
        guard left.changes.isEmpty else {
            throw SettingsStoreError("after apply over REST, these still differ:\n\(left.text)")
        }
        return plan
    }
}
