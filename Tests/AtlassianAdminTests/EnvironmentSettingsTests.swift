import AtlasRelayTestSupport
import Foundation
import Testing

@testable import AtlassianAdmin

/// Plan and apply of an environment's settings over the database stores, on copies of the real
/// Jira and Confluence databases with PROD's settings written in.
struct EnvironmentSettingsTests {
    static let dev = EnvironmentSettings(
        environment: "dev", productionBaseURLs: ["https://jira.example.com", "https://confluence.example.com/"],
        jira: .init(
            title: "Jira (DEV)", baseURL: "https://jira.dev.example.com", colours: ["topBar": "#0B6E4F"],
            banner: "DEV: PROD data of 2026-11-28", mailDisabled: true),
        confluence: .init(
            siteTitle: "Confluence (DEV)", baseURL: "https://confluence.dev.example.com", bannerHTML: "<div>DEV</div>"))

    @Test func planShowsTheDifferencesAndApplyIsIdempotent() async throws {
        try await withProductDatabase(.jira, prefix: "env") { jiraURL in
        try await withProductDatabase(.confluence, prefix: "env") { confluenceURL in
        try await withResource {
            try await JiraSettingsStore.open(try DatabaseLocation(url: jiraURL))
        } cleanup: { jira in
            await jira.close()
        } body: { jira in
            try await withResource {
                try await ConfluenceSettingsStore.open(try DatabaseLocation(url: confluenceURL))
            } cleanup: { confluence in
                await confluence.close()
            } body: { confluence in
                let plan = try await Self.dev.plan(jira: jira, confluence: confluence)
                #expect(plan.text.contains(#"Jira jira.title: "Jira" → "Jira (DEV)""#))
                #expect(plan.text.contains(#"Jira jira.mail.send.disabled: "0" → "1""#))
                #expect(plan.text.contains(##"Jira jira.lf.top.bgcolour: (none) → "#0B6E4F""##))  // the dump has none
                #expect(
                    plan.text.contains(
                        #"Confluence baseUrl: "https://confluence.example.com" → "https://confluence.dev.example.com""#
                    ))
                // 6 Jira properties (title, base URL, mail, colour, banner and its visibility, which the
                // real dump has never set) + 3 Confluence.
                #expect(plan.changes.count == 9)
                #expect(plan.text.contains(#"Jira jira.alertheader.visibility: (none) → "public""#))
                #expect(try await jira.properties()["jira.title"] == .string("Jira"))  // planning wrote nothing

                let applied = try await Self.dev.apply(jira: jira, confluence: confluence)
                #expect(applied == plan)
                #expect(try await Self.dev.plan(jira: jira, confluence: confluence).text == "no changes")
                #expect(try await Self.dev.apply(jira: jira, confluence: confluence).changes.isEmpty)
                #expect(try await confluence.settings().siteTitle == "Confluence (DEV)")
            }
        }
        }
        }
    }

    @Test func invalidSettingsAndProdAreRefusedBeforeWriting() async throws {
        try await withProductDatabase(.jira, prefix: "env") { url in
        try await withResource {
            try await JiraSettingsStore.open(try DatabaseLocation(url: url))
        } cleanup: { jira in
            await jira.close()
        } body: { jira in
            var bad = Self.dev
            bad.jira?.colours = ["topBar": "green", "sidebar": "#000000"]
            bad.confluence?.baseURL = "https://CONFLUENCE.example.com"
            let invalid = try await #require(throws: AtlassianError.self) {
                try await bad.apply(jira: jira, confluence: nil)
            }
            #expect(invalid.kind == .invalidInput)
            #expect(invalid.description.contains("Jira colour topBar is 'green', not #rrggbb"))
            #expect(invalid.description.contains("unknown Jira colour 'sidebar'"))
            #expect(invalid.description.contains("Confluence's base URL https://CONFLUENCE.example.com is PROD's"))

            var prod = Self.dev
            prod.isProduction = true
            let refused = try await #require(throws: AtlassianError.self) {
                try await prod.apply(jira: jira, confluence: nil)
            }
            #expect(refused.kind == .refused)
            #expect(try await jira.properties()["jira.title"] == .string("Jira"))
        }
        }
    }

    @Test func settingsReadFromJSON() throws {
        let json = #"""
            {"environment": "uat", "isProduction": false, "productionBaseURLs": ["https://jira.example.com"],
             "jira": {"title": "Jira (UAT)", "colours": {"topBar": "#6A1B9A"}, "mailDisabled": true}}
            """#
        let settings = try JSONDecoder().decode(EnvironmentSettings.self, from: Data(json.utf8))
        #expect(settings.jira?.colours == ["topBar": "#6A1B9A"])
        #expect(settings.confluence == nil)
        try settings.validate()
    }
}
