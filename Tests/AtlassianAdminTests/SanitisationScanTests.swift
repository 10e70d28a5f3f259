import AtlasRelayTestSupport
import Foundation
import Testing

@testable import AtlassianAdmin

/// The PROD-reference scan: the host rule, and every scanned table of the real dumps.
struct SanitisationScanTests {
    static let prod = ProductionReferenceScan.hosts(
        urls: ["https://jira.example.com", "https://confluence.example.com/"], hosts: ["10.0.0.10"])

    @Test func prodHostsComeFromURLsAndHostNames() {
        #expect(Self.prod == ["jira.example.com", "confluence.example.com", "10.0.0.10"])
        #expect(
            ProductionReferenceScan.hosts(
                urls: ["HTTPS://Jira.Example.com:8443/jira"], hosts: ["jira.example.com.", "db.example.com/x"])
                == ["jira.example.com:8443", "jira.example.com", "db.example.com"])
    }

    @Test(arguments: [
        ("https://jira.example.com", true),
        ("https://jira.example.com/browse/TEST-1", true),
        ("jira.example.com:8443", true),
        ("see JIRA.EXAMPLE.COM.", true),  // the dot ends the sentence
        ("<baseUrl>https://jira.example.com</baseUrl>", true),
        ("https%3A%2F%2Fjira.example.com%2Fbrowse", true),  // percent-encoded
        ("noreply@jira.example.com", true),
        ("https://notjira.example.com", false),
        ("https://a.jira.example.com", false),  // another host
        ("https://jira.example.com.au", false),
        ("https://jira.example.company", false),
        ("https://jira-example.com", false),
        ("http://10.0.0.100", false),
        ("http://10.0.0.10:8080", true),
    ])
    func theHostRuleMatchesWholeHostNamesOnly(value: String, matches: Bool) {
        let found = ProductionReferenceScan.hostsNamed(in: value, hosts: Self.prod)
        #expect(!found.isEmpty == matches, "\(value): \(found)")
    }

    @Test func aURLWithAPortMatchesOnlyThatPort() {
        let hosts = ProductionReferenceScan.hosts(urls: ["http://127.0.0.1:8081"], hosts: ["mail.example.com"])
        #expect(hosts == ["127.0.0.1:8081", "mail.example.com"])
        #expect(
            ProductionReferenceScan.hostsNamed(in: "http://127.0.0.1:8081/rest", hosts: hosts) == ["127.0.0.1:8081"])
        #expect(ProductionReferenceScan.hostsNamed(in: "http://127.0.0.1:8082", hosts: hosts).isEmpty)  // DEV, same host
        #expect(ProductionReferenceScan.hostsNamed(in: "http://127.0.0.1:80815", hosts: hosts).isEmpty)
        #expect(
            ProductionReferenceScan.hostsNamed(in: "smtp://mail.example.com:25", hosts: hosts) == ["mail.example.com"])
    }

    @Test func jiraFindingsCoverEverySettingsTableAndNotContent() async throws {
        try await withProductDatabase(.jira, prefix: "scan") { url in
            let location = try DatabaseLocation(url: url)
            // As PROD's settings leave the copy: the base URL, the link to PROD's Confluence and
            // the OAuth consumers name PROD's hosts.
            let found = try await ProductionReferenceScan.scan(.jira, database: location, hosts: Self.prod)
            let keys = Set(found.map { "\($0.table) \($0.key)" })
            #expect(keys.contains("propertystring jira.properties 1 jira.baseurl"))
            #expect(
                keys.contains(
                    "propertystring jira.properties 1 applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.rpc.url"))
            #expect(keys.contains("oauthconsumer id 10200 (Confluence)"))
            #expect(keys.contains("oauthspconsumer id 10000 (Confluence)"))
            let baseURL = try #require(found.first { $0.key.hasSuffix("jira.baseurl") })
            #expect(baseURL.host == "jira.example.com" && baseURL.excerpt == "https://jira.example.com")

            // A PROD URL planted in each other scanned table is found; in issue text and comments it is not.
            _ = try await SanitisationTests.psql(
                url,
                """
                UPDATE propertytext SET propertyvalue = 'see https://confluence.example.com/x' WHERE id = 11010;
                UPDATE mailserver SET mailfrom = 'jira@jira.example.com' WHERE id = 10000;
                UPDATE serviceconfig SET servicename = 'Sync with jira.example.com' WHERE id = 10002;
                UPDATE "AO_4AEACD_WEBHOOK_DAO" SET "URL" = 'https://jira.example.com/rest/x';
                UPDATE trustedapp SET url_match = 'https://jira.example.com/sr' WHERE id = 10000;
                UPDATE jiraissue SET description = 'copied from https://jira.example.com/browse/TEST-1';
                INSERT INTO jiraaction (id, issueid, author, actiontype, actionbody, created)
                    SELECT 20000, id, 'JIRAUSER10000', 'comment', 'https://confluence.example.com/display/TEST', now()
                    FROM jiraissue ORDER BY id LIMIT 1;
                """)
            let planted = try await ProductionReferenceScan.scan(.jira, database: location, hosts: Self.prod)
            let tables = Set(planted.map(\.table))
            for table in [
                "propertystring", "propertytext", "mailserver", "serviceconfig", "AO_4AEACD_WEBHOOK_DAO", "trustedapp",
                "oauthconsumer", "oauthspconsumer",
            ] {
                #expect(tables.contains(table), "\(table)")
            }
            #expect(!planted.contains { $0.table.hasPrefix("jira") })
            // A disabled webhook calls nobody.
            _ = try await SanitisationTests.psql(url, "UPDATE \"AO_4AEACD_WEBHOOK_DAO\" SET \"ENABLED\" = false")
            #expect(
                !(try await ProductionReferenceScan.scan(.jira, database: location, hosts: Self.prod))
                    .contains { $0.table == "AO_4AEACD_WEBHOOK_DAO" })
            // Another host (not PROD's) is no finding.
            #expect(
                try await ProductionReferenceScan.scan(.jira, database: location, hosts: ["jira.dev.example.com"])
                    .isEmpty)
        }
    }

    @Test func confluenceFindingsCoverEverySettingsTableAndNotContent() async throws {
        try await withProductDatabase(.confluence, prefix: "scan") { url in
            let location = try DatabaseLocation(url: url)
            let found = try await ProductionReferenceScan.scan(.confluence, database: location, hosts: Self.prod)
            let keys = Set(found.map { "\($0.table) \($0.key)" })
            #expect(keys.contains("bandana atlassian.confluence.settings"))
            #expect(keys.contains("bandana applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.rpc.url"))
            let settings = try #require(found.first { $0.key == "atlassian.confluence.settings" })
            #expect(settings.excerpt.contains("<baseUrl>https://confluence.example.com</baseUrl>"))
            _ = try await SanitisationTests.psql(
                url,
                """
                INSERT INTO os_propertyentry (entity_name, entity_id, entity_key, key_type, string_val)
                    VALUES ('confluence_global', 0, 'remote.url', 5, 'https://jira.example.com/rest');
                UPDATE trustedapprestriction SET restriction = 'https://jira.example.com/' WHERE type = 'URL';
                UPDATE "AO_A0B856_WEB_HOOK_LISTENER_AO" SET "URL" = 'https://confluence.example.com/hook';
                UPDATE bodycontent SET body = body || '<a href="https://jira.example.com/browse/TEST-1">x</a>';
                """)
            let planted = try await ProductionReferenceScan.scan(.confluence, database: location, hosts: Self.prod)
            let tables = Set(planted.map(\.table))
            for table in ["bandana", "os_propertyentry", "trustedapp", "AO_A0B856_WEB_HOOK_LISTENER_AO"] {
                #expect(tables.contains(table), "\(table)")
            }
            #expect(!planted.contains { $0.table == "bodycontent" })
            // A space's mail account on PROD's host is found too.
            _ = try await SanitisationTests.psql(
                url,
                "UPDATE bandana SET bandanavalue = replace(bandanavalue, 'imap.example.com', 'jira.example.com') WHERE bandanakey = 'atlassian.confluence.space.mailaccounts'"
            )
            #expect(
                try await ProductionReferenceScan.scan(.confluence, database: location, hosts: Self.prod).contains {
                    $0.key == "TEST atlassian.confluence.space.mailaccounts"
                })
            #expect(
                try await SanitisationTests.psql(
                    url, "SELECT count(*) FROM bodycontent WHERE body LIKE '%jira.example.com%'") != "0")
        }
    }
}
