import ArgumentParser
import AtlassianAdmin
import AtlassianSimulator
import Foundation
import Logging
import ToolSupport

/// Runs a Jira or Confluence simulator on a database until it is stopped (SIGTERM or SIGINT).
@main
struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atlassian-simulator",
        abstract: "Serve the Jira or Confluence REST subset from a real Jira 8 / Confluence 6 database.",
        discussion: """
            Everything it serves is read from and written to the product's own tables (propertyentry, jiraissue, \
            jiraaction, …; bandana, content, bodycontent, …) and, for Confluence attachments, the shared home.
            Users: the database's cwd_user accounts (Basic auth against their {PKCS5S2} credentials), and unless \
            --database-users-only the sandbox's admin/admin (token simulator-admin-token) and viewer/viewer \
            (simulator-viewer-token).
            Prints "listening on http://HOST:PORT" once it serves, and serves until SIGTERM or SIGINT.

            Exit status: 0 done (stopped by a signal); 1 failed (the database cannot be opened or the port bound: a \
            retry may help); 2 bad input or refused (fix the flags or URL; flags the parser rejects too).
            """)

    /// Parses, runs, and exits 0 done, 1 failed, 2 bad input.
    static func main() async {
        await runAsTool("atlassian-simulator") { _ in false }
    }

    @Option(help: "jira or confluence.") var product: String
    @Option(
        help:
            "postgres://user@host:port/database?schema=name; the password from PGPASSWORD (not the URL, which the process list shows)."
    )
    var db: String
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port).") var port = 0
    @Option(help: "Answer /status STARTING this many times first.") var startingPolls = 0
    @Option(help: "Confluence's shared home (attachments under attachments/ver003/).") var sharedHome: String?
    @Flag(help: "Accept only the database's users (no sandbox accounts, no tokens).") var databaseUsersOnly = false

    func run() async throws {
        guard let product = Product(rawValue: product) else {
            throw ValidationError("--product must be jira or confluence, not '\(product)'")
        }
        let location: DatabaseLocation
        do {
            location = try DatabaseLocation(url: db).withPassword(from: ProcessInfo.processInfo.environment)
        } catch { throw ValidationError("\(error)") }
        let simulator = try await AtlassianSimulator.start(
            .init(
                product: product, database: location, users: databaseUsersOnly ? [] : [.admin, .viewer],
                sharedHome: sharedHome.map { URL(fileURLWithPath: $0, isDirectory: true) }),
            host: host, port: port)
        if startingPolls > 0 { simulator.setMode(.starting(polls: startingPolls)) }
        FileHandle.standardOutput.write(Data("listening on \(simulator.baseURL)\n".utf8))
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for signal in [SIGTERM, SIGINT] {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal)
            source.setEventHandler { continuation.yield(signal) }
            source.resume()
            sources.append(source)
        }
        for await _ in signals { break }
        // A stop that cannot finish (a request stuck on a database) must not outlive the signal.
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(15)) {
            FileHandle.standardError.write(Data("atlassian-simulator: did not stop within 15 s; exiting\n".utf8))
            Foundation.exit(ToolExit.failed)
        }
        sources.forEach { $0.cancel() }
        await simulator.stop()
    }
}
