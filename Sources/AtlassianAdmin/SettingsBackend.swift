/// Where one product's environment settings are read and written, for
/// ``EnvironmentSettings/plan(_:)`` and ``EnvironmentSettings/apply(_:allowProduction:)``.
///
/// Two kinds conform: the database stores (``JiraSettingsStore``, ``ConfluenceSettingsStore``),
/// for the application stopped, and the REST clients (``JiraClient``, ``ConfluenceClient``), for
/// it running. A backend maps each ``EnvironmentSettings/Setting`` to where it keeps it and
/// leaves out the settings it cannot reach; the plan, the application links, the PROD check and
/// the verification after writing are the same for every backend.
public protocol SettingsBackend: Sendable, CustomStringConvertible {
    /// The product whose settings this backend holds.
    var product: Product { get }

    /// What differs between `wanted` and what the backend holds now, in the order a plan shows
    /// them; settings the backend cannot reach are left out. Reads only.
    func changes(to wanted: [EnvironmentSettings.Setting]) async throws -> [EnvironmentSettings.Change]

    /// Writes `wanted`, of which `changes` (as ``changes(to:)`` found them) differ.
    func write(_ wanted: [EnvironmentSettings.Setting], changes: [EnvironmentSettings.Change]) async throws

    /// The application links the backend holds.
    func applicationLinks() async throws -> [ApplicationLink]

    /// Points `link` where `relocated` does (its RPC and display URL).
    func relocate(_ link: ApplicationLink, to relocated: ApplicationLink) async throws
}

extension EnvironmentSettings.Setting {
    /// The Jira application properties that keep this setting (database and REST alike), with
    /// their values; none for a colour name Jira does not have.
    var jiraProperties: [String: JiraSettingsStore.Value] {
        switch self {
        case .title(let title): ["jira.title": .string(title)]
        case .baseURL(let url): ["jira.baseurl": .string(url)]
        case .colour(let name, let value):
            EnvironmentSettings.jiraColourKeys[name].map { [$0: .string(value)] } ?? [:]
        case .banner(let banner): ["jira.alertheader": .text(banner), "jira.alertheader.visibility": .string("public")]
        case .mailDisabled(let off): ["jira.mail.send.disabled": .number(off ? 1 : 0)]
        }
    }
}

extension JiraSettingsStore: SettingsBackend {
    /// ``Product/jira``.
    public var product: Product { .jira }

    /// `Jira database <location>`.
    public var description: String { "the Jira database \(database.location)" }

    /// Every setting as application properties, by property key.
    static func properties(_ wanted: [EnvironmentSettings.Setting]) -> [String: Value] {
        wanted.reduce(into: [:]) { properties, setting in properties.merge(setting.jiraProperties) { $1 } }
    }

    public func changes(to wanted: [EnvironmentSettings.Setting]) async throws -> [EnvironmentSettings.Change] {
        let current = try await properties()
        return Self.properties(wanted).sorted(by: { $0.key < $1.key }).compactMap { key, value in
            current[key] == value
                ? nil
                : EnvironmentSettings.Change(
                    product: .jira, setting: key, from: current[key]?.description, to: value.description)
        }
    }

    public func write(_ wanted: [EnvironmentSettings.Setting], changes: [EnvironmentSettings.Change]) async throws {
        try await set(Self.properties(wanted))
    }

    public func relocate(_ link: ApplicationLink, to relocated: ApplicationLink) async throws {
        try await saveApplicationLink(relocated)
    }
}

extension ConfluenceSettingsStore: SettingsBackend {
    /// ``Product/confluence``.
    public var product: Product { .confluence }

    /// `Confluence database <location>`.
    public var description: String { "the Confluence database \(database.location)" }

    /// The settings the database keeps in `atlassian.confluence.settings` (not the colours: they
    /// are set over REST).
    static func settings(_ wanted: [EnvironmentSettings.Setting]) -> Settings {
        var settings = Settings()
        for setting in wanted {
            switch setting {
            case .title(let title): settings.siteTitle = title
            case .baseURL(let url): settings.baseURL = url
            case .banner(let html): settings.bannerHTML = html
            case .colour, .mailDisabled: continue
            }
        }
        return settings
    }

    public func changes(to wanted: [EnvironmentSettings.Setting]) async throws -> [EnvironmentSettings.Change] {
        let current = try await settings()
        let wanted = Self.settings(wanted)
        return Self.paths.compactMap { entry in
            guard let value = wanted[keyPath: entry.keyPath], current[keyPath: entry.keyPath] != value else {
                return nil
            }
            return EnvironmentSettings.Change(
                product: .confluence, setting: entry.path.joined(separator: "/"), from: current[keyPath: entry.keyPath],
                to: value)
        }
    }

    public func write(_ wanted: [EnvironmentSettings.Setting], changes: [EnvironmentSettings.Change]) async throws {
        try await set(Self.settings(wanted))
    }

    public func relocate(_ link: ApplicationLink, to relocated: ApplicationLink) async throws {
        try await saveApplicationLink(relocated)
    }
}
