import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Testing

@testable import AtlassianAdmin

/// The settings stores against the sandbox PostgreSQL (over TLS), each test on a fresh copy of a
/// real product database (the Jira 8 / Confluence 6 dumps, with PROD's settings written in).
struct SettingsStoreTests {

    @Test func jiraPropertiesAreRewrittenOnceAndNewOnesGetIdsJiraWillNotReuse() async throws {
        try await withProductDatabase(.jira, prefix: "store") { url in
        try await withResource {
            try await JiraSettingsStore.open(try DatabaseLocation(url: url))
        } cleanup: { store in
            await store.close()
        } body: { store in
            let before = try await store.properties()
            #expect(before["jira.title"] == .string("Jira"))
            #expect(before["jira.mail.send.disabled"] == .number(0))

            let wanted: [String: JiraSettingsStore.Value] = [
                "jira.title": .string("Jira (DEV)"), "jira.baseurl": .string("https://jira.dev.example.com"),
                "jira.mail.send.disabled": .number(1), "jira.lf.top.bgcolour": .string("#0B6E4F"),
                "jira.alertheader": .text("<b>DEV</b>: data from PROD, 2026-11-28"),
                "jira.lf.menu.bgcolour": .string("#0B6E4F"),  // not in the seed: a new entry
            ]
            let changed = try await store.set(wanted)
            #expect(Set(changed) == Set(wanted.keys))
            let after = try await store.properties()
            for (key, value) in wanted { #expect(after[key] == value, "\(key)") }
            #expect(after["jira.option.emailvisible"] == .string("show"))  // untouched (a real row of the dump)
            #expect(try await store.set(wanted).isEmpty)  // idempotent: nothing left to change

            // The new entry's id is at or above Jira's sequence, and the sequence moved past it.
            let psql = try await Self.query(
                url,
                "SELECT e.id, s.seq_id FROM propertyentry e, sequence_value_item s WHERE e.property_key = 'jira.lf.menu.bgcolour' AND s.seq_name = 'OSPropertyEntry'"
            )
            let numbers = psql.split(separator: "|").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            #expect(numbers.count == 2 && numbers[0] >= 11100 && numbers[1] > numbers[0])
        }
        }
    }

    @Test func aTypeMismatchWritesNothing() async throws {
        try await withProductDatabase(.jira, prefix: "store") { url in
        try await withResource {
            try await JiraSettingsStore.open(try DatabaseLocation(url: url))
        } cleanup: { store in
            await store.close()
        } body: { store in
            let error = try await #require(throws: AtlassianError.self) {
                try await store.set(["jira.title": .string("DEV"), "jira.mail.send.disabled": .string("true")])
            }
            #expect(error.kind == .conflict)
            #expect(try await store.properties()["jira.title"] == .string("Jira"))
        }
        }
    }

    @Test func confluenceSettingsAreRewrittenAsXMLKeepingEverythingElse() async throws {
        try await withProductDatabase(.confluence, prefix: "store") { url in
        try await withResource {
            try await ConfluenceSettingsStore.open(try DatabaseLocation(url: url))
        } cleanup: { store in
            await store.close()
        } body: { store in
            #expect(
                try await store.settings()
                    == .init(siteTitle: "Confluence", baseURL: "https://confluence.example.com", bannerHTML: ""))
            let wanted = ConfluenceSettingsStore.Settings(
                siteTitle: "Confluence (DEV) & friends", baseURL: "https://confluence.dev.example.com",
                bannerHTML: "<div class=\"banner\">DEV: data from PROD</div>")
            let changed = try await store.set(wanted)
            #expect(changed == ["siteTitle", "baseUrl", "customHtmlSettings/afterBodyStart"])
            #expect(try await store.settings() == wanted)
            #expect(try await store.set(wanted).isEmpty)
            let xml = try await store.xml()
            #expect(xml.contains("<attachmentMaxSize>104857600</attachmentMaxSize>"))  // the rest is kept
            #expect(xml.contains("<supportRequestEmail>confluence-autosupportrequests@atlassian.com</supportRequestEmail>"))
            #expect(xml.contains("&amp; friends"))  // escaped as XML, not pasted in
            #expect(xml.contains("<beforeBodyEnd"))
        }
        }
    }

    @Test func aDatabaseThatIsNotJiraOrConfluenceIsRefused() async throws {
        let empty = try await Sandbox.makeSchema(prefix: "empty", scripts: [])
        let emptyLocation = try DatabaseLocation(url: try Sandbox.postgresURL(schema: empty))
        let jira = try await #require(throws: AtlassianError.self) {
            try await JiraSettingsStore.open(emptyLocation)
        }
        #expect(jira.kind == .invalidInput)
        let confluence = try await #require(throws: AtlassianError.self) {
            try await ConfluenceSettingsStore.open(emptyLocation)
        }
        #expect(confluence.kind == .invalidInput)
        #expect(!jira.description.contains(try Sandbox.value("PGPASSWORD")))
        #expect(throws: AtlassianError.self) { try DatabaseLocation(url: "mysql://u@h/db") }
        #expect(throws: AtlassianError.self) { try DatabaseLocation(url: "postgres://u:p@h/db?schema=x;drop") }
        let wrongPassword = try await #require(throws: AtlassianError.self) {
            try await JiraSettingsStore.open(
                try DatabaseLocation(
                    url: try Sandbox.postgresURL().replacingOccurrences(of: ":relay-sandbox@", with: ":nope@")))
        }
        #expect(wrongPassword.kind == .unreachable)
        #expect(!wrongPassword.description.contains("nope"))
    }

    /// One psql query's unaligned output.
    static func query(_ url: String, _ sql: String) async throws -> String {
        let output = try await ProcessRunner.run(
            "/usr/bin/psql", ["-X", "-q", "-A", "-t", url, "-c", sql],
            timeout: .seconds(30))
        return String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
