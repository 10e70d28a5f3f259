import Foundation

/// How an environment should look once PROD data is in it: its own titles, base URLs, colours and
/// banner, and no outgoing mail. ``plan(_:)`` shows what differs from what is there,
/// ``apply(_:allowProduction:)`` changes only that and checks the result.
///
/// Both work over any ``SettingsBackend``: the product databases (``JiraSettingsStore``,
/// ``ConfluenceSettingsStore``) while the applications are down, right after a restore, or the
/// REST APIs (``JiraClient``, ``ConfluenceClient``) once they run. Each backend changes the
/// settings it can reach: the databases hold titles, base URLs, banners, mail and application
/// links; REST reaches application links, Confluence's colour scheme and Jira's title, base URL and
/// colours.
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
    /// Which sanitisation steps run after a restore of PROD's data, and their parameters; by
    /// default every step of ``SanitisationStep/all``.
    public var sanitisation: SanitisationPolicy

    /// Creates the desired state of an environment.
    public init(
        environment: String, isProduction: Bool = false, productionBaseURLs: [String] = [], jira: Jira? = nil,
        confluence: Confluence? = nil, sanitisation: SanitisationPolicy = SanitisationPolicy()
    ) {
        self.environment = environment
        self.isProduction = isProduction
        self.productionBaseURLs = productionBaseURLs
        self.jira = jira
        self.confluence = confluence
        self.sanitisation = sanitisation
    }

    enum CodingKeys: String, CodingKey {
        case environment, isProduction, productionBaseURLs, jira, confluence, sanitisation
    }

    /// Reads settings; `isProduction` defaults to false, `productionBaseURLs` to none and
    /// `sanitisation` to every step on.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        environment = try container.decode(String.self, forKey: .environment)
        isProduction = try container.decodeIfPresent(Bool.self, forKey: .isProduction) ?? false
        productionBaseURLs = try container.decodeIfPresent([String].self, forKey: .productionBaseURLs) ?? []
        jira = try container.decodeIfPresent(Jira.self, forKey: .jira)
        confluence = try container.decodeIfPresent(Confluence.self, forKey: .confluence)
        sanitisation =
            try container.decodeIfPresent(SanitisationPolicy.self, forKey: .sanitisation) ?? SanitisationPolicy()
    }

    /// Jira's colour names and their application properties.
    public static let jiraColourKeys: [String: String] = [
        "topBar": "jira.lf.top.bgcolour", "topText": "jira.lf.top.textcolour",
        "topHighlight": "jira.lf.top.hilightcolour", "menu": "jira.lf.menu.bgcolour", "link": "jira.lf.text.linkcolour",
    ]

    /// Checks the settings themselves: colour names and values, that a non-PROD environment
    /// does not use a PROD base URL, and the sanitisation policy (unknown step names, licences of
    /// unknown products, allow-list entries that are not URL prefixes).
    ///
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/invalidInput`` naming every problem.
    public func validate() throws {
        var problems: [String] = sanitisation.problems()
        if jira?.mailDisabled == false && sanitisation.isOn(.jiraOutgoingMailOff) {
            problems.append(
                "jira.mailDisabled is false, but the sanitisation step jira.mail.outgoing-off switches Jira's mail off; "
                    + "to keep PROD's mail on in \(environment), turn that step off explicitly (keepFromProduction)")
        }
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
            (jira?.applicationLinks ?? [:]).map { (Product.jira.displayName, $0.key, $0.value) }
            + (confluence?.applicationLinks ?? [:]).map { (Product.confluence.displayName, $0.key, $0.value) }
        for (product, peer, url) in links.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                problems.append("\(product)'s application link to \(peer) is '\(url)', not an http(s) URL")
                continue
            }
        }
        if !isProduction {
            let prod = Set(productionBaseURLs.map(Self.normalised))
            for (product, url) in [(Product.jira, jira?.baseURL), (Product.confluence, confluence?.baseURL)] {
                if let url, prod.contains(Self.normalised(url)) {
                    problems.append(
                        "\(product.displayName)'s base URL \(url) is PROD's, but \(environment) is not PROD")
                }
            }
            for (product, peer, url) in links where prod.contains(Self.normalised(url)) {
                problems.append(
                    "\(product)'s application link to \(peer) would point at PROD (\(url)), but \(environment) is not PROD"
                )
            }
        }
        guard problems.isEmpty else {
            throw AtlassianError(
                .invalidInput,
                "the settings for \(environment) are invalid: " + problems.joined(separator: "; ")
                    + "; nothing was written")
        }
    }

    /// Refuses PROD unless `allowProduction`.
    func checkWritable(allowProduction: Bool) throws {
        if isProduction && !allowProduction {
            throw AtlassianError(
                .refused,
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
}
