import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Testing

@testable import AtlassianAdmin

/// The sanitisation steps on fresh copies of the real Jira 8 and Confluence 6 dumps, with PROD's
/// settings and integrations written in (scripts/sql/prod-settings-*.sql,
/// scripts/sql/prod-integrations-*.sql).
struct SanitisationTests {
    static let settings = EnvironmentSettings(
        environment: "dev", productionBaseURLs: ["https://jira.example.com", "https://confluence.example.com"])

    /// One psql query's output (unaligned, tuples only, rows on lines).
    static func psql(_ url: String, _ sql: String) async throws -> String {
        let output = try await ProcessRunner.run(
            "/usr/bin/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql], timeout: .seconds(60))
        guard output.status == 0 else {
            throw TestSupportError("psql failed: \(String(decoding: output.stderr, as: UTF8.self))")
        }
        return String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every row of the tables the Jira steps touch, as text: a dry run must leave it as it was.
    static let jiraTouched = """
        SELECT 'mailserver', count(*)::text FROM mailserver
        UNION ALL SELECT 'serviceconfig', string_agg(id::text, ',' ORDER BY id) FROM serviceconfig
        UNION ALL SELECT 'ServiceConfig properties', count(*)::text FROM propertyentry WHERE entity_name = 'ServiceConfig'
        UNION ALL SELECT 'mail flag', (SELECT n.propertyvalue::text FROM propertyentry e JOIN propertynumber n ON n.id = e.id
                                       WHERE e.property_key = 'jira.mail.send.disabled')
        UNION ALL SELECT 'fetch flag', (SELECT count(*)::text FROM propertyentry WHERE property_key = 'jira.mail.fetch.disabled')
        UNION ALL SELECT 'webhooks', string_agg("ID" || ':' || "ENABLED", ',') FROM "AO_4AEACD_WEBHOOK_DAO"
        UNION ALL SELECT 'clusternode', count(*)::text FROM clusternode
        UNION ALL SELECT 'heartbeats', count(*)::text FROM clusternodeheartbeat
        UNION ALL SELECT 'oauthconsumer', string_agg(consumerservice, ',' ORDER BY id) FROM oauthconsumer
        UNION ALL SELECT 'oauthspconsumer', count(*)::text FROM oauthspconsumer
        UNION ALL SELECT 'trustedapp', count(*)::text FROM trustedapp
        UNION ALL SELECT 'productlicense', string_agg(id::text || ':' || md5(license), ',') FROM productlicense
        """

    @Test func theStepsAreNamedDocumentedAndOrderedOutgoingMailFirst() {
        #expect(Set(SanitisationStep.all.map(\.name)).count == SanitisationStep.all.count)
        for product in Product.allCases {
            let steps = SanitisationStep.steps(for: product)
            #expect(steps.first?.name == "\(product.rawValue).mail.outgoing-off")
            #expect(steps.last?.name == "\(product.rawValue).service-account")
        }
        for step in SanitisationStep.all {
            #expect(step.name.hasPrefix(step.product.rawValue + "."))
            #expect(!step.summary.isEmpty && !step.changes.isEmpty && step.source.hasPrefix("https://"))
            #expect(SanitisationStep.named(step.name) == step)
        }
    }

    @Test func aJiraDryRunListsEveryChangeAndTouchesNothing() async throws {
        try await withProductDatabase(.jira, prefix: "sanitise") { url in
            let before = try await Self.psql(url, Self.jiraTouched)
            let report = try await Sanitisation.plan(
                .jira, database: try DatabaseLocation(url: url), settings: Self.settings)
            #expect(!report.applied)
            #expect(try await Self.psql(url, Self.jiraTouched) == before)
            #expect(report.entries.map(\.step) == SanitisationStep.steps(for: .jira))
            #expect(
                report.entry(.jiraOutgoingMailOff)?.items == [
                    "jira.mail.send.disabled: 0 → 1", "mailserver 10000 removed (smtp 'PROD SMTP' at smtp.example.com)",
                ])
            #expect(
                report.entry(.jiraIncomingMailOff)?.items == [
                    "jira.mail.fetch.disabled: (absent) → 1",
                    "mailserver 10001 removed (imap 'Support mailbox' at imap.example.com)",
                    "serviceconfig 10300 removed ('Support mail handler', MailFetcherService, with its 5 properties)",
                ])
            #expect(report.entry(.jiraWebhooksOff)?.items.count == 1)
            #expect(
                report.entry(.jiraWebhooksOff)?.items.first?.contains("https://automation.example.com/hooks/jira/issue")
                    == true)
            #expect(report.entry(.jiraClusterNodesRemoved)?.items.count == 4)  // 2 nodes, 2 heartbeats
            #expect(
                report.entry(.jiraOAuthConsumersRemoved)?.items == [
                    "oauthconsumer 10200 removed ('Confluence', key confluence:5798632)",
                    "oauthspconsumer 10000 removed ('Confluence', key confluence:5798632)",
                ])
            #expect(
                report.entry(.jiraTrustedAppsRemoved)?.items == [
                    "trustedapp 10000 removed ('Confluence', confluence:5798632)"
                ])
            #expect(report.entry(.jiraLicenceReplaced)?.items == [])
            #expect(report.entry(.jiraLicenceReplaced)?.note?.contains("PROD's is kept") == true)
            #expect(report.text.contains("jira.webhooks.off [on]"))
            #expect(report.text.contains("would change: mailserver 10000"))
        }
    }

    @Test func jiraStepsChangeExactlyWhatTheySay() async throws {
        try await withProductDatabase(.jira, prefix: "sanitise") { url in
            let location = try DatabaseLocation(url: url)
            let licenceBefore = try await Self.psql(url, "SELECT md5(license) FROM productlicense")
            let report = try await Sanitisation.apply(.jira, database: location, settings: Self.settings)
            #expect(report.applied)
            #expect(try await Self.psql(url, "SELECT count(*) FROM mailserver") == "0")
            let store = try await JiraSettingsStore.open(location)
            let properties = try await store.properties()
            await store.close()
            #expect(properties["jira.mail.send.disabled"] == .number(1))
            #expect(properties["jira.mail.fetch.disabled"] == .number(1))
            // Only the mail handler went: Jira's own services and their properties stay.
            #expect(
                try await Self.psql(url, "SELECT string_agg(id::text, ',' ORDER BY id) FROM serviceconfig")
                    == "10000,10001,10002,10200,10201,10202")
            #expect(
                try await Self.psql(
                    url,
                    "SELECT string_agg(entity_id::text, ',' ORDER BY entity_id) FROM propertyentry WHERE entity_name = 'ServiceConfig'"
                )
                    == "10001,10200,10201")
            #expect(
                try await Self.psql(url, "SELECT count(*) FROM propertystring WHERE id BETWEEN 11100 AND 11104") == "0")
            // The webhook is disabled, not deleted.
            #expect(
                try await Self.psql(url, "SELECT string_agg(\"ENABLED\"::text, ',') FROM \"AO_4AEACD_WEBHOOK_DAO\"")
                    == "false")
            #expect(try await Self.psql(url, "SELECT count(*) FROM clusternode") == "0")
            #expect(try await Self.psql(url, "SELECT count(*) FROM clusternodeheartbeat") == "0")
            #expect(
                try await Self.psql(url, "SELECT string_agg(consumerservice, ',') FROM oauthconsumer")
                    == "__HOST_SERVICE__")
            #expect(try await Self.psql(url, "SELECT count(*) FROM oauthspconsumer") == "0")
            #expect(try await Self.psql(url, "SELECT count(*) FROM trustedapp") == "0")
            #expect(try await Self.psql(url, "SELECT md5(license) FROM productlicense") == licenceBefore)
            // Other content is untouched.
            #expect(try await Self.psql(url, "SELECT count(*) FROM jiraissue") == "25")
            // Nothing is left to do.
            let again = try await Sanitisation.plan(.jira, database: location, settings: Self.settings)
            #expect(again.entries.allSatisfy { $0.items.isEmpty }, "\(again.text)")
        }
    }

    @Test func aStepTurnedOffLeavesItsRowsAndAnAllowListedWebhookStays() async throws {
        try await withProductDatabase(.jira, prefix: "sanitise") { url in
            var settings = Self.settings
            settings.sanitisation = SanitisationPolicy(
                off: ["jira.cluster.nodes-removed", "jira.mail.incoming-off"],
                webhookAllowList: ["https://AUTOMATION.example.com/hooks/"])
            let report = try await Sanitisation.apply(
                .jira, database: try DatabaseLocation(url: url), settings: settings)
            #expect(report.entry(.jiraClusterNodesRemoved)?.isOn == false)
            #expect(report.entry(.jiraIncomingMailOff)?.isOn == false)
            #expect(report.text.contains("jira.cluster.nodes-removed [OFF"))
            #expect(try await Self.psql(url, "SELECT count(*) FROM clusternode") == "2")
            #expect(try await Self.psql(url, "SELECT string_agg(server_type, ',') FROM mailserver") == "imap")  // SMTP went
            #expect(try await Self.psql(url, "SELECT count(*) FROM serviceconfig WHERE id = 10300") == "1")
            #expect(
                try await Self.psql(url, "SELECT string_agg(\"ENABLED\"::text, ',') FROM \"AO_4AEACD_WEBHOOK_DAO\"")
                    == "true")
            #expect(report.entry(.jiraWebhooksOff)?.note == "1 allow-listed webhook(s) stay enabled")
        }
    }

    @Test func theLicenceIsReplacedWhenTheEnvironmentGivesOne() async throws {
        try await withProductDatabase(.jira, prefix: "sanitise") { url in
            let context = SanitisationContext(licence: "AAAB-dev-licence-text")
            let report = try await Sanitisation.apply(
                .jira, database: try DatabaseLocation(url: url), settings: Self.settings, context: context)
            #expect(report.entry(.jiraLicenceReplaced)?.items.count == 2)
            let rows = try await Self.psql(url, "SELECT id || '|' || license FROM productlicense")
            #expect(rows == "10100|AAAB-dev-licence-text")  // the ProductLicense bank of the dump starts at 10100
            #expect(
                try await Self.psql(url, "SELECT seq_id FROM sequence_value_item WHERE seq_name = 'ProductLicense'")
                    == "10200")
        }
    }

    @Test func prodIsRefusedAndAnUnknownStepIsAnError() async throws {
        try await withProductDatabase(.jira, prefix: "sanitise") { url in
            let location = try DatabaseLocation(url: url)
            let before = try await Self.psql(url, Self.jiraTouched)
            let prod = EnvironmentSettings(environment: "prod", isProduction: true)
            let refused = try await #require(throws: AtlassianError.self) {
                try await Sanitisation.apply(.jira, database: location, settings: prod)
            }
            #expect(refused.kind == .refused)
            var misspelt = Self.settings
            misspelt.sanitisation.off = ["jira.webhook.off"]
            let invalid = try await #require(throws: AtlassianError.self) {
                try await Sanitisation.apply(.jira, database: location, settings: misspelt)
            }
            #expect(invalid.kind == .invalidInput && invalid.description.contains("jira.webhook.off"))
            #expect(throws: AtlassianError.self) { try misspelt.validate() }
            #expect(try await Self.psql(url, Self.jiraTouched) == before)
        }
    }

    @Test func thePolicyIsReadFromSettingsWithEveryStepOnByDefault() throws {
        let bare = try JSONDecoder().decode(EnvironmentSettings.self, from: Data(#"{"environment": "dev"}"#.utf8))
        #expect(bare.sanitisation == SanitisationPolicy())
        #expect(SanitisationStep.all.allSatisfy { bare.sanitisation.isOn($0) })
        let json = #"""
            {"environment": "uat", "sanitisation": {"off": ["confluence.webhooks.off"],
             "webhookAllowList": ["https://hooks.uat.example.com/"], "productionHosts": ["jira-internal.example.com"],
             "licences": {"jira": "aws-sm:uat/jira-licence"}}}
            """#
        let settings = try JSONDecoder().decode(EnvironmentSettings.self, from: Data(json.utf8))
        #expect(!settings.sanitisation.isOn(.confluenceWebhooksOff) && settings.sanitisation.isOn(.jiraWebhooksOff))
        #expect(settings.sanitisation.licences == ["jira": "aws-sm:uat/jira-licence"])
        try settings.validate()
        var bad = settings
        bad.sanitisation.licences = ["bamboo": "x"]
        bad.sanitisation.webhookAllowList = ["hooks.example.com"]
        let error = try #require(throws: AtlassianError.self) { try bad.validate() }
        #expect(
            error.kind == .invalidInput && error.description.contains("bamboo")
                && error.description.contains("hooks.example.com"))
    }

    static let confluenceTouched = """
        SELECT 'mail', COALESCE((SELECT md5(bandanavalue) FROM bandana WHERE bandanakey = 'atlassian.confluence.smtp.mail.accounts'), 'none')
        UNION ALL SELECT 'space mail', count(*)::text FROM bandana WHERE bandanakey = 'atlassian.confluence.space.mailaccounts'
        UNION ALL SELECT 'webhooks', string_agg("ID" || ':' || "ENABLED", ',') FROM "AO_A0B856_WEB_HOOK_LISTENER_AO"
        UNION ALL SELECT 'trustedapp', count(*)::text FROM trustedapp
        UNION ALL SELECT 'restrictions', count(*)::text FROM trustedapprestriction
        UNION ALL SELECT 'keystore', string_agg(keyid::text, ',' ORDER BY keyid) FROM keystore
        UNION ALL SELECT 'next_hi', next_hi::text FROM hibernate_unique_key
        """

    @Test func aConfluenceDryRunListsEveryChangeAndTouchesNothing() async throws {
        try await withProductDatabase(.confluence, prefix: "sanitise") { url in
            let before = try await Self.psql(url, Self.confluenceTouched)
            let report = try await Sanitisation.plan(
                .confluence, database: try DatabaseLocation(url: url), settings: Self.settings)
            #expect(try await Self.psql(url, Self.confluenceTouched) == before)
            #expect(report.entries.map(\.step) == SanitisationStep.steps(for: .confluence))
            #expect(
                report.entry(.confluenceOutgoingMailOff)?.items == [
                    "mail server 1501320000000 removed (smtp 'PROD SMTP' at smtp.example.com)"
                ])
            #expect(
                report.entry(.confluenceIncomingMailOff)?.items == [
                    "mail server 1501320060000 removed (pop 'Team inbox' at pop.example.com)",
                    "space TEST mail accounts removed (mail archiving, at imap.example.com)",
                ])
            #expect(report.entry(.confluenceWebhooksOff)?.items.count == 1)
            #expect(report.entry(.confluenceTrustedAppsRemoved)?.items.first?.contains("'jira:1234567'") == true)
        }
    }

    @Test func confluenceStepsChangeExactlyWhatTheySay() async throws {
        try await withProductDatabase(.confluence, prefix: "sanitise") { url in
            let location = try DatabaseLocation(url: url)
            try await Sanitisation.apply(.confluence, database: location, settings: Self.settings)
            #expect(
                try await Self.psql(
                    url, "SELECT count(*) FROM bandana WHERE bandanakey = 'atlassian.confluence.smtp.mail.accounts'")
                    == "0")
            #expect(
                try await Self.psql(
                    url, "SELECT count(*) FROM bandana WHERE bandanakey = 'atlassian.confluence.space.mailaccounts'")
                    == "0")
            #expect(
                try await Self.psql(
                    url, "SELECT string_agg(\"ENABLED\"::text, ',') FROM \"AO_A0B856_WEB_HOOK_LISTENER_AO\"") == "false"
            )
            #expect(try await Self.psql(url, "SELECT count(*) FROM trustedapp") == "0")
            #expect(try await Self.psql(url, "SELECT count(*) FROM trustedapprestriction") == "0")
            // Only the trusted app's key went; Confluence's own keys stay.
            #expect(
                try await Self.psql(url, "SELECT string_agg(keyid::text, ',' ORDER BY keyid) FROM keystore")
                    == "32769,32770")
            // The global settings are untouched.
            #expect(
                try await Self.psql(
                    url,
                    "SELECT count(*) FROM bandana WHERE bandanakey = 'atlassian.confluence.settings' AND bandanavalue LIKE '%<siteTitle>Confluence</siteTitle>%'"
                )
                    == "1")
            let again = try await Sanitisation.plan(.confluence, database: location, settings: Self.settings)
            #expect(again.entries.allSatisfy { $0.items.isEmpty }, "\(again.text)")
        }
    }

    @Test func confluenceOutgoingMailOffAloneKeepsTheIncomingServer() async throws {
        try await withProductDatabase(.confluence, prefix: "sanitise") { url in
            var settings = Self.settings
            settings.sanitisation.off = ["confluence.mail.incoming-off"]
            try await Sanitisation.apply(.confluence, database: try DatabaseLocation(url: url), settings: settings)
            let xml = try await Self.psql(
                url, "SELECT bandanavalue FROM bandana WHERE bandanakey = 'atlassian.confluence.smtp.mail.accounts'")
            let servers = try Sanitisation.confluenceMailServers(xml)
            #expect(servers.map(\.id) == ["1501320060000"])
            #expect(servers.first?.type == "pop" && servers.first?.host == "pop.example.com")
            #expect(!xml.contains("smtp.example.com") && xml.hasPrefix("<linked-hash-map>"))
        }
    }
}
