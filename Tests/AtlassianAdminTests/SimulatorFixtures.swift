import AtlasRelayTestSupport
import AtlassianSimulator
import Foundation
import RelayFoundation
import Testing

@testable import AtlassianAdmin

/// What the simulator tests share: a simulator on a fresh copy of a real product database, and
/// psql on that database (the test's own view of the tables, not the simulator's code).
enum SimulatorFixtures {
    static let admin = AtlassianCredentials.token(AtlassianSimulator.User.admin.token)

    /// Starts a `product` simulator on a fresh copy of the real product database (with a shared
    /// home of its own for Confluence), runs `body`, then stops it and drops the database.
    static func withSimulator<T>(
        _ product: Product, users: [AtlassianSimulator.User] = [.admin, .viewer], reindexPolls: Int = 3,
        body: (AtlassianSimulator, _ url: String) async throws -> T
    ) async throws -> T {
        try await withProductDatabase(product == .jira ? .jira : .confluence, prefix: "sim") { url in
            try await withTemporaryDirectory { home in
                try await withResource {
                    try await AtlassianSimulator.start(
                        .init(
                            product: product, database: try DatabaseLocation(url: url), users: users,
                            sharedHome: home, reindexPolls: reindexPolls))
                } cleanup: { simulator in
                    await simulator.stop()
                } body: { simulator in
                    try await body(simulator, url)
                }
            }
        }
    }

    static func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "simulator-home-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try await withCleanup {
            try await body(directory)
        } cleanup: {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Runs `sql` with psql on the database of `url` (credentials in the environment, not the
    /// arguments) and returns its unaligned output, rows by line, columns split by `|`.
    @discardableResult
    static func psql(_ url: String, _ sql: String) async throws -> String {
        let location = try DatabaseLocation(url: url)
        var environment = location.libpqEnvironment
        for name in ["PGSSLMODE", "PGSSLROOTCERT"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment[name] = value }
        }
        if environment["PGSSLMODE"] == nil { environment["PGSSLMODE"] = "require" }
        let output = try await ProcessRunner.run(
            "/usr/bin/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql], environment: environment,
            timeout: .seconds(60))
        guard output.status == 0 else { throw TestSupportError("psql failed: \(output.errorText)") }
        return String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// An Atlassian `{PKCS5S2}` credential for `password`, computed by Python's hashlib (not by
    /// any code of the project).
    static func pkcs5s2(_ password: String) async throws -> String {
        let output = try await ProcessRunner.run(
            "/usr/bin/python3",
            [
                "-c",
                "import base64,hashlib,os; p=os.environ['SIMULATOR_PASSWORD'].encode(); s=os.urandom(16); "
                    + "print('{PKCS5S2}'+base64.b64encode(s+hashlib.pbkdf2_hmac('sha1',p,s,10000,32)).decode())",
            ], environment: ["SIMULATOR_PASSWORD": password], timeout: .seconds(30))
        guard output.status == 0 else { throw TestSupportError("python3 failed: \(output.errorText)") }
        return String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
