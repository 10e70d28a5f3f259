import ArgumentParser
import AtlassianAdmin
import DataRefresh
import Foundation
import Logging
import S3Sync
import Yams

/// `data-refresh provide|refresh|list`: PROD data into DEV and UAT, from a CodeBuild step or a laptop.
@main
struct DataRefreshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data-refresh",
        abstract: "Snapshot PROD's Jira/Confluence data to S3, and restore a snapshot into DEV or UAT.",
        discussion: """
            Exit codes: 0 done, 1 failed (re-run to resume), 2 bad input or refused (PROD as a target).
            REST credentials: ATLASSIAN_TOKEN (Bearer), or ATLASSIAN_USER with ATLASSIAN_PASSWORD.
            """,
        subcommands: [Provide.self, Refresh.self, List.self])
}

/// Where snapshots are, and how to reach S3.
struct Bucket: ParsableArguments {
    @Option(help: "The snapshot bucket.") var bucket: String
    @Option(help: "The key prefix of the snapshots.") var prefix = "snapshots/"
    @Option(help: "Endpoint URL for S3 (overrides AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL).") var endpointURL: String?
    @Option(help: "Region (default: AWS_REGION, the profile's region, us-east-1).") var region: String?
    @Option(help: "Profile from the shared AWS config files.") var profile: String?

    var location: SnapshotLocation { SnapshotLocation(bucket: bucket, prefix: prefix) }

    func client() -> S3Client {
        var logger = Logger(label: "data-refresh.s3")
        logger.logLevel = .warning
        return S3Client.configured(region: region, profile: profile, endpoint: endpointURL, logger: logger)
    }
}

/// The products' databases and shared homes on one side.
struct Products: ParsableArguments {
    @Option(help: "Jira's database, postgres://user:password@host:port/db.") var jiraDb: String?
    @Option(help: "Jira's shared home.") var jiraHome: String?
    @Option(help: "Confluence's database.") var confluenceDb: String?
    @Option(help: "Confluence's shared home.") var confluenceHome: String?

    /// (name, database, shared home) for each product given; both or neither of a pair.
    func pairs() throws -> [(name: String, database: DatabaseLocation, home: String)] {
        var result: [(String, DatabaseLocation, String)] = []
        for (name, db, home) in [("jira", jiraDb, jiraHome), ("confluence", confluenceDb, confluenceHome)] {
            switch (db, home) {
            case (nil, nil): continue
            case (let db?, let home?):
                do { result.append((name, try DatabaseLocation(url: db), home)) } catch {
                    throw ValidationError("--\(name)-db: \(error)")
                }
            default: throw ValidationError("give both --\(name)-db and --\(name)-home, or neither")
            }
        }
        guard !result.isEmpty else { throw ValidationError("give at least one product (--jira-db/--jira-home …)") }
        return result
    }
}

func logger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
    return logger
}

/// Runs `body`, turning failures into a message and an exit code.
func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        FileHandle.standardError.write(Data("data-refresh: \(error.message)\n".utf8))
        throw ExitCode(2)
    } catch let error as DataRefreshError where error.description.contains("PROD") {
        FileHandle.standardError.write(Data("data-refresh: \(error)\n".utf8))
        throw ExitCode(2)
    } catch {
        FileHandle.standardError.write(Data("data-refresh: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

struct Provide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dump the databases and sync the shared homes to a new snapshot (reads PROD only).")
    @OptionGroup var bucket: Bucket
    @OptionGroup var products: Products
    @Option(help: "The source environment's name.") var environment = "prod"
    @Option(help: "Complete snapshots to keep.") var keep = 3
    @Option(
        help: "More shared-home paths to leave out (aws-cli --exclude patterns), besides caches, temp, export and logs."
    )
    var exclude: [String] = []
    @Option(help: "Canned ACL, for example bucket-owner-full-control for another account's bucket.") var acl: String?

    func run() async throws {
        try await guarded {
            let sources = try products.pairs().map {
                DataProvider.Source(
                    name: $0.name, database: $0.database, sharedHome: $0.home,
                    excludes: DataProvider.Source.defaultExcludes + exclude)
            }
            let provider = DataProvider(
                environment: environment, sources: sources, location: bucket.location, s3: bucket.client(), keep: keep,
                writeOptions: .init(acl: acl), logger: logger("data-provider"))
            let manifest = try await provider.provide()
            print("snapshot \(manifest.id) complete")
        }
    }
}

struct Refresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a snapshot into the target environment and make it that environment again.")
    @OptionGroup var bucket: Bucket
    @OptionGroup var products: Products
    @Option(help: "The target environment's settings (YAML or JSON); required.") var settings: String
    @Option(help: "Jira's base URL in the target.") var jiraUrl: String?
    @Option(help: "Confluence's base URL in the target.") var confluenceUrl: String?
    @Option(help: "A PROD database (repeat for each; at least one); refused as a target.") var prodDb: [String] = []
    @Option(help: "A PROD database host (repeat for each): no database on it is ever a target.") var prodDbHost:
        [String] = []
    @Option(help: "Shell command that stops a product ({product} is replaced).") var stopCommand: String?
    @Option(help: "Shell command that starts a product.") var startCommand: String?
    @Option(help: "Restore this snapshot id (default: resume, else the newest complete one).") var snapshot: String?
    @Option(
        help: "Re-run from this step: \(DataRefresher.Step.allCases.map(\.rawValue).joined(separator: ", ")).")
    var from: String?
    @Option(help: "Where downloads and the run state go.") var work = ".data-refresh"
    @Option(help: "Seconds an application may take to reach RUNNING.") var startTimeout = 1800
    @Flag(help: "Print the plan and change nothing.") var dryRun = false

    func run() async throws {
        try await guarded {
            guard let data = FileManager.default.contents(atPath: settings) else {
                throw ValidationError("cannot read the settings file \(settings)")
            }
            let wanted: EnvironmentSettings
            do { wanted = try YAMLDecoder().decode(EnvironmentSettings.self, from: data) } catch {
                throw ValidationError("\(settings) is not a valid settings file: \(error)")
            }
            let step = try from.map {
                guard let step = DataRefresher.Step(rawValue: $0) else {
                    throw ValidationError("unknown step '\($0)'")
                }
                return step
            }
            let environment = ProcessInfo.processInfo.environment
            let credentials: AtlassianCredentials? =
                if let user = environment["ATLASSIAN_USER"], let password = environment["ATLASSIAN_PASSWORD"] {
                    .basic(user: user, password: password)
                } else {
                    environment["ATLASSIAN_TOKEN"].map { .token($0) }
                }
            let targets = try products.pairs().map { pair in
                guard let url = pair.name == "jira" ? jiraUrl : confluenceUrl else {
                    throw ValidationError("give --\(pair.name)-url")
                }
                return DataRefresher.Target(
                    name: pair.name, database: pair.database, sharedHome: pair.home, url: url, credentials: credentials)
            }
            guard !prodDb.isEmpty || !prodDbHost.isEmpty else {
                throw ValidationError(
                    "name PROD's databases with --prod-db or --prod-db-host, so they are never a target")
            }
            let production = try DataRefresher.ProductionGuard(
                databases: prodDb.map { try DatabaseLocation(url: $0) }, hosts: prodDbHost,
                urls: wanted.productionBaseURLs)
            let control: DataRefresher.ApplicationControl
            switch (stopCommand, startCommand) {
            case (nil, nil): control = .none
            case (let stop?, let start?): control = .commands(stop: stop, start: start)
            default: throw ValidationError("give both --stop-command and --start-command, or neither")
            }
            let refresher = DataRefresher(
                settings: wanted, targets: targets, location: bucket.location, s3: bucket.client(),
                production: production, control: control, workDirectory: work,
                startTimeout: .seconds(startTimeout), logger: logger("data-refresher"))
            if dryRun {
                print(try await refresher.plan(snapshot: snapshot, from: step).text)
                return
            }
            let manifest = try await refresher.refresh(snapshot: snapshot, from: step)
            print("snapshot \(manifest.id) restored into \(wanted.environment)")
        }
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the snapshots, oldest first.")
    @OptionGroup var bucket: Bucket

    func run() async throws {
        try await guarded {
            let s3 = bucket.client()
            let (complete, incomplete) = try await bucket.location.snapshots(s3)
            for id in complete { print("\(id)  complete") }
            for id in incomplete { print("\(id)  incomplete (never restored)") }
        }
    }
}
