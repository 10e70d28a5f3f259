import AtlasRelayTestSupport
import AtlassianAdmin
import AtlassianSimulator
import Foundation
import RelayFoundation
import Synchronization
import Testing

/// The `atlassian-admin` executable, run as a CodeBuild step would run it.
struct AtlassianAdminToolTests {
    static var binary: String { BuiltProducts.path("atlassian-admin") }

    static func run(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try await ProcessRunner.run(binary, arguments, timeout: .seconds(60))
        return (
            output.status, String(decoding: output.stdout, as: UTF8.self),
            String(decoding: output.stderr, as: UTF8.self)
        )
    }

    @Test func statusGatesOnRunningAndServerInfoPrintsJSON() async throws {
        let starting = Mutex(true)
        try await withTestServer { request in
            switch request.path {
            case "/status":
                return .json(["state": starting.withLock { $0 } ? "STARTING" : "RUNNING"])
            case "/rest/api/2/serverInfo":
                guard request.header("Authorization") == "Bearer pat-1234" else {
                    return .json(["errorMessages": ["You are not authenticated"], "errors": [:]], status: 401)
                }
                return .json([
                    "baseUrl": "https://jira.dev.example.com", "version": "10.3.4", "buildNumber": 10_030_004,
                    "serverTitle": "Jira (DEV)",
                ])
            default: return .text("", status: 404)
            }
        } body: { server in
            let common = ["--product", "jira", "--url", server.baseURL]

            let notYet = try await Self.run(["status"] + common)
            #expect(notYet.status == 3 && notYet.stdout == "STARTING\n")
            starting.withLock { $0 = false }
            let running = try await Self.run(["status", "--json"] + common)
            #expect(running.status == 0 && running.stdout == "{\"state\":\"RUNNING\"}\n")

            let info = try await Self.run(["server-info", "--json", "--token", "pat-1234"] + common)
            #expect(info.status == 0)
            let decoded = try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any]
            #expect(decoded?["version"] as? String == "10.3.4")
            #expect(decoded?["serverTitle"] as? String == "Jira (DEV)")
            let text = try await Self.run(["server-info", "--token", "pat-1234"] + common)
            #expect(text.status == 0 && text.stdout.contains("\"Jira (DEV)\"") && text.stdout.contains("10.3.4"))

            let refused = try await Self.run(["server-info", "--token", "wrong-secret"] + common)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("You are not authenticated"))
            #expect(refused.stderr.contains("the credentials were refused"))
            #expect(!refused.stderr.contains("wrong-secret") && !refused.stdout.contains("wrong-secret"))
        }
    }

    @Test func badInputExitsTwoWithWhatToFix() async throws {
        let unknown = try await Self.run(["status", "--product", "bamboo", "--url", "http://127.0.0.1:9"])
        #expect(unknown.status == 2, "\(unknown)")
        #expect(unknown.stderr.contains("unknown product 'bamboo'"))
        let unreachable = try await Self.run(["server-info", "--product", "jira", "--url", "http://127.0.0.1:9"])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("check the URL"))
    }

    @Test func settingsPlanThenApplyOnTheDatabase() async throws {
        try await withProductDatabase(.jira, prefix: "tool") { db in try await Self.settingsPlanThenApply(db) }
    }

    /// The settings commands on the real Jira database at `db`.
    static func settingsPlanThenApply(_ db: String) async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID().uuidString).yml")
        try Data(
            """
            environment: dev
            isProduction: false
            productionBaseURLs: [https://jira.example.com]
            jira:
              title: Jira (DEV)
              baseURL: https://jira.dev.example.com
              colours: {topBar: "#0B6E4F"}
              mailDisabled: true
            """.utf8
        ).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let common = ["--product", "jira", "--db", db, "--settings", file.path]

        let plan = try await Self.run(["settings", "plan"] + common)
        #expect(plan.status == 4, "\(plan)")
        #expect(plan.stdout.contains(#"Jira jira.title: "Jira" → "Jira (DEV)""#))
        let apply = try await Self.run(["settings", "apply", "--json"] + common)
        #expect(apply.status == 0, "\(apply)")
        #expect(apply.stdout.contains("\"applied\":true"))
        let again = try await Self.run(["settings", "plan"] + common)
        #expect(again.status == 0 && again.stdout == "no changes\n")

        try Data("environment: dev\njira:\n  colours: {topBar: green}\n".utf8).write(to: file)
        let invalid = try await Self.run(["settings", "apply"] + common)
        #expect(invalid.status == 2, "\(invalid)")
        #expect(invalid.stderr.contains("not #rrggbb"))
        #expect(!invalid.stderr.contains(try Sandbox.value("PGPASSWORD")))

        // PROD without --allow-production is refused (exit 2), and nothing is written.
        try Data("environment: prod\nisProduction: true\njira:\n  title: Jira (PROD)\n".utf8).write(to: file)
        let refused = try await Self.run(["settings", "apply"] + common)
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("prod is PROD"))
        #expect(try await Self.run(["settings", "plan"] + common).stdout.contains(#""Jira (DEV)" → "Jira (PROD)""#))
    }

    @Test func settingsOverRESTAgainstTheSimulatorWithAToken() async throws {
        try await withProductDatabase(.confluence, prefix: "toolrest") { db in try await Self.settingsOverREST(db) }
    }

    /// The settings commands over REST against a simulator on the real Confluence database at `db`.
    static func settingsOverREST(_ db: String) async throws {
        try await withResource {
            try await AtlassianSimulator.start(.init(product: .confluence, database: try DatabaseLocation(url: db)))
        } cleanup: { simulator in
            await simulator.stop()
        } body: { simulator in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("uat-\(UUID().uuidString).yml")
            try Data(
                """
                environment: uat
                productionBaseURLs: [https://jira.example.com]
                confluence:
                  colours: {topBarColor: "#8B0000"}
                  applicationLinks: {jira: https://jira.uat.example.com}
                """.utf8
            ).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let token = AtlassianSimulator.User.admin.token
            let common = [
                "--product", "confluence", "--url", simulator.baseURL, "--token", token, "--settings", file.path,
            ]
            let plan = try await Self.run(["settings", "plan"] + common)
            #expect(plan.status == 4, "\(plan)")
            #expect(
                plan.stdout.contains(
                    #"Confluence application link Jira: "https://jira.example.com" → "https://jira.uat.example.com""#))
            let apply = try await Self.run(["settings", "apply"] + common)
            #expect(apply.status == 0, "\(apply)")
            #expect(try await Self.run(["settings", "plan"] + common).status == 0)
            #expect(!(plan.stdout + plan.stderr + apply.stdout + apply.stderr).contains(token))
            let relocations = simulator.requests.filter {
                $0.path.hasPrefix("/rest/applinks/1.0/relocateApplicationlink/")
            }
            #expect(relocations.count == 1 && relocations.first?.authorization == "Bearer \(token)")

            let viewer = try await Self.run(
                [
                    "settings", "apply", "--product", "confluence", "--url", simulator.baseURL, "--user", "viewer",
                    "--password", "viewer", "--settings", file.path,
                ])
            #expect(viewer.status == 1 && viewer.stderr.contains("403"), "\(viewer)")
        }
    }
}
