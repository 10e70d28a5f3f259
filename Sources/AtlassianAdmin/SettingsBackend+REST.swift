extension JiraClient: SettingsBackend {
    /// `Jira at <base URL> over REST`.
    public var description: String { "Jira at \(connection.baseURL) over REST" }

    /// Reaches the title and colours (application properties) and the base URL (`baseUrl`, from
    /// `serverInfo`, set with `PUT /rest/api/2/settings/baseUrl`); banner and mail have no REST API.
    public func changes(to wanted: [EnvironmentSettings.Setting]) async throws -> [EnvironmentSettings.Change] {
        var changes: [EnvironmentSettings.Change] = []
        var properties: [String: String] = [:]
        for setting in wanted {
            switch setting {
            case .baseURL(let url):
                let current = try await serverInfo().baseUrl
                if current != url {
                    changes.append(.init(product: .jira, setting: "baseUrl", from: current, to: url))
                }
            case .title, .colour:
                for (key, value) in setting.jiraProperties { properties[key] = value.description }
            case .banner, .mailDisabled:
                continue
            }
        }
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            let current = try await applicationProperty(key)?.value
            if current != value { changes.append(.init(product: .jira, setting: key, from: current, to: value)) }
        }
        return changes
    }

    public func write(_ wanted: [EnvironmentSettings.Setting], changes: [EnvironmentSettings.Change]) async throws {
        for change in changes where change.setting.hasPrefix("jira.") {
            try await setApplicationProperty(change.setting, to: change.to)
        }
        for case .baseURL(let url) in wanted where changes.contains(where: { $0.setting == "baseUrl" }) {
            try await setBaseURL(url)
        }
    }

    public func relocate(_ link: ApplicationLink, to relocated: ApplicationLink) async throws {
        try await relocateApplicationLink(id: link.id, to: relocated.rpcUrl)
    }
}

extension ConfluenceClient: SettingsBackend {
    /// `Confluence at <base URL> over REST`.
    public var description: String { "Confluence at \(connection.baseURL) over REST" }

    /// Reaches the light colour scheme (`colour <name>`, compared without case); title, base URL
    /// and banner have no REST API.
    public func changes(to wanted: [EnvironmentSettings.Setting]) async throws -> [EnvironmentSettings.Change] {
        let colours = Self.colours(wanted)
        guard !colours.isEmpty else { return [] }
        let current = try await colorScheme().colorSchemeModelLight ?? [:]
        return colours.sorted(by: { $0.key < $1.key }).compactMap { name, colour in
            current[name]?.lowercased() == colour.lowercased()
                ? nil : .init(product: .confluence, setting: "colour \(name)", from: current[name], to: colour)
        }
    }

    public func write(_ wanted: [EnvironmentSettings.Setting], changes: [EnvironmentSettings.Change]) async throws {
        let colours = Self.colours(wanted)
        guard !colours.isEmpty, changes.contains(where: { $0.setting.hasPrefix("colour ") }) else { return }
        var scheme = try await colorScheme()
        scheme.colorSchemeModelLight = (scheme.colorSchemeModelLight ?? [:]).merging(colours) { $1 }
        try await setColorScheme(scheme)
    }

    public func relocate(_ link: ApplicationLink, to relocated: ApplicationLink) async throws {
        try await relocateApplicationLink(id: link.id, to: relocated.rpcUrl)
    }

    /// The colours among `wanted`, by name.
    static func colours(_ wanted: [EnvironmentSettings.Setting]) -> [String: String] {
        var colours: [String: String] = [:]
        for case .colour(let name, let value) in wanted { colours[name] = value }
        return colours
    }
}
