import AtlasRelayTestSupport
import AtlassianSimulator
import Foundation
import Testing

@testable import AtlassianAdmin

/// The clients against the simulator over real sockets, the simulator on a fresh copy of a real
/// product database (Jira 8 / Confluence 6 with PROD's settings written in): what REST writes
/// lands in the product's own tables and what the tables hold shows through REST. The tests
/// read the tables with psql, not with the simulator's code or the project's stores.
struct SimulatorTests {
    static let admin = SimulatorFixtures.admin

    @Test func jiraServesTheDatabaseAndWritesBackToIt() async throws {
        try await SimulatorFixtures.withSimulator(.jira) { simulator, url in
            let jira = try JiraClient(baseURL: simulator.baseURL, credentials: Self.admin)

            let info = try await jira.serverInfo()
            #expect(info.baseUrl == "https://jira.example.com" && info.serverTitle == "Jira")
            // The dump's own version: jira.version and jira.version.patched.
            #expect(info.version == "8.11.0" && info.buildNumber == 811_001)
            #expect(try await jira.applicationProperty("jira.title")?.value == "Jira")
            #expect(try await jira.applicationProperty("jira.no.such.key") == nil)

            try await jira.setApplicationProperty("jira.title", to: "Jira (DEV)")
            try await jira.setBaseURL("https://jira.dev.example.com")
            func property(_ key: String) async throws -> String {
                try await SimulatorFixtures.psql(
                    url,
                    """
                    SELECT s.propertyvalue FROM propertyentry e JOIN propertystring s ON s.id = e.id
                    WHERE e.entity_name = 'jira.properties' AND e.entity_id = 1 AND e.property_key = '\(key)'
                    """)
            }
            #expect(try await property("jira.title") == "Jira (DEV)")
            #expect(try await property("jira.baseurl") == "https://jira.dev.example.com")

            // A key Jira does not let REST edit is refused with Jira's error shape, and nothing changes.
            let refused = try await #require(throws: AtlassianError.self) {
                try await jira.setApplicationProperty("jira.mail.send.disabled", to: "true")
            }
            #expect(refused.status == 403 && refused.messages.first?.contains("cannot be edited") == true)
            #expect(
                try await SimulatorFixtures.psql(
                    url,
                    """
                    SELECT n.propertyvalue FROM propertyentry e JOIN propertynumber n ON n.id = e.id
                    WHERE e.entity_name = 'jira.properties' AND e.property_key = 'jira.mail.send.disabled'
                    """) == "0")
            #expect(try await jira.applicationProperty("jira.mail.send.disabled")?.value == "false")

            // The dump's registered cluster nodes (PROD's, until sanitisation removes them), then
            // the node answering alone.
            #expect(try await jira.clusterNodes().map(\.nodeId) == ["jira-node1", "jira-node2"])
            try await SimulatorFixtures.psql(url, "DELETE FROM clusternode")
            #expect(try await jira.clusterNodes().map(\.state) == ["ACTIVE"])
            #expect(try await jira.licenceDetails().isUsable())
            #expect(try await jira.healthChecks().allSatisfy(\.isHealthy))
            #expect(simulator.requests.contains { $0.method == "PUT" && $0.path == "/rest/api/2/settings/baseUrl" })
        }
    }

    @Test func authIsCheckedWithClearMessagesAndNoSecretsInThem() async throws {
        try await SimulatorFixtures.withSimulator(.confluence) { simulator, _ in
            let anonymous = try ConfluenceClient(baseURL: simulator.baseURL, credentials: nil)
            #expect(try await anonymous.serverInformation().baseUrl == "https://confluence.example.com")
            let missing = try await #require(throws: AtlassianError.self) { try await anonymous.currentUser() }
            #expect(missing.status == 401 && missing.messages.first?.contains("not authenticated") == true)

            let wrong = try ConfluenceClient(
                baseURL: simulator.baseURL, credentials: .basic(user: "admin", password: "wrong-password-123"))
            let refused = try await #require(throws: AtlassianError.self) { try await wrong.currentUser() }
            #expect(refused.status == 401 && !refused.description.contains("wrong-password-123"))

            let viewer = try ConfluenceClient(
                baseURL: simulator.baseURL, credentials: .basic(user: "viewer", password: "viewer"))
            #expect(try await viewer.currentUser().username == "viewer")
            let forbidden = try await #require(throws: AtlassianError.self) { try await viewer.colorScheme() }
            #expect(forbidden.status == 403 && forbidden.description.contains("administrator"))
            #expect(simulator.requests.filter { $0.status == 401 }.count == 2)
        }
    }

    @Test func statusModesDriveWaitUntilRunning() async throws {
        try await SimulatorFixtures.withSimulator(.jira) { simulator, _ in
            let jira = try JiraClient(baseURL: simulator.baseURL, credentials: Self.admin)
            simulator.setMode(.starting(polls: 3))
            // While starting, REST answers 503.
            #expect(try await jira.state() == .starting)
            let early = try await #require(throws: AtlassianError.self) { try await jira.myself() }
            #expect(early.status == 503)
            try await jira.waitUntilRunning(timeout: .seconds(120), interval: .milliseconds(10))
            #expect(simulator.requests.filter { $0.path == "/status" }.count == 4)
            #expect(try await jira.myself().name == "admin")

            simulator.setMode(.maintenance)
            let waiting = try await #require(throws: AtlassianError.self) {
                try await jira.waitUntilRunning(timeout: .milliseconds(100), interval: .milliseconds(20))
            }
            #expect(waiting.description.contains("last: MAINTENANCE"))
            simulator.setMode(.running)
            simulator.fail(.init(pathPrefix: "/rest/api/2/serverInfo", status: 500))
            let broken = try await #require(throws: AtlassianError.self) { try await jira.serverInfo() }
            #expect(broken.status == 500 && broken.messages.first?.contains("told to fail") == true)
        }
    }

    @Test func applicationLinksRelocateInTheDatabaseAndOverREST() async throws {
        try await SimulatorFixtures.withSimulator(.confluence) { simulator, url in
            let confluence = try ConfluenceClient(baseURL: simulator.baseURL, credentials: Self.admin)
            let links = try await confluence.applicationLinks()
            #expect(links.map(\.name) == ["Jira"] && links.first?.typeId == "jira")
            #expect(links.first?.rpcUrl == "https://jira.example.com" && links.first?.isPrimary == true)
            let id = try #require(links.first?.id)
            func stored(_ name: String) async throws -> String {
                try await SimulatorFixtures.psql(
                    url,
                    "SELECT bandanavalue FROM bandana WHERE bandanacontext = '_GLOBAL' AND bandanakey = 'applinks.admin.\(id).\(name)'"
                )
            }

            let status = try await confluence.applicationLinkStatus(id: id)
            #expect(!status.working && status.error?.type == "UNKNOWN_HOST")
            try await confluence.relocateApplicationLink(id: id, to: "https://jira.dev.example.com")
            #expect(try await stored("rpc.url") == "<string>https://jira.dev.example.com</string>")

            // A relocation written by SQL (the app down, as Atlassian's KB does it) shows through REST.
            try await SimulatorFixtures.psql(
                url,
                "UPDATE bandana SET bandanavalue = '<string>https://jira.uat.example.com</string>' WHERE bandanakey = 'applinks.admin.\(id).display.url'"
            )
            #expect(try await confluence.applicationLinks().first?.displayUrl == "https://jira.uat.example.com")
            try await confluence.deleteApplicationLink(id: id)
            #expect(try await confluence.applicationLinks().isEmpty)
            #expect(try await stored("rpc.url").isEmpty)
            #expect(
                try await SimulatorFixtures.psql(
                    url, "SELECT bandanavalue FROM bandana WHERE bandanakey = 'applinks.global.application.ids'")
                    == "<list></list>")
            let gone = try await #require(throws: AtlassianError.self) {
                try await confluence.deleteApplicationLink(id: id)
            }
            #expect(gone.status == 404)
        }
    }

    @Test func environmentSettingsOverRESTApplyOnceAndVerify() async throws {
        try await SimulatorFixtures.withSimulator(.jira) { jiraSimulator, _ in
            try await SimulatorFixtures.withSimulator(.confluence) { confluenceSimulator, _ in
                try await Self.applyEnvironmentSettingsOverREST(jiraSimulator, confluenceSimulator)
            }
        }
    }

    /// The body of ``environmentSettingsOverRESTApplyOnceAndVerify()``, against running simulators.
    static func applyEnvironmentSettingsOverREST(
        _ jiraSimulator: AtlassianSimulator, _ confluenceSimulator: AtlassianSimulator
    ) async throws {
        let jira = try JiraClient(baseURL: jiraSimulator.baseURL, credentials: Self.admin)
        let confluence = try ConfluenceClient(baseURL: confluenceSimulator.baseURL, credentials: Self.admin)
        let dev = EnvironmentSettings(
            environment: "dev", productionBaseURLs: ["https://jira.example.com", "https://confluence.example.com"],
            jira: .init(
                title: "Jira (DEV)", baseURL: "https://jira.dev.example.com", colours: ["topBar": "#0b6e4f"],
                applicationLinks: ["confluence": "https://confluence.dev.example.com"]),
            confluence: .init(
                colours: ["topBarColor": "#0b6e4f"], applicationLinks: ["Jira": "https://jira.dev.example.com"]))

        let plan = try await dev.plan(jiraAPI: jira, confluenceAPI: confluence)
        #expect(
            plan.text.contains(
                #"Jira application link Confluence: "https://confluence.example.com" → "https://confluence.dev.example.com""#
            ))
        #expect(plan.text.contains(##"Confluence colour topBarColor: (none) → "#0b6e4f""##))
        #expect(plan.changes.count == 6)
        let applied = try await dev.apply(jiraAPI: jira, confluenceAPI: confluence)
        #expect(applied == plan)
        #expect(try await dev.plan(jiraAPI: jira, confluenceAPI: confluence).changes.isEmpty)
        let writes = jiraSimulator.requests.filter { $0.method != "GET" }.count
        #expect(try await dev.apply(jiraAPI: jira, confluenceAPI: confluence).changes.isEmpty)
        #expect(jiraSimulator.requests.filter { $0.method != "GET" }.count == writes)  // a second apply writes nothing
        #expect(try await jira.serverInfo().baseUrl == "https://jira.dev.example.com")

        // A link to PROD, or to a peer that does not exist, is refused before anything is written.
        var toProd = dev
        toProd.jira?.applicationLinks = ["confluence": "https://confluence.example.com/"]
        #expect(throws: AtlassianError.self) { try toProd.validate() }
        var unknown = dev
        unknown.confluence?.applicationLinks = ["Bamboo": "https://bamboo.dev.example.com"]
        let error = try await #require(throws: AtlassianError.self) {
            try await unknown.apply(jiraAPI: jira, confluenceAPI: confluence)
        }
        #expect(error.kind == .invalidInput)
    }
}
