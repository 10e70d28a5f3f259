import AtlassianAdmin

// The settings steps of a refresh: sanitise the restored databases and rewrite their settings
// before the applications start (outgoing mail off first), check that nothing names PROD, then
// apply the REST-side settings after start and check again.

extension DataRefresher {
    /// PROD's hosts for the PROD-reference scan: the hosts of PROD's base URLs (from the
    /// settings and the production guard) and the hosts the sanitisation policy adds.
    var productionHosts: [String] { productionHosts(of: nil) }

    /// ``productionHosts`` and the base URLs PROD's own databases held when `manifest`'s snapshot
    /// was taken (its ``SnapshotManifest/Product/baseURL``): what PROD calls itself, even when
    /// the config reaches it by another name.
    func productionHosts(of manifest: SnapshotManifest?) -> [String] {
        ProductionReferenceScan.hosts(
            urls: settings.productionBaseURLs + production.urls + (manifest?.products.compactMap(\.baseURL) ?? []),
            hosts: settings.sanitisation.productionHosts)
    }

    /// What the sanitisation steps of `target` are given: its licence (``licences``, resolved by
    /// the caller) and its Basic credentials as the service account (a token cannot be set in the
    /// database).
    func sanitisationContext(_ target: Target) -> SanitisationContext {
        SanitisationContext(licence: licences[target.name], serviceAccount: ServiceAccount(target.credentials))
    }

    /// Sanitises and rewrites the target's databases, in this order: every product's outgoing
    /// mail off (each committed on its own, so nothing can mail PROD's users whatever fails
    /// next), the other sanitisation steps and the service account, the settings plan (titles,
    /// base URLs, banners, application links), then the PROD-reference scan, which fails the
    /// step listing every value that still names a PROD host. The stores are closed before it
    /// returns, whether it succeeded or not.
    func rewriteSettings(_ manifest: SnapshotManifest? = nil) async throws {
        let mailFirst = Set(Product.allCases.compactMap { product in SanitisationStep.steps(for: product).first })
        for target in targets {
            guard let product = target.product else { continue }
            let report = try await Sanitisation.apply(
                product, database: target.database, settings: settings, context: sanitisationContext(target),
                only: mailFirst, logger: logger)
            logger.info("outgoing mail off", metadata: ["product": "\(product.rawValue)", "report": "\(report.text)"])
        }
        for target in targets {
            guard let product = target.product else { continue }
            let rest = Set(SanitisationStep.steps(for: product)).subtracting(mailFirst)
            if settings.sanitisation.licences[product.rawValue] != nil && licences[target.name] == nil {
                logger.warning(
                    "a licence reference is configured but this refresher was given no resolved licence; PROD's licence is kept",
                    metadata: ["product": "\(product.rawValue)"])
            }
            let report = try await Sanitisation.apply(
                product, database: target.database, settings: settings, context: sanitisationContext(target),
                only: rest, logger: logger)
            logger.info("sanitised", metadata: ["product": "\(product.rawValue)", "report": "\(report.text)"])
        }
        var jira: JiraSettingsStore?
        var confluence: ConfluenceSettingsStore?
        do {
            for target in targets {
                if target.product == .jira {
                    jira = try await JiraSettingsStore.open(target.database)
                } else {
                    confluence = try await ConfluenceSettingsStore.open(target.database)
                }
            }
            let plan = try await settings.apply(jira: jira, confluence: confluence)
            await jira?.close()
            await confluence?.close()
            logger.info("settings rewritten", metadata: ["changes": "\(plan.changes.count)"])
        } catch {
            await jira?.close()
            await confluence?.close()
            throw error
        }
        try await scanForProduction(when: "after the rewrite, before the first start", manifest: manifest)
    }

    /// Reads what the running products say about themselves over REST (Jira's `serverInfo`
    /// base URL and title, Confluence's `server-information` base URL, both products' application
    /// links) and fails when an answer is not the environment's or names a PROD host: the
    /// database may say one thing and a running node, with its caches, another.
    func checkProductsAnswers(jira: JiraClient?, confluence: ConfluenceClient?, manifest: SnapshotManifest?)
        async throws
    {
        let hosts = productionHosts(of: manifest)
        var problems: [String] = []
        func check(_ what: String, _ value: String, expected: String?) {
            let named = ProductionReferenceScan.hostsNamed(in: value, hosts: hosts)
            if !named.isEmpty { problems.append("\(what) is \(value), which names PROD (\(named.joined(separator: ", ")))") }
            if let expected, value != expected { problems.append("\(what) is \(value), not \(expected)") }
        }
        if let jira {
            let info = try await jira.serverInfo()
            check("Jira's serverInfo baseUrl", info.baseUrl, expected: settings.jira?.baseURL)
            check("Jira's serverInfo serverTitle", info.serverTitle ?? "", expected: settings.jira?.title)
            for link in try await jira.applicationLinks() {
                check("Jira's application link '\(link.name)'", link.rpcUrl, expected: nil)
            }
        }
        if let confluence {
            let info = try await confluence.serverInformation()
            check("Confluence's server-information baseUrl", info.baseUrl, expected: settings.confluence?.baseURL)
            for link in try await confluence.applicationLinks() {
                check("Confluence's application link '\(link.name)'", link.rpcUrl, expected: nil)
            }
        }
        guard problems.isEmpty else {
            throw DataRefreshError(
                "after start, \(settings.environment)'s applications answer:\n  " + problems.joined(separator: "\n  ")
                    + "\nCheck the environment's settings and application links; re-run to resume here")
        }
        logger.info("the products' own answers are the environment's", metadata: ["hosts": "\(hosts.joined(separator: ","))"])
    }

    /// Fails when any target database still names a PROD host in its settings.
    ///
    /// - Throws: ``DataRefreshError`` (kind ``DataRefreshError/Kind/failed``) listing table, key
    ///   and value of every finding, and what to do.
    func scanForProduction(when: String, manifest: SnapshotManifest? = nil) async throws {
        let hosts = productionHosts(of: manifest)
        guard !hosts.isEmpty else {
            logger.warning(
                "no PROD hosts are known (no PROD base URLs, no productionHosts): the PROD-reference scan has nothing to look for"
            )
            return
        }
        var findings: [String] = []
        for target in targets {
            guard let product = target.product else { continue }
            for finding in try await ProductionReferenceScan.scan(
                product, database: target.database, hosts: hosts, logger: logger)
            {
                findings.append("\(product.displayName) \(finding)")
            }
        }
        guard findings.isEmpty else {
            throw DataRefreshError(
                "\(settings.environment) still names PROD (\(when)):\n  " + findings.joined(separator: "\n  ")
                    + "\nRelocate the application links (settings applicationLinks), set the environment's own base "
                    + "URLs, or keep the sanitisation steps on; re-run to resume here")
        }
        logger.info(
            "PROD-reference scan clean", metadata: ["when": "\(when)", "hosts": "\(hosts.joined(separator: ","))"])
    }

    /// Applies the REST-side settings to the running applications, reads the databases again
    /// and fails unless the whole plan is empty, then runs the PROD-reference scan again (the
    /// applications may have written settings of their own at start).
    func verifySettings(_ manifest: SnapshotManifest? = nil) async throws {
        let jiraTarget = target(.jira)
        let confluenceTarget = target(.confluence)
        let jira = try jiraTarget.map { try JiraClient(baseURL: $0.url, credentials: $0.credentials) }
        let confluence = try confluenceTarget.map {
            try ConfluenceClient(baseURL: $0.url, credentials: $0.credentials)
        }
        try await settings.apply(jiraAPI: jira, confluenceAPI: confluence)
        try await checkProductsAnswers(jira: jira, confluence: confluence, manifest: manifest)
        var stores: (JiraSettingsStore?, ConfluenceSettingsStore?) = (nil, nil)
        if let jiraTarget { stores.0 = try await JiraSettingsStore.open(jiraTarget.database) }
        if let confluenceTarget { stores.1 = try await ConfluenceSettingsStore.open(confluenceTarget.database) }
        let left = try await settings.plan(jira: stores.0, confluence: stores.1)
        await stores.0?.close()
        await stores.1?.close()
        guard left.changes.isEmpty else {
            throw DataRefreshError("after the refresh these settings still differ:\n\(left.text)")
        }
        try await scanForProduction(when: "after start", manifest: manifest)
    }
}
