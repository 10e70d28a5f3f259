import AtlasRelayTestSupport
import AtlassianSimulator
import Foundation
import Testing

@testable import AtlassianAdmin

/// The clients against the simulator over real sockets, the simulator backed by the seeded
/// "PROD" tables in a schema of its own: what REST writes lands in the database and what the
/// database holds shows through REST.
struct SimulatorTests {
    static let admin = AtlassianCredentials.token(AtlassianSimulator.User.admin.token)

    /// Starts a `product` simulator on a schema of its own loaded with the seeded tables, runs
    /// `body` with it and the schema's location, then stops it, whether `body` returned or threw.
    static func withSimulator<T>(
        _ product: Product, body: (AtlassianSimulator, DatabaseLocation) async throws -> T
    ) async throws -> T {
        let schema = try await Sandbox.makeSchema(prefix: "sim", scripts: SettingsStoreTests.scripts)
        let location = try SettingsStoreTests.location(schema)
        return try await withResource {
            try await AtlassianSimulator.start(.init(product: product, database: location))
        } cleanup: { simulator in
            await simulator.stop()
        } body: { simulator in
            try await body(simulator, location)
        }
    }

    @Test func jiraServesTheDatabaseAndWritesBackToIt() async throws {
        try await Self.withSimulator(.jira) { simulator, location in
            let jira = try JiraClient(baseURL: simulator.baseURL, credentials: Self.admin)

            let info = try await jira.serverInfo()
            #expect(
                info.baseUrl == "https://jira.example.com" && info.serverTitle == "Jira" && info.version == "10.3.4")
            #expect(try await jira.applicationProperty("jira.title")?.value == "Jira")
            #expect(try await jira.applicationProperty("jira.no.such.key") == nil)

            try await jira.setApplicationProperty("jira.title", to: "Jira (DEV)")
            try await jira.setBaseURL("https://jira.dev.example.com")
            try await withResource {
                try await JiraSettingsStore.open(location)
            } cleanup: { store in
                await store.close()
            } body: { store in
                #expect(try await store.properties()["jira.title"] == .string("Jira (DEV)"))
                #expect(try await store.properties()["jira.baseurl"] == .string("https://jira.dev.example.com"))

                // A key Jira does not let REST edit is refused with Jira's error shape, and nothing changes.
                let refused = try await #require(throws: AtlassianError.self) {
                    try await jira.setApplicationProperty("jira.mail.send.disabled", to: "true")
                }
                #expect(refused.status == 403 && refused.messages.first?.contains("cannot be edited") == true)
                #expect(try await store.properties()["jira.mail.send.disabled"] == .number(0))

                let task = try await jira.startReindex(.background)
                #expect(task.currentProgress == 0)
                #expect(try await jira.reindexProgress(taskId: try #require(task.currentTaskId)).success == true)
                #expect(try await jira.clusterNodes().map(\.state) == ["ACTIVE"])
                #expect(try await jira.licenceDetails().isUsable())
                #expect(try await jira.healthChecks().allSatisfy(\.isHealthy))
                #expect(
                    simulator.requests.contains { $0.method == "PUT" && $0.path == "/rest/api/2/settings/baseUrl" })
            }
        }
    }

    @Test func authIsCheckedWithClearMessagesAndNoSecretsInThem() async throws {
        try await Self.withSimulator(.confluence) { simulator, _ in
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
        try await Self.withSimulator(.jira) { simulator, _ in
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
        try await Self.withSimulator(.confluence) { simulator, location in
            let confluence = try ConfluenceClient(baseURL: simulator.baseURL, credentials: Self.admin)
            let links = try await confluence.applicationLinks()
            #expect(links.map(\.name) == ["Jira"] && links.first?.typeId == "jira")
            #expect(links.first?.rpcUrl == "https://jira.example.com" && links.first?.isPrimary == true)

            let status = try await confluence.applicationLinkStatus(id: links[0].id)
            #expect(!status.working && status.error?.type == "UNKNOWN_HOST")
            try await confluence.relocateApplicationLink(id: links[0].id, to: "https://jira.dev.example.com")
            try await withResource {
                try await ConfluenceSettingsStore.open(location)
            } cleanup: { store in
                await store.close()
            } body: { store in
                #expect(try await store.applicationLinks().first?.rpcUrl == "https://jira.dev.example.com")

                // The store's own relocation (the app down) shows through REST.
                try await store.saveApplicationLink(links[0].relocated(to: "https://jira.uat.example.com"))
                #expect(try await confluence.applicationLinks().first?.displayUrl == "https://jira.uat.example.com")
                try await confluence.deleteApplicationLink(id: links[0].id)
                #expect(try await confluence.applicationLinks().isEmpty)
                #expect(try await store.applicationLinks().isEmpty)
                let gone = try await #require(throws: AtlassianError.self) {
                    try await confluence.deleteApplicationLink(id: links[0].id)
                }
                #expect(gone.status == 404)
            }
        }
    }

    @Test func environmentSettingsOverRESTApplyOnceAndVerify() async throws {
        try await Self.withSimulator(.jira) { jiraSimulator, _ in
            try await Self.withSimulator(.confluence) { confluenceSimulator, _ in
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
