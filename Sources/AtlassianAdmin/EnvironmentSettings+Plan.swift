extension EnvironmentSettings {
    /// One desired setting of one product, before any backend has mapped it to where it is kept.
    ///
    /// The same setting means the same thing in both products where both have it: Jira's
    /// ``Jira/title`` and Confluence's ``Confluence/siteTitle`` are both ``title(_:)``.
    public enum Setting: Sendable, Equatable {
        /// The site title.
        case title(String)
        /// The base URL.
        case baseURL(String)
        /// One colour (`#rrggbb`) by the product's own name for it (`topBar`, `topBarColor`, …).
        case colour(name: String, value: String)
        /// The banner shown to everyone (HTML); empty removes it.
        case banner(String)
        /// Outgoing mail off (Jira).
        case mailDisabled(Bool)
    }

    /// The desired settings of `product`, in the order the settings model lists them; none when
    /// the environment does not configure `product`.
    public func settings(for product: Product) -> [Setting] {
        var settings: [Setting] = []
        switch product {
        case .jira:
            guard let jira else { return [] }
            if let title = jira.title { settings.append(.title(title)) }
            if let url = jira.baseURL { settings.append(.baseURL(url)) }
            for (name, value) in (jira.colours ?? [:]).sorted(by: { $0.key < $1.key }) {
                settings.append(.colour(name: name, value: value))
            }
            if let banner = jira.banner { settings.append(.banner(banner)) }
            if let off = jira.mailDisabled { settings.append(.mailDisabled(off)) }
        case .confluence:
            guard let confluence else { return [] }
            if let title = confluence.siteTitle { settings.append(.title(title)) }
            if let url = confluence.baseURL { settings.append(.baseURL(url)) }
            if let banner = confluence.bannerHTML { settings.append(.banner(banner)) }
            for (name, value) in (confluence.colours ?? [:]).sorted(by: { $0.key < $1.key }) {
                settings.append(.colour(name: name, value: value))
            }
        }
        return settings
    }

    /// Where `product`'s application links should point, by peer; nil when not configured.
    func applicationLinkTargets(for product: Product) -> [String: String]? {
        switch product {
        case .jira: jira?.applicationLinks
        case .confluence: confluence?.applicationLinks
        }
    }

    /// Whether the environment configures `product` at all.
    func configures(_ product: Product) -> Bool {
        switch product {
        case .jira: jira != nil
        case .confluence: confluence != nil
        }
    }

    /// One setting that differs.
    public struct Change: Sendable, Equatable {
        /// The product.
        public let product: Product
        /// The setting as its backend names it, for example `jira.title`, `siteTitle` or
        /// `application link Confluence`.
        public let setting: String
        /// What it is now (nil when absent).
        public let from: String?
        /// What it will be.
        public let to: String

        /// Creates a change (for a ``SettingsBackend`` that plans one).
        public init(product: Product, setting: String, from: String?, to: String) {
            self.product = product
            self.setting = setting
            self.from = from
            self.to = to
        }
    }

    /// What applying would change, as data and as text.
    public struct Plan: Sendable, Equatable {
        /// The changes, Jira first.
        public let changes: [Change]

        /// One line per change, `Product setting: "from" → "to"`, or a line saying nothing changes.
        public var text: String {
            guard !changes.isEmpty else { return "no changes" }
            return changes.map {
                "\($0.product.displayName) \($0.setting): \($0.from.map { "\"\($0)\"" } ?? "(none)") → \"\($0.to)\""
            }
            .joined(separator: "\n")
        }
    }

    /// What differs between these settings and what `backends` hold: for each product the
    /// environment configures, the settings its backend reaches, then its application links.
    ///
    /// Reads only; safe to run against PROD.
    ///
    /// - Parameter backends: at most one per product (the first of a product is used).
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/invalidInput`` for invalid
    ///   settings or a link target that names no existing link; what a backend's reads threw.
    public func plan(_ backends: [any SettingsBackend]) async throws -> Plan {
        try validate()
        var changes: [Change] = []
        for backend in Self.inUse(backends) where configures(backend.product) {
            changes += try await backend.changes(to: settings(for: backend.product))
            let moves = try Self.relocations(
                try await backend.applicationLinks(), targets: applicationLinkTargets(for: backend.product),
                product: backend.product)
            changes += moves.map {
                Change(
                    product: backend.product, setting: "application link \($0.from.name)", from: $0.from.rpcUrl,
                    to: $0.to.rpcUrl)
            }
        }
        return Plan(changes: changes)
    }

    /// Changes what ``plan(_:)`` finds different, then checks that nothing is left to change.
    ///
    /// - Parameters:
    ///   - backends: at most one per product (the first of a product is used).
    ///   - allowProduction: must be true when ``isProduction`` is.
    /// - Returns: the plan that was applied.
    /// - Throws: ``AtlassianError``: kind ``AtlassianError/Kind/refused`` for PROD without
    ///   permission and ``AtlassianError/Kind/invalidInput`` for invalid settings (both before
    ///   anything is written), ``AtlassianError/Kind/conflict`` when the backends do not read
    ///   back as written; what a backend threw.
    @discardableResult
    public func apply(_ backends: [any SettingsBackend], allowProduction: Bool = false) async throws -> Plan {
        try checkWritable(allowProduction: allowProduction)
        let plan = try await plan(backends)
        guard !plan.changes.isEmpty else { return plan }
        let used = Self.inUse(backends).filter { configures($0.product) }
        for backend in used {
            try await backend.write(
                settings(for: backend.product), changes: plan.changes.filter { $0.product == backend.product })
            for move in try Self.relocations(
                try await backend.applicationLinks(), targets: applicationLinkTargets(for: backend.product),
                product: backend.product)
            {
                try await backend.relocate(move.from, to: move.to)
            }
        }
        let left = try await self.plan(backends)
        guard left.changes.isEmpty else {
            let names = used.map(\.description).joined(separator: " and ")
            throw AtlassianError(.conflict, "after apply to \(names), these still differ:\n\(left.text)")
        }
        return plan
    }

    /// The first backend of each product, Jira first.
    static func inUse(_ backends: [any SettingsBackend]) -> [any SettingsBackend] {
        Product.allCases.compactMap { product in backends.first { $0.product == product } }
    }

    /// The links in `links` that `targets` wants elsewhere, each relocated; a target that matches
    /// no link is an error (a misspelt peer must not pass silently).
    static func relocations(_ links: [ApplicationLink], targets: [String: String]?, product: Product) throws
        -> [(from: ApplicationLink, to: ApplicationLink)]
    {
        var moves: [(from: ApplicationLink, to: ApplicationLink)] = []
        for (peer, url) in (targets ?? [:]).sorted(by: { $0.key < $1.key }) {
            let matching = links.filter {
                $0.name.lowercased() == peer.lowercased() || $0.typeId.lowercased() == peer.lowercased()
            }
            guard !matching.isEmpty else {
                throw AtlassianError(
                    .invalidInput,
                    "\(product.displayName) has no application link to '\(peer)' (links: "
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
}

extension EnvironmentSettings {
    /// ``plan(_:)`` over the product databases, the applications down.
    public func plan(jira: JiraSettingsStore?, confluence: ConfluenceSettingsStore?) async throws -> Plan {
        try await plan(Self.backends(jira, confluence))
    }

    /// ``apply(_:allowProduction:)`` over the product databases, the applications down.
    @discardableResult
    public func apply(jira: JiraSettingsStore?, confluence: ConfluenceSettingsStore?, allowProduction: Bool = false)
        async throws -> Plan
    {
        try await apply(Self.backends(jira, confluence), allowProduction: allowProduction)
    }

    /// ``plan(_:)`` over REST, the applications running: Jira's title, base URL and colours,
    /// Confluence's colour scheme, and both products' application links. (Banners, mail and
    /// Confluence's title and base URL have no REST API; ``plan(jira:confluence:)`` covers them.)
    public func plan(jiraAPI: JiraClient?, confluenceAPI: ConfluenceClient?) async throws -> Plan {
        try await plan(Self.backends(jiraAPI, confluenceAPI))
    }

    /// ``apply(_:allowProduction:)`` over REST, the applications running.
    @discardableResult
    public func apply(jiraAPI: JiraClient?, confluenceAPI: ConfluenceClient?, allowProduction: Bool = false)
        async throws -> Plan
    {
        try await apply(Self.backends(jiraAPI, confluenceAPI), allowProduction: allowProduction)
    }

    static func backends(_ jira: (any SettingsBackend)?, _ confluence: (any SettingsBackend)?) -> [any SettingsBackend]
    {
        [jira, confluence].compactMap { $0 }
    }
}
