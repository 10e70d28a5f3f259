import ArgumentParser
import AtlassianAdmin
import DataRefresh
import Foundation
import Logging
import S3Sync
import ToolSupport
import Yams

/// `data-refresh provide|refresh|list`: PROD data into DEV and UAT, from a CodeBuild step or a laptop.
@main
struct DataRefreshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data-refresh",
        abstract: "Snapshot PROD's Jira/Confluence data to S3, and restore a snapshot into DEV or UAT.",
        discussion: """
            Exit codes: 0 done, 1 failed (re-run to resume), 2 bad input or refused before anything was changed
            (PROD as a target, a missing or empty shared home, a snapshot that differs from its manifest).
            REST credentials: ATLASSIAN_TOKEN (Bearer), or ATLASSIAN_USER with ATLASSIAN_PASSWORD.
            Database URLs with a password never go on the command line, where every user of the machine can
            read them: write env:NAME to read the URL from the environment variable NAME, or file:PATH to read
            it from a file; a URL given inline must hold no password (libpq's PGPASSWORD then applies).
            """,
        subcommands: [Provide.self, Refresh.self, List.self])

    /// Parses, runs, and exits 0 done, 1 failed, 2 bad input or refused.
    static func main() async {
        await runAsTool("data-refresh") {
            ($0 as? DataRefreshError)?.isRefusal == true || ($0 as? SyncError)?.isRefusal == true
        }
    }
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
    @Option(help: "Jira's database: env:NAME or file:PATH holding postgres://user:password@host:port/db.")
    var jiraDb: String?
    @Option(help: "Jira's shared home.") var jiraHome: String?
    @Option(help: "Confluence's database: env:NAME or file:PATH, as --jira-db.") var confluenceDb: String?
    @Option(help: "Confluence's shared home.") var confluenceHome: String?

    /// (product, database, shared home) for each product given; both or neither of a pair.
    func pairs() throws -> [(product: Product, database: DatabaseLocation, home: String)] {
        var result: [(Product, DatabaseLocation, String)] = []
        for (product, db, home) in [(Product.jira, jiraDb, jiraHome), (.confluence, confluenceDb, confluenceHome)] {
            switch (db, home) {
            case (nil, nil): continue
            case (let db?, let home?):
                result.append((product, try databaseLocation(db, option: "--\(product)-db"), home))
            default: throw ValidationError("give both --\(product)-db and --\(product)-home, or neither")
            }
        }
        guard !result.isEmpty else { throw ValidationError("give at least one product (--jira-db/--jira-home …)") }
        return result
    }
}

/// A database from an option's value: `env:NAME` (the URL in that environment variable),
/// `file:PATH` (the URL in that file), or an inline URL without a password (which would be
/// readable by every user in the process list); a missing password comes from `PGPASSWORD`.
func databaseLocation(_ value: String, option: String) throws -> DatabaseLocation {
    let environment = ProcessInfo.processInfo.environment
    let url: String
    if value.hasPrefix("env:") {
        let name = String(value.dropFirst(4))
        guard let text = environment[name], !text.isEmpty else {
            throw ValidationError("\(option) env:\(name): the environment variable \(name) is not set")
        }
        url = text
    } else if value.hasPrefix("file:") {
        let path = String(value.dropFirst(5))
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(option) file:\(path): cannot read that file")
        }
        url = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    } else {
        if URLComponents(string: value)?.password != nil {
            throw ValidationError(
                "\(option) holds a password, which every user of this machine can read in the process list; put the URL in an environment variable and write \(option) env:NAME (or file:PATH)"
            )
        }
        url = value
    }
    do {
        let location = try DatabaseLocation(url: url)
        if location.libpqEnvironment["PGPASSWORD"] == nil, let password = environment["PGPASSWORD"] {
            return location.with(password: password)
        }
        return location
    } catch {
        throw ValidationError("\(option): \(error)")
    }
}

func logger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
    return logger
}

struct Provide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dump the databases and record the shared homes in a new snapshot (reads PROD only).",
        discussion: """
            A shared home is recorded as a manifest over a content store shared by all snapshots: only files whose
            size or time changed since the last snapshot are read, and only contents the store lacks are uploaded.
            To split the home work over machines (a CodeBuild batch): run `provide --snapshot-id ID --home-shard i/n`
            on n workers, then `provide --snapshot-id ID --merge-home-shards n` once: it dumps the databases, checks
            that every file was handled by exactly one worker, and writes the manifest last.
            """)
    @OptionGroup var bucket: Bucket
    @OptionGroup var products: Products
    @Option(help: "The source environment's name.") var environment = "prod"
    @Option(help: "Complete snapshots to keep.") var keep = 3
    @Option(
        help: "More shared-home paths to leave out (aws-cli --exclude patterns), besides caches, temp, export and logs."
    )
    var exclude: [String] = []
    @Option(help: "Canned ACL, for example bucket-owner-full-control for another account's bucket.") var acl: String?
    @Option(help: "The snapshot's id (default: now, as yyyyMMdd'T'HHmmss'Z'); the workers and the merge share one.")
    var snapshotId: String?
    @Option(help: "Only this worker's share of the shared homes, i/n (needs --snapshot-id); no database, no manifest.")
    var homeShard: String?
    @Option(help: "Merge the part manifests of this many --home-shard workers, dump the databases, complete the snapshot.")
    var mergeHomeShards: Int?
    @Option(
        help:
            "How the databases are dumped: custom (one pg_dump -Fc stream, no local disk) or directory (pg_dump -Fd by --dump-jobs jobs, each table uploaded as it is written)."
    )
    var dumpFormat = "custom"
    @Option(help: "pg_dump --jobs for --dump-format directory: connections to the source database at a time.")
    var dumpJobs = 4
    @Option(help: "Where a directory dump is written while it uploads (it holds only the tables being dumped).")
    var work = ".data-provider"

    func validate() throws {
        if homeShard != nil && mergeHomeShards != nil {
            throw ValidationError("--home-shard and --merge-home-shards are different steps; give one")
        }
        if (homeShard != nil || mergeHomeShards != nil) && snapshotId == nil {
            throw ValidationError("a sharded snapshot needs --snapshot-id, the same for every worker and the merge")
        }
        if let count = mergeHomeShards, count < 1 { throw ValidationError("--merge-home-shards is at least 1") }
        if DumpFormat(rawValue: dumpFormat) == nil {
            throw ValidationError("--dump-format is custom or directory, not '\(dumpFormat)'")
        }
        if dumpJobs < 1 { throw ValidationError("--dump-jobs is at least 1") }
    }

    func run() async throws {
        let sources = try products.pairs().map {
            DataProvider.Source(
                name: $0.product.rawValue, database: $0.database, sharedHome: $0.home,
                excludes: DataProvider.Source.defaultExcludes + exclude)
        }
        let provider = DataProvider(
            environment: environment, sources: sources, location: bucket.location, s3: bucket.client(), keep: keep,
            writeOptions: .init(acl: acl),
            dump: .init(format: DumpFormat(rawValue: dumpFormat) ?? .custom, jobs: dumpJobs, workDirectory: work),
            logger: logger("data-provider"))
        if let homeShard, let id = snapshotId {
            let shard = try Shard(parsing: homeShard)
            let homes = try await provider.snapshotHomeShard(shard, snapshot: id)
            print("snapshot \(id): shard \(shard) recorded \(homes.reduce(0) { $0 + $1.files }) files, uploaded \(homes.reduce(0) { $0 + $1.uploaded })")
            return
        }
        let manifest = try await provider.provide(id: snapshotId, homeShards: mergeHomeShards)
        print("snapshot \(manifest.id) complete")
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
    @Option(help: "A PROD shared home (repeat for each): no target home may be it, inside it, or hold it.")
    var prodHome: [String] = []
    @Option(help: "Shell command that stops a product ({product} is replaced).") var stopCommand: String?
    @Option(help: "Shell command that starts a product.") var startCommand: String?
    @Option(help: "Restore this snapshot id (default: resume, else the newest complete one).") var snapshot: String?
    @Option(
        help: "Re-run from this step: \(DataRefresher.Step.allCases.map(\.rawValue).joined(separator: ", ")).")
    var from: String?
    @Option(help: "Where downloads and the run state go.") var work = ".data-refresh"
    @Option(help: "Seconds an application may take to reach RUNNING.") var startTimeout = 1800
    @Option(help: "Jira's database role, which owns the restored database (default: the --jira-db user).")
    var jiraOwner: String?
    @Option(help: "Confluence's database role, which owns the restored database (default: the --confluence-db user).")
    var confluenceOwner: String?
    @Option(help: "Jira's build number in the target (default: what its current database says).") var jiraBuild: Int?
    @Option(help: "Confluence's build number in the target (default: what its current database says).")
    var confluenceBuild: Int?
    @Option(help: "pg_restore --jobs (default: this machine's cores).") var jobs = ProcessInfo.processInfo
        .activeProcessorCount
    @Option(
        help:
            "How the dump reaches pg_restore: automatic (download when --jobs > 1, else stream), download (free space checked first) or stream (no local copy, one job)."
    )
    var transfer = "automatic"
    @Option(help: "Rebuild Jira's index after start: background, foreground or none.") var reindex = "background"
    @Option(
        help:
            "The most the shared-home restore may delete from a target home: N files, P%, 'P% or N', or none for no limit."
    )
    var maxDelete = DataRefresher.RestoreOptions.defaultMaxDelete.description
    @Option(help: "Seconds the Jira reindex may take.") var reindexTimeout = 4 * 3600
    @Flag(help: "Print the plan and change nothing.") var dryRun = false

    func run() async throws {
        guard jobs >= 1 else { throw ValidationError("--jobs is at least 1") }
        guard let transferMode = DataRefresher.DumpTransfer(rawValue: transfer) else {
            throw ValidationError("--transfer is automatic, download or stream, not '\(transfer)'")
        }
        guard let reindexMode = DataRefresher.ReindexMode(rawValue: reindex) else {
            throw ValidationError("--reindex is background, foreground or none, not '\(reindex)'")
        }
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
            guard let url = pair.product == .jira ? jiraUrl : confluenceUrl else {
                throw ValidationError("give --\(pair.product)-url")
            }
            return DataRefresher.Target(
                name: pair.product.rawValue, database: pair.database, sharedHome: pair.home, url: url,
                credentials: credentials, owner: pair.product == .jira ? jiraOwner : confluenceOwner,
                expectedBuild: pair.product == .jira ? jiraBuild : confluenceBuild)
        }
        guard !prodDb.isEmpty || !prodDbHost.isEmpty else {
            throw ValidationError(
                "name PROD's databases with --prod-db or --prod-db-host, so they are never a target")
        }
        let production = try DataRefresher.ProductionGuard(
            databases: prodDb.map { try databaseLocation($0, option: "--prod-db") }, hosts: prodDbHost,
            urls: wanted.productionBaseURLs, sharedHomes: prodHome)
        let control: DataRefresher.ApplicationControl
        switch (stopCommand, startCommand) {
        case (nil, nil): control = .none
        case (let stop?, let start?): control = .commands(stop: stop, start: start)
        default: throw ValidationError("give both --stop-command and --start-command, or neither")
        }
        let refresher = DataRefresher(
            settings: wanted, targets: targets, location: bucket.location, s3: bucket.client(),
            production: production, control: control, workDirectory: work,
            startTimeout: .seconds(startTimeout),
            restore: .init(
                jobs: jobs, transfer: transferMode, reindex: reindexMode, reindexTimeout: .seconds(reindexTimeout),
                maxDelete: maxDelete == "none" ? nil : try DeleteLimit(parsing: maxDelete)),
            logger: logger("data-refresher"))
        if dryRun {
            print(try await refresher.plan(snapshot: snapshot, from: step).text)
            return
        }
        let manifest = try await refresher.refresh(snapshot: snapshot, from: step)
        print("snapshot \(manifest.id) restored into \(wanted.environment)")
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the snapshots, oldest first.")
    @OptionGroup var bucket: Bucket

    func run() async throws {
        let s3 = bucket.client()
        let (complete, incomplete) = try await bucket.location.snapshots(s3)
        for id in complete { print("\(id)  complete") }
        for id in incomplete { print("\(id)  incomplete (never restored)") }
    }
}
