import Foundation
import Logging
import PostgresNIO

/// One named, documented sanitisation step: a change to a restored copy of PROD's database,
/// made before the application first starts, so that the copy cannot reach PROD, PROD's
/// partners or PROD's users.
///
/// The steps are listed in ``all`` in the order they run; every step is on unless the
/// environment's ``SanitisationPolicy`` turns it off by ``name``.
public struct SanitisationStep: Sendable, Hashable, CustomStringConvertible {
    /// The stable name, for example `jira.mail.outgoing-off`; what a policy's `off` list names.
    public let name: String
    /// The product whose database it changes.
    public let product: Product
    /// What it does, in one line.
    public let summary: String
    /// The tables and keys it changes.
    public let changes: String
    /// Where Atlassian (or the product's own code) says this is where the setting lives and that
    /// changing it works.
    public let source: String

    /// The step's ``name``.
    public var description: String { name }
}

extension SanitisationStep {
    /// Jira's outgoing mail off.
    public static let jiraOutgoingMailOff = SanitisationStep(
        name: "jira.mail.outgoing-off", product: .jira,
        summary:
            "outgoing mail off: the application property jira.mail.send.disabled set to true (what Outgoing Mail > "
            + "Disable outgoing mail sets) and PROD's SMTP servers removed, so neither a re-enabled flag nor the "
            + "mail queue can send with PROD's server and credentials",
        changes:
            "propertyentry/propertynumber jira.mail.send.disabled = 1; mailserver rows with server_type 'smtp'",
        source:
            "https://confluence.atlassian.com/adminjiraserver/configuring-outgoing-email-938847736.html; the flag: "
            + "Jira's com.atlassian.jira.mail.settings.MailSettings.Send (jira.mail.send.disabled)")

    /// Jira's incoming mail off.
    public static let jiraIncomingMailOff = SanitisationStep(
        name: "jira.mail.incoming-off", product: .jira,
        summary:
            "incoming mail off: the application property jira.mail.fetch.disabled set to true (Incoming Mail > "
            + "Disable), and PROD's POP/IMAP servers and the mail-handler services that fetch from them (and "
            + "would drain PROD's mailboxes) removed, with the services' properties",
        changes:
            "propertyentry/propertynumber jira.mail.fetch.disabled = 1; mailserver rows with server_type "
            + "'pop'/'imap'; serviceconfig rows of the mail fetcher classes (MailFetcherService, the old "
            + "PopService/ImapService) and their propertyentry rows (entity 'ServiceConfig') with their values",
        source:
            "https://confluence.atlassian.com/adminjiraserver/creating-issues-and-comments-from-email-938847745.html; "
            + "the flags: Jira's com.atlassian.jira.mail.settings.MailSettings (Send: jira.mail.send.disabled, "
            + "Fetch: jira.mail.fetch.disabled)")

    /// Jira's webhooks disabled.
    public static let jiraWebhooksOff = SanitisationStep(
        name: "jira.webhooks.off", product: .jira,
        summary:
            "every enabled webhook disabled (in a copy of PROD each one calls PROD's partners), except URLs that "
            + "start with a prefix of the policy's webhookAllowList; the rows stay, so they can be re-enabled",
        changes: "\"AO_4AEACD_WEBHOOK_DAO\".\"ENABLED\" = false",
        source: "https://developer.atlassian.com/server/jira/platform/webhooks/")

    /// Jira's PROD cluster nodes removed.
    public static let jiraClusterNodesRemoved = SanitisationStep(
        name: "jira.cluster.nodes-removed", product: .jira,
        summary:
            "PROD's registered Data Center nodes removed, so the copy neither waits for nor replicates to PROD's "
            + "nodes; each node of the copy registers itself at start",
        changes: "clusternode and clusternodeheartbeat: all rows",
        source: "https://support.atlassian.com/jira/kb/remove-abandoned-or-offline-nodes-in-jira-data-center/")

    /// Jira's OAuth consumers of PROD's peers removed.
    public static let jiraOAuthConsumersRemoved = SanitisationStep(
        name: "jira.oauth.consumers-removed", product: .jira,
        summary:
            "OAuth consumers and service-provider consumers of PROD's peers (application links) removed; Jira's "
            + "own consumer (__HOST_SERVICE__) stays. Relocated links need their authentication set up again",
        changes: "oauthconsumer rows with consumerservice <> '__HOST_SERVICE__'; oauthspconsumer: all rows",
        source:
            "https://confluence.atlassian.com/adminjiraserver/using-applinks-to-link-to-other-applications-938846918.html"
    )

    /// PROD's personal access tokens removed from Jira (8.14 and later keep them in the
    /// `AO_81F455_PERSONAL_TOKEN` table of the PAT plugin; earlier versions have none).
    public static let jiraPersonalTokensRemoved = SanitisationStep(
        name: "jira.personal-tokens-removed", product: .jira,
        summary:
            "PROD's personal access tokens removed, so a token leaked from DEV or a script pointed at DEV never "
            + "acts as a PROD user (users create new ones in DEV when they need them)",
        changes: "\"AO_81F455_PERSONAL_TOKEN\": all rows",
        source:
            "https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html; the table: "
            + "https://support.atlassian.com/confluence/kb/how-to-get-personal-token-id-list-along-with-username-email-address-and-user-key-using-database-query/"
    )

    /// PROD's personal access tokens removed from Confluence (7.9 and later).
    public static let confluencePersonalTokensRemoved = SanitisationStep(
        name: "confluence.personal-tokens-removed", product: .confluence,
        summary: jiraPersonalTokensRemoved.summary, changes: jiraPersonalTokensRemoved.changes,
        source: jiraPersonalTokensRemoved.source)

    /// Jira's trusted applications removed.
    public static let jiraTrustedAppsRemoved = SanitisationStep(
        name: "jira.trusted-apps-removed", product: .jira,
        summary: "trusted applications (PROD's peers, trusted by key and address) removed",
        changes: "trustedapp: all rows",
        source: "https://confluence.atlassian.com/adminjiraserver/configuring-trusted-applications-938847837.html")

    /// Jira's licence replaced by the environment's.
    public static let jiraLicenceReplaced = SanitisationStep(
        name: "jira.licence-replaced", product: .jira,
        summary:
            "PROD's licence replaced by the environment's own (a secret reference in the settings, resolved by the "
            + "caller); nothing changes when the environment gives none",
        changes: "productlicense: all rows replaced by one",
        source: "https://confluence.atlassian.com/adminjiraserver/licensing-and-application-access-938847744.html")

    /// The refresher's own account in Jira.
    public static let jiraServiceAccount = SanitisationStep(
        name: "jira.service-account", product: .jira,
        summary:
            "the refresher's own user (the target's Basic credentials) set in the internal directory, active, "
            + "with its password, in jira-administrators, so the REST steps after start work with the restored data",
        changes: "cwd_user (credential {PKCS5S2}), app_user, cwd_membership (jira-administrators)",
        source: "https://confluence.atlassian.com/display/JIRA/Retrieving+the+JIRA+Administrator")

    /// Confluence's outgoing mail off.
    public static let confluenceOutgoingMailOff = SanitisationStep(
        name: "confluence.mail.outgoing-off", product: .confluence,
        summary:
            "outgoing mail off: PROD's SMTP servers removed from the mail-server configuration in the database, so "
            + "nothing can be sent however the nodes are started. (The JVM flag -Datlassian.mail.senddisabled=true "
            + "does the same on each node, but lives on the nodes, not in the database this step can change and "
            + "check before the first start)",
        changes:
            "bandana _GLOBAL atlassian.confluence.smtp.mail.accounts: the SMTP entries (the row goes when no entry is left)",
        source:
            "https://confluence.atlassian.com/display/DOC/Configuring+a+Server+for+Outgoing+Mail; the key: "
            + "ConfluenceMailServerManager (bandana key atlassian.confluence.smtp.mail.accounts)")

    /// Confluence's incoming mail off.
    public static let confluenceIncomingMailOff = SanitisationStep(
        name: "confluence.mail.incoming-off", product: .confluence,
        summary:
            "incoming mail off: PROD's POP/IMAP servers removed from the same configuration, and every space's "
            + "mail accounts (mail archiving, which deletes each message it archives from the server), so "
            + "nothing is fetched from PROD's mailboxes (the node flag -Datlassian.mail.fetchdisabled=true is the "
            + "node-side equivalent)",
        changes:
            "bandana _GLOBAL atlassian.confluence.smtp.mail.accounts: the POP and IMAP entries (the row goes when "
            + "no entry is left); bandana atlassian.confluence.space.mailaccounts of every space context",
        source:
            "https://confluence.atlassian.com/doc/add-a-mail-account-139458.html; the keys: "
            + "ConfluenceMailServerManager (atlassian.confluence.smtp.mail.accounts) and DefaultMailAccountManager "
            + "(atlassian.confluence.space.mailaccounts)")

    /// Confluence's webhooks disabled.
    public static let confluenceWebhooksOff = SanitisationStep(
        name: "confluence.webhooks.off", product: .confluence,
        summary:
            "every enabled webhook disabled, except URLs that start with a prefix of the policy's webhookAllowList",
        changes: "\"AO_A0B856_WEB_HOOK_LISTENER_AO\".\"ENABLED\" = false",
        source: "https://confluence.atlassian.com/doc/managing-webhooks-1021225606.html")

    /// Confluence's trusted applications removed.
    public static let confluenceTrustedAppsRemoved = SanitisationStep(
        name: "confluence.trusted-apps-removed", product: .confluence,
        summary: "trusted applications (PROD's peers) removed, with their restrictions and public keys",
        changes: "trustedapprestriction, trustedapp: all rows; keystore rows those trusted apps referenced",
        source: "https://confluence.atlassian.com/doc/configuring-trusted-applications-authentication-133489.html")

    /// The refresher's own account in Confluence.
    public static let confluenceServiceAccount = SanitisationStep(
        name: "confluence.service-account", product: .confluence,
        summary:
            "the refresher's own user (the target's Basic credentials) set in the internal directory, active, "
            + "with its password, in confluence-administrators",
        changes: "cwd_user (credential {PKCS5S2}), user_mapping, cwd_membership (confluence-administrators)",
        source: "https://confluence.atlassian.com/display/CONF63/Restore+Passwords+To+Recover+Admin+User+Rights")

    /// Every step, in the order they run: for each product outgoing mail first, the service
    /// account last.
    ///
    /// Confluence has no cluster-node or licence step: it keeps no node rows (its one
    /// `clustersafety` row is a number it checks against its own running cluster, and a restore
    /// into another cluster needs no change to it), and its licence lives in `confluence.cfg.xml`
    /// in the local home, not in the database. Its OAuth consumers are not in the tables of
    /// Confluence 6 that this step list covers.
    public static let all: [SanitisationStep] = [
        .jiraOutgoingMailOff, .jiraIncomingMailOff, .jiraWebhooksOff, .jiraClusterNodesRemoved,
        .jiraOAuthConsumersRemoved, .jiraTrustedAppsRemoved, .jiraLicenceReplaced, .jiraPersonalTokensRemoved,
        .jiraServiceAccount,
        .confluenceOutgoingMailOff, .confluenceIncomingMailOff, .confluenceWebhooksOff,
        .confluenceTrustedAppsRemoved, .confluencePersonalTokensRemoved, .confluenceServiceAccount,
    ]

    /// The steps of `product`, in the order they run.
    public static func steps(for product: Product) -> [SanitisationStep] { all.filter { $0.product == product } }

    /// The step called `name`, if there is one.
    public static func named(_ name: String) -> SanitisationStep? { all.first { $0.name == name } }
}

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
///   licences: {jira: "aws-sm:dev/jira-licence"}
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

/// What a sanitisation run is given besides the policy: values the caller resolved.
public struct SanitisationContext: Sendable {
    /// The licence to install (resolved from ``SanitisationPolicy/licences``); nil keeps PROD's.
    public var licence: String?
    /// The refresher's own account, from the target's Basic credentials; nil skips the
    /// service-account step (with a note in the report).
    public var serviceAccount: ServiceAccount?

    /// Creates a context.
    public init(licence: String? = nil, serviceAccount: ServiceAccount? = nil) {
        self.licence = licence
        self.serviceAccount = serviceAccount
    }
}

/// What a sanitisation run found (dry run) or changed, step by step.
public struct SanitisationReport: Sendable, Equatable {
    /// One step's part.
    public struct Entry: Sendable, Equatable {
        /// The step.
        public let step: SanitisationStep
        /// Whether the policy has it on.
        public let isOn: Bool
        /// What it changes (dry run) or changed: one line per row or key, for example
        /// `mailserver 10000 (smtp smtp.example.com)`.
        public let items: [String]
        /// Why it changes nothing when it does not (no licence given, no credentials, …).
        public let note: String?
    }

    /// The product.
    public let product: Product
    /// False for a dry run (nothing was touched).
    public let applied: Bool
    /// The steps, in the order they ran.
    public let entries: [Entry]

    /// The entry of `step`, if the report has one.
    public func entry(_ step: SanitisationStep) -> Entry? { entries.first { $0.step == step } }

    /// One line per step, with what it would change (or changed) indented under it.
    public var text: String {
        var lines: [String] = []
        for entry in entries {
            let state = entry.isOn ? (applied ? "done" : "on") : "OFF (turned off in the settings)"
            lines.append("\(entry.step.name) [\(state)]: \(entry.step.summary)")
            if entry.isOn {
                if entry.items.isEmpty {
                    lines.append("    nothing to change" + (entry.note.map { ": \($0)" } ?? ""))
                }
                for item in entry.items { lines.append("    \(applied ? "changed" : "would change"): \(item)") }
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Runs the ``SanitisationStep``s of one product against its database, the application down:
/// ``plan(_:database:settings:context:only:logger:)`` lists what each step would change and touches
/// nothing; ``apply(_:database:settings:context:only:logger:)`` changes it, one transaction a step, in
/// the order of ``SanitisationStep/all`` (outgoing mail first, committed on its own).
public enum Sanitisation {
    /// What the steps would change, touching nothing. Safe against PROD.
    ///
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/invalidInput`` for an invalid
    ///   policy or a database that is not `product`'s, ``AtlassianError/Kind/unreachable`` when it
    ///   cannot be reached.
    ///
    /// - Parameters:
    ///   - product: the database's product.
    ///   - location: the database.
    ///   - settings: the environment's settings; their ``EnvironmentSettings/sanitisation`` policy
    ///     says which steps are on.
    ///   - context: the licence and the service account, resolved by the caller.
    ///   - only: run just these steps (of `product`), for example the outgoing-mail step first on
    ///     its own; nil runs them all. Steps not run are left out of the report.
    ///   - logger: where each step's count of changes goes.
    public static func plan(
        _ product: Product, database location: DatabaseLocation, settings: EnvironmentSettings,
        context: SanitisationContext = SanitisationContext(), only: Set<SanitisationStep>? = nil,
        logger: Logger = Logger(label: "atlas-relay.sanitisation")
    ) async throws -> SanitisationReport {
        try await run(product, location, settings, context, only, logger, apply: false)
    }

    /// Makes the changes of every step the policy has on (the parameters as for
    /// ``plan(_:database:settings:context:only:logger:)``).
    ///
    /// - Throws: ``AtlassianError``: kind ``AtlassianError/Kind/refused`` when `settings` are
    ///   PROD's (nothing is written), ``AtlassianError/Kind/invalidInput`` for an invalid policy;
    ///   what the database threw (the failing step's transaction is rolled back, the steps before
    ///   it stay done, and a re-run does only what is left).
    @discardableResult
    public static func apply(
        _ product: Product, database location: DatabaseLocation, settings: EnvironmentSettings,
        context: SanitisationContext = SanitisationContext(), only: Set<SanitisationStep>? = nil,
        logger: Logger = Logger(label: "atlas-relay.sanitisation")
    ) async throws -> SanitisationReport {
        if settings.isProduction {
            throw AtlassianError(
                .refused, "\(settings.environment) is PROD; sanitisation never writes to PROD's databases")
        }
        return try await run(product, location, settings, context, only, logger, apply: true)
    }

    private static func run(
        _ product: Product, _ location: DatabaseLocation, _ settings: EnvironmentSettings,
        _ context: SanitisationContext, _ only: Set<SanitisationStep>?, _ logger: Logger, apply: Bool
    ) async throws -> SanitisationReport {
        let problems = settings.sanitisation.problems()
        guard problems.isEmpty else {
            throw AtlassianError(
                .invalidInput,
                "the sanitisation settings of \(settings.environment) are invalid: "
                    + problems.joined(separator: "; ") + "; nothing was changed")
        }
        let actions = (product == .jira ? jiraActions : confluenceActions).filter { only?.contains($0.step) ?? true }
        let database = try await ProductDatabase.open(
            location, product: product, tables: product == .jira ? jiraTables : confluenceTables, logger: logger)
        let input = SanitisationInput(policy: settings.sanitisation, context: context, logger: logger)
        var entries: [SanitisationReport.Entry] = []
        do {
            for action in actions {
                guard settings.sanitisation.isOn(action.step) else {
                    entries.append(.init(step: action.step, isOn: false, items: [], note: nil))
                    continue
                }
                var missing: [String] = []
                for table in action.needs where !(try await exists(table, database.connection, logger)) {
                    missing.append(table)
                }
                guard missing.isEmpty else {
                    entries.append(
                        .init(
                            step: action.step, isOn: true, items: [],
                            note: "no \(missing.joined(separator: ", ")) table in this database"))
                    continue
                }
                let (items, note): ([SanitisationItem], String?)
                if apply {
                    (items, note) = try await database.transaction { connection in
                        let found = try await action.find(connection, input)
                        if !found.0.isEmpty { try await action.change(connection, found.0, input) }
                        return found
                    }
                    if !items.isEmpty {
                        logger.info(
                            "sanitisation step done",
                            metadata: ["step": "\(action.step.name)", "changed": "\(items.count)"])
                    }
                } else {
                    (items, note) = try await action.find(database.connection, input)
                }
                entries.append(.init(step: action.step, isOn: true, items: items.map(\.line), note: note))
            }
        } catch {
            await database.close()
            throw error
        }
        await database.close()
        return SanitisationReport(product: product, applied: apply, entries: entries)
    }
}

/// One row or key a step changes: its identity for the change, and the line the report shows.
struct SanitisationItem: Sendable {
    let id: String
    let line: String
}

/// How one step finds and changes its rows, inside a transaction.
struct SanitisationAction: Sendable {
    let step: SanitisationStep
    /// The tables the step works on; when one is missing the step has nothing to do (and says so).
    var needs: [String] = []
    /// The rows to change and, when there are none, why.
    let find: @Sendable (PostgresConnection, SanitisationInput) async throws -> ([SanitisationItem], String?)
    /// Changes `items` (as `find` returned them in the same transaction).
    let change: @Sendable (PostgresConnection, [SanitisationItem], SanitisationInput) async throws -> Void
}

extension SanitisationAction {
    /// One step made of `first` and then `second` (the same step): their items in one list,
    /// each part changing its own.
    static func combined(_ first: SanitisationAction, _ second: SanitisationAction) -> SanitisationAction {
        SanitisationAction(
            step: first.step, needs: first.needs + second.needs,
            find: { connection, input in
                let (a, noteA) = try await first.find(connection, input)
                let (b, noteB) = try await second.find(connection, input)
                let items =
                    a.map { SanitisationItem(id: "1:" + $0.id, line: $0.line) }
                    + b.map { SanitisationItem(id: "2:" + $0.id, line: $0.line) }
                return (items, items.isEmpty ? (noteA ?? noteB) : nil)
            },
            change: { connection, items, input in
                let a = items.filter { $0.id.hasPrefix("1:") }.map {
                    SanitisationItem(id: String($0.id.dropFirst(2)), line: $0.line)
                }
                let b = items.filter { $0.id.hasPrefix("2:") }.map {
                    SanitisationItem(id: String($0.id.dropFirst(2)), line: $0.line)
                }
                if !a.isEmpty { try await first.change(connection, a, input) }
                if !b.isEmpty { try await second.change(connection, b, input) }
            })
    }
}

/// What the actions read besides the connection.
struct SanitisationInput: Sendable {
    let policy: SanitisationPolicy
    let context: SanitisationContext
    let logger: Logger
}
