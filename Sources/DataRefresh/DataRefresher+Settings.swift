import AtlassianAdmin

// The settings steps of a refresh: rewrite the settings in the databases (mail off first) before
// the applications start, then apply the REST-side settings and verify nothing is left to change.

extension DataRefresher {
    /// Rewrites the target's settings in its databases, Jira's mail switched off first on its own.
    /// The stores are closed before it returns, whether it succeeded or not.
    func rewriteSettings() async throws {
        var jira: JiraSettingsStore?
        var confluence: ConfluenceSettingsStore?
        do {
            for target in targets {
                if target.product == .jira {
                    let store = try await JiraSettingsStore.open(target.database)
                    jira = store
                    // Mail off first, on its own, so nothing can mail PROD's users whatever fails next.
                    if settings.jira?.mailDisabled == true {
                        try await store.set(["jira.mail.send.disabled": .number(1)])
                    }
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
    }

    /// Applies the REST-side settings to the running applications, then reads the databases
    /// again and fails unless the whole plan is empty.
    func verifySettings() async throws {
        let jiraTarget = target(.jira)
        let confluenceTarget = target(.confluence)
        let jira = try jiraTarget.map { try JiraClient(baseURL: $0.url, credentials: $0.credentials) }
        let confluence = try confluenceTarget.map {
            try ConfluenceClient(baseURL: $0.url, credentials: $0.credentials)
        }
        try await settings.apply(jiraAPI: jira, confluenceAPI: confluence)
        var stores: (JiraSettingsStore?, ConfluenceSettingsStore?) = (nil, nil)
        if let jiraTarget { stores.0 = try await JiraSettingsStore.open(jiraTarget.database) }
        if let confluenceTarget { stores.1 = try await ConfluenceSettingsStore.open(confluenceTarget.database) }
        let left = try await settings.plan(jira: stores.0, confluence: stores.1)
        await stores.0?.close()
        await stores.1?.close()
        guard left.changes.isEmpty else {
            throw DataRefreshError("after the refresh these settings still differ:\n\(left.text)")
        }
    }
}
