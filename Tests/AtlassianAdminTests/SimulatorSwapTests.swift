import AtlasRelayTestSupport
import AtlassianSimulator
import Foundation
import RelayFoundation
import Testing

@testable import AtlassianAdmin

/// A refresh swaps the database under a running simulator, as Data-Refresher's restore does:
/// `pg_terminate_backend` on its connections, the old database renamed away and the restored one
/// renamed into its place. The simulator must then serve the new database (or fail at once),
/// never hang, and a stop (SIGTERM for the executable) must end it.
struct SimulatorSwapTests {
    static func psql(_ statements: String...) async throws {
        for statement in statements {
            try await SimulatorFixtures.psql(try Sandbox.postgresURL(), statement)
        }
    }

    /// Runs `body` with a real Jira database (its location, name and URL) and a second copy,
    /// `fresh`, whose title says so (for `swap` to rename into place); both are dropped
    /// afterwards, with the `_previous` copy the swap leaves.
    static func withDatabases<T>(
        _ body: (_ location: DatabaseLocation, _ name: String, _ fresh: String, _ url: String) async throws -> T
    ) async throws -> T {
        try await withProductDatabase(.jira, prefix: "swap") { url in
            try await withProductDatabase(.jira, prefix: "swapnew") { freshURL in
                let location = try DatabaseLocation(url: url)
                let fresh = try DatabaseLocation(url: freshURL).database
                try await SimulatorFixtures.psql(
                    freshURL,
                    """
                    UPDATE propertystring SET propertyvalue = 'Jira (restored)' WHERE id =
                      (SELECT id FROM propertyentry WHERE entity_name = 'jira.properties' AND property_key = 'jira.title')
                    """)
                return try await body(location, location.database, fresh, url)
            }
        }
    }

    /// What PostgresTools.restore does once the fresh database is loaded.
    static func swap(_ name: String, with fresh: String) async throws {
        try await psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()",
            "ALTER DATABASE \(name) RENAME TO \(name)_previous",
            "ALTER DATABASE \(fresh) RENAME TO \(name)")
    }

    @Test func afterASwapTheSimulatorServesTheNewDatabase() async throws {
        try await Self.withDatabases { location, name, fresh, _ in
            // The test stops the simulator itself (in bounded time); the cleanup's stop then does nothing.
            try await withResource {
                try await AtlassianSimulator.start(.init(product: .jira, database: location))
            } cleanup: { simulator in
                await simulator.stop()
            } body: { simulator in
                let jira = JiraClient(
                    connection: try AtlassianConnection(
                        baseURL: simulator.baseURL, credentials: .token(AtlassianSimulator.User.admin.token),
                        timeout: .seconds(20)))
                #expect(try await jira.applicationProperty("jira.title")?.value == "Jira")

                try await Self.swap(name, with: fresh)
                let started = ContinuousClock.now
                let title = try await withTimeLimit(.seconds(30)) {
                    try await jira.applicationProperty("jira.title")?.value
                }
                #expect(title == "Jira (restored)")
                #expect(ContinuousClock.now - started < .seconds(10))
                #expect(try await jira.state() == .running)
                try await withTimeLimit(.seconds(30)) { await simulator.stop() }
            }
        }
    }
}

extension SimulatorSwapTests {
    static func withoutPassword(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.password = nil
        return components.string ?? url
    }

    static var simulatorBinary: String {
        AtlassianAdminToolTests.binary.replacingOccurrences(of: "atlassian-admin", with: "atlassian-simulator")
    }

    @Test func theExecutableStopsOnSIGTERMAfterASwap() async throws {
        try await Self.withDatabases { _, name, fresh, url in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.simulatorBinary)
            // The password through PGPASSWORD, not the process list.
            process.arguments = ["--product", "jira", "--db", Self.withoutPassword(url)]
            process.environment = ProcessInfo.processInfo.environment.merging(
                ["PGPASSWORD": try DatabaseLocation(url: url).libpqEnvironment["PGPASSWORD"] ?? ""]) { $1 }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            let pid = process.processIdentifier
            defer { if StopScriptTests.isAlive(pid) { kill(pid, SIGKILL) } }
            // "listening on http://127.0.0.1:PORT"
            // Read off the cooperative pool: a blocking read there stalls every other test's tasks.
            let reader = output.fileHandleForReading
            let line = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    var line = Data()
                    while !line.contains(UInt8(ascii: "\n")) {
                        let chunk = reader.availableData
                        guard !chunk.isEmpty else { break }
                        line += chunk
                    }
                    continuation.resume(returning: line)
                }
            }
            let text = String(decoding: line, as: UTF8.self)
            let baseURL = try #require(
                text.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
            let jira = JiraClient(
                connection: try AtlassianConnection(
                    baseURL: baseURL, credentials: .token(AtlassianSimulator.User.admin.token), timeout: .seconds(60)))
            #expect(try await jira.applicationProperty("jira.title")?.value == "Jira")

            try await Self.swap(name, with: fresh)
            let inFlight = Task { try? await jira.applicationProperty("jira.title") }
            try await Task.sleep(for: .milliseconds(500))
            let stopped = ContinuousClock.now
            kill(pid, SIGTERM)
            #expect(await StopScriptTests.waitForExit(pid, within: .seconds(30)), "SIGTERM ends the simulator")
            #expect(ContinuousClock.now - stopped < .seconds(15))
            inFlight.cancel()
        }
    }
}
