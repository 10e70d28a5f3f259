import ArgumentParser
import AtlassianAdmin
import Foundation
import RelayFoundation
import ToolSupport
import Yams

/// `atlassian-admin`: status, server info, application links and environment settings of a Jira
/// or Confluence Data Center, for people and for CodeBuild steps.
@main
struct AtlassianAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "atlassian-admin",
        abstract: "Administer Jira and Confluence Data Center: status, server info, app links, environment settings.",
        discussion: """
            Credentials come from the environment or a file, never the command line (other users can read it in \
            /proc): \(AtlassianCredentials.environmentHelp); --token-file and --password-file name the files too. \
            --token and --password still work but show the secret to everyone on the machine. The URL comes from \
            --url or ATLASSIAN_URL (a user:password in it signs in and is never shown), the database from --db or \
            ATLASSIAN_DB (leave the password out of it and set PGPASSWORD).

            Exit status: 0 done; 1 failed (a request or the database failed: a retry may help); 2 bad input or \
            refused (fix the flags, URL or file; flags the parser rejects too). Two commands answer with more: \
            status exits 3 when the node is not RUNNING, and settings plan exits 4 when it found changes to make.
            """,
        subcommands: [Status.self, ServerInfo.self, Applinks.self, Settings.self])

    /// Parses, runs, and exits 0 done, 1 failed, 2 bad input or refused (a PROD write not allowed).
    static func main() async {
        await runAsTool("atlassian-admin") { error in
            guard let kind = (error as? AtlassianError)?.kind else { return false }
            // Bad input a retry cannot fix: the TLS settings or the server's certificate are wrong.
            return [.invalidInput, .refused, .tlsRequired, .tlsUnavailable, .untrustedCertificate, .hostnameMismatch]
                .contains(kind)
        }
    }

    /// Exit codes a CodeBuild step can gate on.
    enum Exit {
        static let failed = ToolExit.failed
        static let badInput = ToolExit.refused
        static let notRunning: Int32 = 3
        static let changesPending: Int32 = 4
    }
}

/// The options every command shares.
struct Connection: ParsableArguments {
    @Option(help: "jira or confluence.", transform: Product.init(argument:)) var product: Product
    @Option(help: "The application's base URL (or ATLASSIAN_URL).") var url: String?
    @Option(help: "A file holding a personal access token, or with --user a password or API token.")
    var tokenFile: String?
    @Option(help: "A file holding the password for Basic auth.") var passwordFile: String?
    @Option(help: "A user name for Basic auth (or ATLASSIAN_USER).") var user: String?
    @Option(help: "Discouraged (visible in the process list): use ATLASSIAN_TOKEN or --token-file.") var token: String?
    @Option(help: "Discouraged (visible in the process list): use ATLASSIAN_PASSWORD or --password-file.")
    var password: String?
    @Option(help: "Seconds one request may take, the whole answer included.") var timeout = 30
    @Flag(help: "Print one JSON object instead of text.") var json = false

    static let environment = ProcessInfo.processInfo.environment

    func client() throws -> any AtlassianProduct {
        guard let url = url ?? Self.environment["ATLASSIAN_URL"] else {
            throw ValidationError("give the application's URL with --url or ATLASSIAN_URL")
        }
        for (flag, value) in [("--token", token), ("--password", password)] where value != nil {
            FileHandle.standardError.write(
                Data(
                    "atlassian-admin: warning: \(flag) shows the secret in the process list; use the environment or a file\n"
                        .utf8))
        }
        let credentials = try AtlassianCredentials.resolve(
            user: user, token: token, password: password, tokenFile: tokenFile, passwordFile: passwordFile,
            environment: Self.environment)
        guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
        let connection = try AtlassianConnection(baseURL: url, credentials: credentials, timeout: .seconds(timeout))
        return switch product {
        case .jira: JiraClient(connection: connection)
        case .confluence: ConfluenceClient(connection: connection)
        }
    }

    func emit(_ object: [String: Any], text: String) {
        if json, let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(text)
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The node's state; exit 0 only when RUNNING.")
    @OptionGroup var connection: Connection
    @Option(help: "Wait up to this many seconds for RUNNING (then one last request of at most --timeout).")
    var wait: Int = 0

    func run() async throws {
        let client = try connection.client()
        if wait > 0 { try? await client.waitUntilRunning(timeout: .seconds(wait), interval: .seconds(2)) }
        let state = try await client.state()
        connection.emit(["state": state.rawValue], text: state.rawValue)
        if state != .running { throw ExitCode(AtlassianAdminCommand.Exit.notRunning) }
    }
}

struct ServerInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server-info",
        abstract: "Title, version, build and base URL.",
        discussion: """
            Jira's serverInfo gives the site title (serverTitle, the jira.title property); Confluence's \
            server-information has no title (its site title lives only in the database's settings), so none is shown.
            """)
    @OptionGroup var connection: Connection

    func run() async throws {
        let client = try connection.client()
        if let jira = client as? JiraClient {
            let info = try await jira.serverInfo()
            var object: [String: Any] = [
                "baseUrl": info.baseUrl, "version": info.version, "buildNumber": info.buildNumber,
            ]
            if let title = info.serverTitle { object["serverTitle"] = title }
            connection.emit(
                object,
                text: "\(info.serverTitle.map { "\"\($0)\"" } ?? "Jira (no title)"): Jira \(info.version) "
                    + "(build \(info.buildNumber)) at \(info.baseUrl)")
        } else if let confluence = client as? ConfluenceClient {
            let info = try await confluence.serverInformation()
            connection.emit(
                ["baseUrl": info.baseUrl, "version": info.version, "buildNumber": info.buildNumber],
                text: "Confluence \(info.version) (build \(info.buildNumber)) at \(info.baseUrl)")
        }
    }
}

struct Applinks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Application links.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the application links.")
        @OptionGroup var connection: Connection

        func run() async throws {
            let client = try connection.client()
            let links = try await client.applicationLinks()
            connection.emit(
                [
                    "links": links.map {
                        [
                            "id": $0.id, "name": $0.name, "type": $0.typeId, "rpcUrl": $0.rpcUrl,
                            "primary": $0.isPrimary,
                        ]
                    }
                ],
                text: links.isEmpty
                    ? "no application links"
                    : links.map { "\($0.id)  \($0.typeId)  \($0.name)  \($0.rpcUrl)" }.joined(separator: "\n"))
        }
    }
}

struct Settings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An environment's settings: in the product database with --db (the application stopped), "
            + "or over REST with --url (running).",
        subcommands: [Plan.self, Apply.self])

    struct Options: ParsableArguments {
        @OptionGroup var connection: Connection
        @Option(help: "The product database, postgres://user@host:port/db with PGPASSWORD set (or ATLASSIAN_DB).")
        var db: String?
        @Option(help: "The environment's settings, YAML or JSON.") var settings: String

        var product: Product { connection.product }
        var json: Bool { connection.json }

        /// Plans (or applies) in the database when one is given, else over REST.
        func run(_ wanted: EnvironmentSettings, apply: Bool, allowProduction: Bool = false) async throws
            -> EnvironmentSettings.Plan
        {
            if db != nil || Connection.environment["ATLASSIAN_DB"] != nil {
                return try await withStores { jira, confluence in
                    apply
                        ? try await wanted.apply(jira: jira, confluence: confluence, allowProduction: allowProduction)
                        : try await wanted.plan(jira: jira, confluence: confluence)
                }
            }
            guard connection.url != nil || Connection.environment["ATLASSIAN_URL"] != nil else {
                throw ValidationError(
                    "give the product database with --db (application stopped) or its URL with --url (running)")
            }
            let client = try connection.client()
            let jira = client as? JiraClient
            let confluence = client as? ConfluenceClient
            return apply
                ? try await wanted.apply(jiraAPI: jira, confluenceAPI: confluence, allowProduction: allowProduction)
                : try await wanted.plan(jiraAPI: jira, confluenceAPI: confluence)
        }

        /// Reads and checks the settings file: bad input exits 2 before any database is opened.
        func load() throws -> EnvironmentSettings {
            guard let data = FileManager.default.contents(atPath: settings) else {
                throw ValidationError("cannot read the settings file \(settings)")
            }
            let wanted: EnvironmentSettings
            do {
                wanted = try YAMLDecoder().decode(EnvironmentSettings.self, from: data)  // YAML includes JSON
            } catch {
                throw ValidationError("\(settings) is not a valid settings file: \(error)")
            }
            do { try wanted.validate() } catch { throw ValidationError("\(error)") }
            return wanted
        }

        func withStores<T>(
            _ body: (JiraSettingsStore?, ConfluenceSettingsStore?) async throws -> T
        ) async throws -> T {
            guard let url = db ?? Connection.environment["ATLASSIAN_DB"] else {
                throw ValidationError("give the product database with --db or ATLASSIAN_DB")
            }
            let location: DatabaseLocation
            do {
                location = try DatabaseLocation(url: url).withPassword(from: Connection.environment)
            } catch { throw ValidationError(URLRedaction.redact("\(error)")) }
            var jira: JiraSettingsStore?
            var confluence: ConfluenceSettingsStore?
            switch product {
            case .jira: jira = try await JiraSettingsStore.open(location)
            case .confluence: confluence = try await ConfluenceSettingsStore.open(location)
            }
            do {
                let result = try await body(jira, confluence)
                await jira?.close()
                await confluence?.close()
                return result
            } catch {
                await jira?.close()
                await confluence?.close()
                throw error
            }
        }

        func emit(_ plan: EnvironmentSettings.Plan, applied: Bool) {
            if json {
                let changes = plan.changes.map {
                    [
                        "product": $0.product.displayName, "setting": $0.setting, "from": $0.from ?? NSNull(),
                        "to": $0.to,
                    ]
                        as [String: Any]
                }
                let object: [String: Any] = ["applied": applied, "changes": changes]
                if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                    print(String(decoding: data, as: UTF8.self))
                }
            } else {
                print(plan.text)
            }
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what apply would change; exit 4 when something would.")
        @OptionGroup var options: Options

        func run() async throws {
            let wanted = try options.load()
            let plan = try await options.run(wanted, apply: false)
            options.emit(plan, applied: false)
            if !plan.changes.isEmpty { throw ExitCode(AtlassianAdminCommand.Exit.changesPending) }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change what differs, then verify.")
        @OptionGroup var options: Options
        @Flag(help: "Allow writing when the settings say the environment is PROD.") var allowProduction = false

        func run() async throws {
            let wanted = try options.load()
            let plan = try await options.run(wanted, apply: true, allowProduction: allowProduction)
            options.emit(plan, applied: true)
        }
    }
}

extension Product {
    /// Parses `--product` (any case); anything else is bad input that says what to give.
    init(argument: String) throws {
        guard let product = Product(rawValue: argument.lowercased()) else {
            throw ValidationError("unknown product '\(argument)'; use jira or confluence")
        }
        self = product
    }
}
