import AtlasRelayTestSupport
import Foundation
import Testing

@testable import AtlassianAdmin

/// PROD's personal access tokens do not work in DEV. The real dumps predate tokens (Jira 8.11,
/// Confluence 6), so the test adds the PAT plugin's table as Jira 8.14+ and Confluence 7.9+ have
/// it, with one of PROD's tokens, and checks the step empties it; on the plain dump it has nothing
/// to do and says why.
struct SanitisationPersonalTokenTests {
    static let table = """
        CREATE TABLE "AO_81F455_PERSONAL_TOKEN" (
            "CREATED_AT" timestamp NOT NULL, "EXPIRING_AT" timestamp, "HASHED_TOKEN" varchar(255) NOT NULL,
            "ID" bigserial PRIMARY KEY, "LAST_ACCESSED_AT" timestamp, "NAME" varchar(255) NOT NULL,
            "NOTIFICATION_STATE" varchar(255), "TOKEN_ID" varchar(255) NOT NULL, "USER_KEY" varchar(255) NOT NULL);
        INSERT INTO "AO_81F455_PERSONAL_TOKEN" ("CREATED_AT", "HASHED_TOKEN", "NAME", "TOKEN_ID", "USER_KEY")
            VALUES (now(), 'hashed-prod-token', 'PROD automation', '123456789012', 'JIRAUSER10000');
        """

    @Test(arguments: [Product.jira, .confluence])
    func prodsPersonalAccessTokensAreRemoved(_ product: Product) async throws {
        let step: SanitisationStep = product == .jira ? .jiraPersonalTokensRemoved : .confluencePersonalTokensRemoved
        try await withProductDatabase(product == .jira ? .jira : .confluence, prefix: "pat") { url in
            let location = try DatabaseLocation(url: url)
            let plain = try await Sanitisation.plan(product, database: location, settings: SanitisationTests.settings)
            #expect(plain.entry(step)?.items == [])
            #expect(plain.entry(step)?.note?.contains("no personal access tokens") == true)

            _ = try await SanitisationTests.psql(url, Self.table)
            let planned = try await Sanitisation.plan(product, database: location, settings: SanitisationTests.settings)
            #expect(planned.entry(step)?.items.count == 1)
            #expect(try await SanitisationTests.psql(url, #"SELECT count(*) FROM "AO_81F455_PERSONAL_TOKEN""#) == "1")

            var keep = SanitisationTests.settings
            keep.sanitisation.off = [step.name]
            _ = try await Sanitisation.apply(product, database: location, settings: keep)
            #expect(try await SanitisationTests.psql(url, #"SELECT count(*) FROM "AO_81F455_PERSONAL_TOKEN""#) == "1")

            _ = try await Sanitisation.apply(product, database: location, settings: SanitisationTests.settings)
            #expect(try await SanitisationTests.psql(url, #"SELECT count(*) FROM "AO_81F455_PERSONAL_TOKEN""#) == "0")
        }
    }
}
