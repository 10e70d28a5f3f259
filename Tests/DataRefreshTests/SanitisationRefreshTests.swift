import AWSCore
import AtlasRelayTestSupport
import AtlassianAdmin
import AtlassianSimulator
import Foundation
import S3Sync
import Testing

@testable import DataRefresh

/// The refresh's rewrite step on real product databases (fresh copies of the Jira 8 and
/// Confluence 6 dumps with PROD's settings and integrations): sanitisation, the service account,
/// the settings plan and the PROD-reference scan, then the account proved against the simulator,
/// whose {PKCS5S2} check is its own code, not AtlassianAdmin's.
struct SanitisationRefreshTests {
    static let settings = EnvironmentSettings(
        environment: "dev", productionBaseURLs: ["https://jira.example.com", "https://confluence.example.com"],
        jira: .init(
            title: "Jira (DEV)", baseURL: "https://jira.dev.example.com",
            applicationLinks: ["confluence": "https://confluence.dev.example.com"]),
        confluence: .init(
            siteTitle: "Confluence (DEV)", baseURL: "https://confluence.dev.example.com",
            applicationLinks: ["jira": "https://jira.dev.example.com"]))

    static let account = AtlassianCredentials.basic(user: "atlas-relay", password: "refresh-service-pw")

    static func refresher(
        jira: String, confluence: String, settings: EnvironmentSettings = settings, licences: [String: String] = [:]
    ) throws -> DataRefresher {
        DataRefresher(
            settings: settings,
            targets: [
                .init(
                    name: "jira", database: try DatabaseLocation(url: jira), sharedHome: "/nonexistent/dev-jira",
                    url: "https://jira.dev.example.com", credentials: account),
                .init(
                    name: "confluence", database: try DatabaseLocation(url: confluence),
                    sharedHome: "/nonexistent/dev-confluence", url: "https://confluence.dev.example.com",
                    credentials: account),
            ],
            location: SnapshotLocation(bucket: "unused", prefix: "nightly/"), s3: S3Client(try Sandbox.s3AWSClient()),
            production: .init(databases: [], urls: ["https://jira.example.com", "https://confluence.example.com"]),
            workDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("sanitise-\(UUID())").path,
            licences: licences)
    }

    static func psql(_ url: String, _ sql: String) async throws -> String {
        try await PostgresTools.sql(try DatabaseLocation(url: url), sql)
    }

    @Test func theRewriteSanitisesSetsTheServiceAccountAndLeavesNoPRODReference() async throws {
        try await withProductDatabase(.jira, prefix: "refsan") { jira in
            try await withProductDatabase(.confluence, prefix: "refsan") { confluence in
                let refresher = try Self.refresher(
                    jira: jira, confluence: confluence, licences: ["jira": "AAAB-dev-licence"])
                try await refresher.rewriteSettings()
                #expect(try await Self.psql(jira, "SELECT license FROM productlicense") == "AAAB-dev-licence")

                #expect(try await Self.psql(jira, "SELECT count(*) FROM mailserver") == "0")
                #expect(
                    try await Self.psql(
                        jira,
                        "SELECT n.propertyvalue FROM propertyentry e JOIN propertynumber n ON n.id = e.id WHERE e.property_key = 'jira.mail.send.disabled'"
                    )
                        == "1")
                #expect(try await Self.psql(jira, "SELECT count(*) FROM clusternode") == "0")
                #expect(
                    try await Self.psql(
                        confluence,
                        "SELECT count(*) FROM bandana WHERE bandanakey = 'atlassian.confluence.smtp.mail.accounts'")
                        == "0")
                // Clean now, and the check after start finds nothing either.
                try await refresher.scanForProduction(when: "test")

                // PROD's atlas-relay row came with the restore; it now has DEV's password.
                for url in [jira, confluence] {
                    let credential = try await Self.psql(
                        url, "SELECT credential FROM cwd_user WHERE lower_user_name = 'atlas-relay'")
                    #expect(PKCS5S2.verify("refresh-service-pw", against: credential), "\(credential)")
                    #expect(!PKCS5S2.verify("prod-service-sandbox", against: credential))
                }
                // The simulator reads the restored users and checks the hash with its own PBKDF2.
                for (product, url) in [(Product.jira, jira), (.confluence, confluence)] {
                    let simulator = try await AtlassianSimulator.start(
                        .init(product: product, database: try DatabaseLocation(url: url), users: []))
                    do {
                        let base = "http://127.0.0.1:\(simulator.port)"
                        let client: any AtlassianProduct =
                            product == .jira
                            ? try JiraClient(baseURL: base, credentials: Self.account)
                            : try ConfluenceClient(baseURL: base, credentials: Self.account)
                        let links = try await client.applicationLinks()  // an administrator's request
                        #expect(links.allSatisfy { !$0.rpcUrl.contains(".example.com") || $0.rpcUrl.contains(".dev.") })
                        let bad = AtlassianCredentials.basic(user: "atlas-relay", password: "wrong")
                        let wrong: any AtlassianProduct =
                            product == .jira
                            ? try JiraClient(baseURL: base, credentials: bad)
                            : try ConfluenceClient(baseURL: base, credentials: bad)
                        let refused = try await #require(throws: AtlassianError.self) {
                            try await wrong.applicationLinks()
                        }
                        #expect(refused.status == 401)
                    } catch {
                        await simulator.stop()
                        throw error
                    }
                    await simulator.stop()
                }
            }
        }
    }

    @Test func aLinkLeftPointingAtPRODFailsTheRewriteAfterMailWasSwitchedOff() async throws {
        try await withProductDatabase(.jira, prefix: "refsan") { jira in
            try await withProductDatabase(.confluence, prefix: "refsan") { confluence in
                var settings = Self.settings
                settings.jira?.applicationLinks = nil
                let refresher = try Self.refresher(jira: jira, confluence: confluence, settings: settings)
                let failure = try await #require(throws: DataRefreshError.self) {
                    try await refresher.rewriteSettings()
                }
                #expect(failure.description.contains("applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.rpc.url"))
                #expect(failure.description.contains("confluence.example.com"))
                #expect(!failure.description.contains("bandana"))  // Confluence's link was relocated
                // Mail went off first, whatever failed after.
                #expect(try await Self.psql(jira, "SELECT count(*) FROM mailserver") == "0")
            }
        }
    }

    @Test func theDryRunListsTheSanitisationStepsOnAndOff() throws {
        var settings = Self.settings
        settings.sanitisation.off = ["confluence.webhooks.off"]
        let refresher = try Self.refresher(
            jira: "postgres://u@127.0.0.1/j", confluence: "postgres://u@127.0.0.1/c", settings: settings)
        var plan = DataRefresher.Plan(
            manifest: SnapshotManifest(
                id: "20261202T000000Z", sourceEnvironment: "prod", products: [], toolVersion: "t"),
            steps: DataRefresher.Step.allCases, alreadyDone: [])
        plan.sanitisation = refresher.sanitisationListing
        plan.productionHosts = refresher.productionHosts
        let text = plan.text
        #expect(text.contains("on  jira.mail.outgoing-off"))
        #expect(text.contains("OFF confluence.webhooks.off"))
        #expect(
            text.contains(
                "source: https://support.atlassian.com/jira/kb/remove-abandoned-or-offline-nodes-in-jira-data-center/"))
        #expect(
            text.contains(
                "PROD-reference scan after the rewrite and after start, for: jira.example.com, confluence.example.com"))
        #expect(plan.sanitisation.count == SanitisationStep.all.count)
    }
}
