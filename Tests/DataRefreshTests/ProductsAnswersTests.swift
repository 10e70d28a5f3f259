import AtlasRelayTestSupport
import AtlassianAdmin
import AtlassianSimulator
import Foundation
import Testing

@testable import DataRefresh

/// The REST side of the refresh's verification: what a running node says about itself (its
/// serverInfo and application links, read from the restored database by the simulator's own
/// code) must be the environment's and must not name PROD.
struct ProductsAnswersTests {
    @Test func aNodeThatStillCallsItselfPRODFailsTheVerificationAndARewrittenOnePasses() async throws {
        try await withProductDatabase(.jira, prefix: "answers") { url in
            try await withResource {
                try await AtlassianSimulator.start(.init(product: .jira, database: try DatabaseLocation(url: url)))
            } cleanup: { simulator in
                await simulator.stop()
            } body: { simulator in
                let jira = try JiraClient(
                    baseURL: simulator.baseURL, credentials: .token(AtlassianSimulator.User.admin.token))
                var settings = SanitisationRefreshTests.settings
                settings.jira?.baseURL = simulator.baseURL
                settings.jira?.applicationLinks = nil
                let refresher = try SanitisationRefreshTests.refresher(jira: url, confluence: url, settings: settings)

                // As restored: PROD's base URL and title, and the link to PROD's Confluence.
                let error = await #expect(throws: DataRefreshError.self) {
                    try await refresher.checkProductsAnswers(jira: jira, confluence: nil, manifest: nil)
                }
                let message = "\(error.map { "\($0)" } ?? "")"
                #expect(message.contains("serverInfo baseUrl is https://jira.example.com, which names PROD"), "\(message)")
                #expect(message.contains("serverTitle is Jira, not Jira (DEV)"), "\(message)")
                #expect(message.contains("application link 'Confluence' is https://confluence.example.com"), "\(message)")

                // Rewritten (in the database, as the refresh does before start): the answers are DEV's.
                try await settings.apply(jiraAPI: jira, confluenceAPI: nil)
                _ = try await SanitisationRefreshTests.psql(
                    url,
                    "UPDATE propertystring SET propertyvalue = 'https://confluence.dev.example.com' WHERE propertyvalue = 'https://confluence.example.com'"
                )
                try await refresher.checkProductsAnswers(jira: jira, confluence: nil, manifest: nil)
            }
        }
    }
}
