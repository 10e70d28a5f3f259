import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Testing

@testable import AtlassianAdmin

/// Atlassian's {PKCS5S2} hash and the service-account steps, on fresh copies of the real dumps.
struct SanitisationServiceAccountTests {
    // RFC 6070's PBKDF2-HMAC-SHA1 test vectors.
    @Test(arguments: [
        ("password", "salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
        ("password", "salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
        ("password", "salt", 4096, 20, "4b007901b765489abead49d926f721d065a429c1"),
        (
            "passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25,
            "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"
        ),
    ])
    func pbkdf2MatchesRFC6070(password: String, salt: String, iterations: Int, length: Int, expected: String) {
        let key = PKCS5S2.pbkdf2SHA1(
            password: Array(password.utf8), salt: Array(salt.utf8), iterations: iterations, length: length)
        #expect(Hex.string(key) == expected)
    }

    // Made with Python 3's hashlib, salt bytes 0..15:
    //   salt = bytes(range(16)); dk = hashlib.pbkdf2_hmac('sha1', pw.encode('utf-8'), salt, 10000, 32)
    //   '{PKCS5S2}' + base64.b64encode(salt + dk).decode()
    @Test(arguments: [
        ("relay-service-pw", "{PKCS5S2}AAECAwQFBgcICQoLDA0ODzV89bZywyOuo12zjG7D8Im0hgjD2ITALjj1Vi8S9Dz0"),
        ("pässwörd ✓", "{PKCS5S2}AAECAwQFBgcICQoLDA0OD1kueMv1o1VZ4CTCiK14TuP+uCzCJWjBM1lSWFXtkudH"),
    ])
    func atlassianHashMatchesPythonsPBKDF2(password: String, expected: String) {
        #expect(PKCS5S2.hash(password, salt: Array(0..<16)) == expected)
        #expect(PKCS5S2.verify(password, against: expected))
        #expect(!PKCS5S2.verify(password + "x", against: expected))
    }

    @Test func theFixturesServiceAccountHashVerifies() async throws {
        // scripts/sql/prod-settings-jira.sql's atlas-relay, hashed by the lead with Python's hashlib.
        #expect(
            PKCS5S2.verify(
                "prod-service-sandbox",
                against: "{PKCS5S2}AAECAwQFBgcICQoLDA0OD479pu2KNcsKj9DZSIq5kntVUlkEA+FdHZrR7R2XfWKA"))
    }

    @Test func aFreshHashHasARandomSaltAndVerifies() {
        let one = PKCS5S2.hash("secret"), two = PKCS5S2.hash("secret")
        #expect(one != two)
        #expect(one.hasPrefix("{PKCS5S2}") && one.count == "{PKCS5S2}".count + 64)
        #expect(PKCS5S2.verify("secret", against: one) && PKCS5S2.verify("secret", against: two))
        #expect(!PKCS5S2.verify("secret", against: "{SHA}abc"))
    }

    static let settings = EnvironmentSettings(
        environment: "dev", productionBaseURLs: ["https://jira.example.com", "https://confluence.example.com"])

    @Test func jiraServiceAccountIsCreatedActiveAndAnAdministrator() async throws {
        try await withProductDatabase(.jira, prefix: "sanacct") { url in
            let location = try DatabaseLocation(url: url)
            let account = ServiceAccount(user: "relay-svc-test", password: "relay-service-pw")
            let context = SanitisationContext(serviceAccount: account)
            let users = try await SanitisationTests.psql(url, "SELECT count(*) FROM cwd_user")
            let sequence = Int(
                try await SanitisationTests.psql(url, "SELECT seq_id FROM sequence_value_item WHERE seq_name = 'User'"))!
            let planned = try await Sanitisation.plan(
                .jira, database: location, settings: Self.settings, context: context)
            #expect(planned.entry(.jiraServiceAccount)?.items.count == 3)  // user, user key, membership
            #expect(try await SanitisationTests.psql(url, "SELECT count(*) FROM cwd_user") == users)  // dry run

            try await Sanitisation.apply(.jira, database: location, settings: Self.settings, context: context)
            let row = try await SanitisationTests.psql(
                url,
                "SELECT id, directory_id, active, credential FROM cwd_user WHERE lower_user_name = 'relay-svc-test'")
            let fields = row.split(separator: "|").map(String.init)
            #expect(fields.count == 4)
            #expect(Int(fields[0])! == sequence)  // the next id of Jira's User bank
            #expect(fields[1] == "1" && fields[2] == "1")
            #expect(PKCS5S2.verify("relay-service-pw", against: fields[3]))
            #expect(
                try await SanitisationTests.psql(url, "SELECT seq_id FROM sequence_value_item WHERE seq_name = 'User'")
                    == String(Int(fields[0])! + 100))
            #expect(
                try await SanitisationTests.psql(
                    url,
                    "SELECT parent_name || ' ' || membership_type FROM cwd_membership WHERE lower_child_name = 'relay-svc-test'"
                )
                    == "jira-administrators GROUP_USER")
            #expect(
                try await SanitisationTests.psql(
                    url, "SELECT user_key FROM app_user WHERE lower_user_name = 'relay-svc-test'"
                )
                .hasPrefix("JIRAUSER"))
            // Nothing left: the password verifies, so it is not rewritten.
            let again = try await Sanitisation.plan(
                .jira, database: location, settings: Self.settings, context: context)
            #expect(again.entry(.jiraServiceAccount)?.items == [])
        }
    }

    @Test func anExistingJiraUserGetsTheNewPasswordAndNoSecondMembership() async throws {
        try await withProductDatabase(.jira, prefix: "sanacct") { url in
            let location = try DatabaseLocation(url: url)
            let users = try await SanitisationTests.psql(url, "SELECT count(*) FROM cwd_user")
            let old = try await SanitisationTests.psql(
                url, "SELECT credential FROM cwd_user WHERE user_name = 'pengwinn'")
            #expect(!PKCS5S2.verify("new-pw", against: old))
            let context = SanitisationContext(serviceAccount: ServiceAccount(user: "PengWinn", password: "new-pw"))
            let report = try await Sanitisation.apply(
                .jira, database: location, settings: Self.settings, context: context)
            #expect(report.entry(.jiraServiceAccount)?.items == ["cwd_user 'PengWinn': password set ({PKCS5S2})"])
            let credential = try await SanitisationTests.psql(
                url, "SELECT credential FROM cwd_user WHERE user_name = 'pengwinn'")
            #expect(PKCS5S2.verify("new-pw", against: credential))
            #expect(try await SanitisationTests.psql(url, "SELECT count(*) FROM cwd_user") == users)
            #expect(
                try await SanitisationTests.psql(url, "SELECT count(*) FROM cwd_membership WHERE child_id = 10000")
                    == "2")
        }
    }

    @Test func withoutBasicCredentialsTheStepSaysWhyItDidNothing() async throws {
        #expect(ServiceAccount(.token("pat")) == nil)
        #expect(ServiceAccount(nil) == nil)
        #expect(
            ServiceAccount(.basic(user: "u", password: "p"))?.description == "service account u (password redacted)")
        try await withProductDatabase(.jira, prefix: "sanacct") { url in
            let before = try await SanitisationTests.psql(url, "SELECT id, credential FROM cwd_user ORDER BY id")
            let report = try await Sanitisation.apply(
                .jira, database: try DatabaseLocation(url: url), settings: Self.settings)
            let entry = try #require(report.entry(.jiraServiceAccount))
            #expect(entry.items.isEmpty && entry.note?.contains("no Basic credentials") == true)
            #expect(try await SanitisationTests.psql(url, "SELECT id, credential FROM cwd_user ORDER BY id") == before)
        }
    }

    @Test func confluenceServiceAccountIsCreatedWithAUserKeyAndHiLoIds() async throws {
        try await withProductDatabase(.confluence, prefix: "sanacct") { url in
            let location = try DatabaseLocation(url: url)
            let nextHi = Int(try await SanitisationTests.psql(url, "SELECT next_hi FROM hibernate_unique_key"))!
            let context = SanitisationContext(
                serviceAccount: ServiceAccount(user: "relay-svc-test", password: "relay-service-pw"))
            try await Sanitisation.apply(.confluence, database: location, settings: Self.settings, context: context)
            let row = try await SanitisationTests.psql(
                url,
                "SELECT id, active, directory_id, credential FROM cwd_user WHERE lower_user_name = 'relay-svc-test'")
            let fields = row.split(separator: "|").map(String.init)
            #expect(fields.count == 4)
            #expect(Int(fields[0])! == nextHi * 32_768)  // a block of its own
            #expect(fields[1] == "T" && fields[2] == "131073")
            #expect(PKCS5S2.verify("relay-service-pw", against: fields[3]))
            #expect(
                Int(try await SanitisationTests.psql(url, "SELECT next_hi FROM hibernate_unique_key"))! == nextHi + 1)
            #expect(
                try await SanitisationTests.psql(
                    url,
                    """
                    SELECT g.group_name FROM cwd_membership m JOIN cwd_group g ON g.id = m.parent_id
                    WHERE m.child_user_id = \(fields[0])
                    """) == "confluence-administrators")
            let key = try await SanitisationTests.psql(
                url, "SELECT user_key FROM user_mapping WHERE lower_username = 'relay-svc-test'")
            #expect(key.count == 32 && key.allSatisfy(\.isHexDigit))
        }
    }

    @Test func confluenceAdminGetsTheNewPassword() async throws {
        try await withProductDatabase(.confluence, prefix: "sanacct") { url in
            let memberships = try await SanitisationTests.psql(url, "SELECT count(*) FROM cwd_membership")
            let nextHi = try await SanitisationTests.psql(url, "SELECT next_hi FROM hibernate_unique_key")
            let context = SanitisationContext(serviceAccount: ServiceAccount(user: "admin", password: "dev-admin-pw"))
            let report = try await Sanitisation.apply(
                .confluence, database: try DatabaseLocation(url: url), settings: Self.settings, context: context)
            #expect(report.entry(.confluenceServiceAccount)?.items == ["cwd_user 'admin': password set ({PKCS5S2})"])
            let credential = try await SanitisationTests.psql(url, "SELECT credential FROM cwd_user WHERE id = 262145")
            #expect(PKCS5S2.verify("dev-admin-pw", against: credential))
            #expect(try await SanitisationTests.psql(url, "SELECT count(*) FROM cwd_membership") == memberships)
            #expect(try await SanitisationTests.psql(url, "SELECT next_hi FROM hibernate_unique_key") == nextHi)  // no ids taken
        }
    }
}
