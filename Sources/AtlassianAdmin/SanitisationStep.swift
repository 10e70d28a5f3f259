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
