import AWSCore
import AtlasRelayTestSupport
import AtlassianAdmin
import AtlassianSimulator
import Foundation
import S3Sync
import Synchronization
import Testing

@testable import DataRefresh

/// A provide → refresh cycle against the sandbox: copies of the real Jira 8 and Confluence 6
/// databases (with PROD's own settings) as PROD and DEV, over TLS, SeaweedFS for the snapshot
/// bucket, and the simulators, reading DEV's restored tables, as DEV's running apps.
struct DataRefreshTests {
    /// PROD and DEV for both products, shared homes, a bucket, and simulators that the
    /// refresher's control stops and starts on fixed ports.
    final class World: Sendable {
        let prod: [String: DatabaseLocation]
        let dev: [String: DatabaseLocation]
        let prodHome: [String: String]
        let devHome: [String: String]
        let s3: S3Client
        let location: SnapshotLocation
        let ports: [String: Int]
        let running = Mutex<[String: AtlassianSimulator]>([:])
        let stops = Mutex(0)
        let failStarts = Mutex(0)
        let root: String

        init() async throws {
            var prod: [String: DatabaseLocation] = [:]
            var dev: [String: DatabaseLocation] = [:]
            var prodHome: [String: String] = [:]
            var devHome: [String: String] = [:]
            var ports: [String: Int] = [:]
            root = FileManager.default.temporaryDirectory.appendingPathComponent("refresh-\(UUID().uuidString)").path
            for product in ["jira", "confluence"] {
                let dump: Sandbox.ProductDump = product == "jira" ? .jira : .confluence
                prod[product] = try DatabaseLocation(url: try await Sandbox.makeProductDatabase(dump, prefix: "prod"))
                dev[product] = try DatabaseLocation(url: try await Sandbox.makeProductDatabase(dump, prefix: "dev"))
                // DEV has a stale table and a stale file that the refresh must replace.
                try await PostgresTools.sql(
                    dev[product]!,
                    "CREATE TABLE relay_marker (note text); INSERT INTO relay_marker VALUES ('stale DEV item')")
                prodHome[product] = "\(root)/prod-\(product)"
                devHome[product] = "\(root)/dev-\(product)"
                for (path, text) in [
                    ("data/attachments/PROJ/10000/10001", "attachment \(product)"), ("data/avatars/1.png", "avatar"),
                    ("caches/indexes/segment", "cache: must not travel"), ("log/atlassian.log", "log: must not travel"),
                ] {
                    let file = "\(prodHome[product]!)/\(path)"
                    try FileManager.default.createDirectory(
                        atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
                }
                try FileManager.default.createDirectory(
                    atPath: "\(devHome[product]!)/data", withIntermediateDirectories: true)
                try Data("stale".utf8).write(to: URL(fileURLWithPath: "\(devHome[product]!)/data/stale.txt"))
                let probe = try await AtlassianSimulator.start(
                    .init(product: .init(rawValue: product)!, database: dev[product]!))
                ports[product] = probe.port
                await probe.stop()
            }
            let aws = try Sandbox.s3AWSClient()
            s3 = S3Client(aws)
            location = SnapshotLocation(
                bucket: try await Sandbox.makeBucket(aws, prefix: "snapshots"), prefix: "nightly/")
            (self.prod, self.dev, self.prodHome, self.devHome, self.ports) = (prod, dev, prodHome, devHome, ports)
        }

        func url(_ product: String) -> String { "http://127.0.0.1:\(ports[product]!)" }

        var control: DataRefresher.ApplicationControl {
            .init(
                stop: { name in
                    self.stops.withLock { $0 += 1 }
                    if let simulator = self.running.withLock({ $0.removeValue(forKey: name) }) {
                        await simulator.stop()
                    }
                },
                start: { name in
                    if self.failStarts.withLock({ value in
                        defer { value = max(0, value - 1) }
                        return value > 0
                    }) {
                        throw DataRefreshError("the \(name) service did not start (injected)")
                    }
                    let simulator = try await AtlassianSimulator.start(
                        .init(product: .init(rawValue: name)!, database: self.dev[name]!), port: self.ports[name]!)
                    simulator.setMode(.starting(polls: 2))
                    self.running.withLock { $0[name] = simulator }
                })
        }

        var provider: DataProvider { provider() }

        func provider(dump: DataProvider.DumpOptions = .init()) -> DataProvider {
            DataProvider(
                environment: "prod",
                sources: ["jira", "confluence"].map {
                    .init(
                        name: $0, database: prod[$0]!, sharedHome: prodHome[$0]!,
                        version: $0 == "jira" ? "10.3.4" : "10.0.3")
                }, location: location, s3: s3, keep: 2, dump: dump)
        }

        var settings: EnvironmentSettings {
            EnvironmentSettings(
                environment: "dev", productionBaseURLs: ["https://jira.example.com", "https://confluence.example.com"],
                jira: .init(
                    title: "Jira (DEV)", baseURL: "https://jira.dev.example.com", colours: ["topBar": "#0b6e4f"],
                    banner: "DEV copy of PROD", mailDisabled: true,
                    applicationLinks: ["confluence": "https://confluence.dev.example.com"]),
                confluence: .init(
                    siteTitle: "Confluence (DEV)", baseURL: "https://confluence.dev.example.com",
                    bannerHTML: "<div>DEV</div>", colours: ["topBarColor": "#0b6e4f"],
                    applicationLinks: ["jira": "https://jira.dev.example.com"]))
        }

        func refresher(
            settings: EnvironmentSettings? = nil, targetDatabase: DatabaseLocation? = nil,
            restore: DataRefresher.RestoreOptions = .init(jobs: 2, reindexPollInterval: .milliseconds(200))
        ) -> DataRefresher {
            DataRefresher(
                settings: settings ?? self.settings,
                targets: ["jira", "confluence"].map {
                    .init(
                        name: $0, database: $0 == "jira" ? (targetDatabase ?? dev[$0]!) : dev[$0]!,
                        sharedHome: devHome[$0]!,
                        url: url($0), credentials: .token(AtlassianSimulator.User.admin.token), owner: $0)
                }, location: location, s3: s3,
                production: .init(
                    databases: Array(prod.values), urls: ["https://jira.example.com", "https://confluence.example.com"]),
                control: control, workDirectory: "\(root)/work", startTimeout: .seconds(120),
                restore: restore)
        }

        func close() async {
            for simulator in running.withLock({ Array($0.values) }) { await simulator.stop() }
            for database in Array(prod.values) + Array(dev.values) { await Sandbox.dropDatabase(database.database) }
            try? await Sandbox.deleteBucket(s3.aws, location.bucket)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    /// Builds a ``World``, runs `body` with it, then closes it (simulators stopped, databases
    /// dropped, folders removed) whether `body` returned or threw.
    static func withWorld<T>(_ body: (World) async throws -> T) async throws -> T {
        try await withResource(World.init, cleanup: { await $0.close() }, body: body)
    }

    @Test func aFailedStartResumesThereAndDEVEndsWithPRODDataButDEVSettings() async throws {
        try await Self.withWorld { world in
            let manifest = try await world.provider.provide()
            #expect(manifest.products.map(\.name) == ["jira", "confluence"])
            #expect(
                manifest.products.allSatisfy {
                    $0.sharedHomeObjects == 2 && $0.dumpBytes > 0 && $0.dumpSHA256.count == 64
                })

            world.failStarts.withLock { $0 = 1 }
            let refresher = world.refresher()
            let failure = try await #require(throws: DataRefreshError.self) { try await refresher.refresh() }
            #expect(failure.description.contains("did not start"))
            #expect(
                try refresher.unfinished()?.done == [
                    .check, .stop, .restoreDatabases, .syncSharedHomes, .rewriteSettings,
                ])

            let resumed = try await refresher.refresh()
            #expect(resumed.id == manifest.id)
            #expect(world.stops.withLock { $0 } == 2)  // one stop per product, in the first run only
            #expect(try refresher.unfinished() == nil)

            for product in ["jira", "confluence"] {
                let database = try #require(world.dev[product])
                #expect(try await PostgresTools.sql(database, "SELECT to_regclass('relay_marker') IS NULL") == "t")
                #expect(
                    try await PostgresTools.sql(
                        database,
                        "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'")
                        == product)
                #expect(
                    try await PostgresTools.sql(
                        database,
                        product == "jira"
                            ? "SELECT count(*) FROM jiraissue" : "SELECT title FROM content WHERE contentid = 360467")
                        == (product == "jira" ? "25" : "Test 123"))
                let home = try #require(world.devHome[product])
                #expect(FileManager.default.fileExists(atPath: "\(home)/data/attachments/PROJ/10000/10001"))
                #expect(!FileManager.default.fileExists(atPath: "\(home)/data/stale.txt"))
                #expect(!FileManager.default.fileExists(atPath: "\(home)/caches/indexes/segment"))
                #expect(!FileManager.default.fileExists(atPath: "\(home)/log/atlassian.log"))
            }
            let jira = try JiraClient(
                baseURL: world.url("jira"), credentials: .token(AtlassianSimulator.User.admin.token))
            let info = try await jira.serverInfo()
            #expect(info.serverTitle == "Jira (DEV)" && info.baseUrl == "https://jira.dev.example.com")
            #expect(try await jira.applicationLinks().first?.rpcUrl == "https://confluence.dev.example.com")
            let devJira = try #require(world.dev["jira"])
            try await withResource {
                try await JiraSettingsStore.open(devJira)
            } cleanup: { store in
                await store.close()
            } body: { store async throws in
                #expect(try await store.properties()["jira.mail.send.disabled"] == .number(1))
            }
            let confluence = try ConfluenceClient(
                baseURL: world.url("confluence"), credentials: .token(AtlassianSimulator.User.admin.token))
            #expect(try await confluence.colorScheme().colorSchemeModelLight?["topBarColor"] == "#0b6e4f")
            #expect(try await confluence.serverInformation().baseUrl == "https://confluence.dev.example.com")
            // PROD was only read.
            let prodJira = try #require(world.prod["jira"])
            #expect(
                try await PostgresTools.sql(
                    prodJira,
                    "SELECT ps.propertyvalue FROM propertyentry pe JOIN propertystring ps ON ps.id = pe.id WHERE pe.property_key = 'jira.title'"
                ) == "Jira")
        }
    }

    /// One byte changed in the dump (for a directory dump, in its largest table's file).
    @Test(arguments: DumpFormat.allCases)
    func aCorruptedDumpIsDetectedAndTheOldDatabaseStays(format: DumpFormat) async throws {
        try await Self.withWorld { world in
            let manifest = try await world.provider(
                dump: .init(format: format, jobs: 2, workDirectory: world.root + "/dump-work")
            ).provide()
            let jira = try #require(manifest.products.first { $0.name == "jira" })
            let largest = jira.dumpFiles?.filter { PostgresTools.isTableData($0.name) }.max { $0.bytes < $1.bytes }
            #expect((largest != nil) == (format == .directory))
            let key = world.location.prefix(of: manifest.id) + jira.dumpKey + (largest?.name ?? "")
            var bytes = try #require(try await world.s3.getObjectData(bucket: world.location.bucket, key: key))
            bytes[bytes.count / 2] ^= 0xFF
            _ = try await world.s3.putObject(bucket: world.location.bucket, key: key, data: .init(bytes: bytes))

            let refresher = world.refresher()
            let error = try await #require(throws: DataRefreshError.self) { try await refresher.refresh() }
            #expect(error.kind == .mismatch)
            #expect(error.description.contains("is corrupt") && error.description.contains("nothing was restored"))
            let devJira = try #require(world.dev["jira"])
            #expect(try await PostgresTools.sql(devJira, "SELECT note FROM relay_marker") == "stale DEV item")
            #expect(try refresher.unfinished()?.done == [.check, .stop])
        }
    }

    @Test func prodIsRefusedAsATargetBeforeAnythingRuns() async throws {
        try await Self.withWorld { world in
            let prodJira = try #require(world.prod["jira"])
            let intoProd = world.refresher(targetDatabase: prodJira)
            let error = try await #require(throws: DataRefreshError.self) { try await intoProd.refresh() }
            #expect(error.kind == .refused)
            var prodSettings = world.settings
            prodSettings.isProduction = true
            let marked = try await #require(throws: DataRefreshError.self) {
                try await world.refresher(settings: prodSettings).refresh()
            }
            #expect(marked.kind == .refused)
            var onProdHost = world.refresher()
            onProdHost.production.hosts = [prodJira.host]
            let host = try await #require(throws: DataRefreshError.self) { try await onProdHost.refresh() }
            #expect(host.kind == .refused)
            #expect(host.description.contains("is a PROD host"))  // says it is the host, not the database
            #expect(world.stops.withLock { $0 } == 0)
            let noSnapshot = try await #require(throws: DataRefreshError.self) {
                try await world.refresher().refresh()
            }
            #expect(noSnapshot.description.contains("no complete snapshot"))
        }
    }

    @Test func aStartCommandThatLeavesAServerRunningReturns() async throws {
        // As an operator's start command does: launch the server in the background and return.
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(UUID()).pid").path
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let control = DataRefresher.ApplicationControl.commands(
            stop: "kill $(cat \(pidFile))", start: "sleep 900 >/dev/null 2>&1 & echo $! > \(pidFile)",
            timeout: .seconds(600))
        let clock = ContinuousClock()
        let started = clock.now
        try await control.start("jira")
        // Far below the timeout, so a loaded machine cannot fail it; a command that waited for its
        // background child would return only at the timeout (600 s).
        #expect(clock.now - started < .seconds(300), "the start command returned only at its timeout")
        let pid = try #require(
            Int32(
                String(decoding: try Data(contentsOf: URL(fileURLWithPath: pidFile)), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0, "the server should still run")
        try await control.stop("jira")
        let failing = DataRefresher.ApplicationControl.commands(stop: "exit 3", start: "true")
        let error = try await #require(throws: DataRefreshError.self) { try await failing.stop("jira") }
        #expect(error.description.contains("exit 3"))
    }

    @Test func anAutoScalingGroupIsScaledToZeroAndBackInMoto() async throws {
        struct Empty: Decodable {}
        let aws = try Sandbox.motoAWSClient()
        let tag = UUID().uuidString.lowercased().prefix(8)
        let group = "relay-\(tag)-jira-nodes"
        var launch = QueryParameters()
        launch.set("LaunchConfigurationName", "relay-\(tag)")
        launch.set("ImageId", "ami-12c6146b")
        launch.set("InstanceType", "t3.micro")
        _ = try await aws.query(.autoScaling, action: "CreateLaunchConfiguration", parameters: launch)
        var create = QueryParameters()
        create.set("AutoScalingGroupName", group)
        create.set("LaunchConfigurationName", "relay-\(tag)")
        create.set("MinSize", 2)
        create.set("MaxSize", 2)
        create.set("DesiredCapacity", 2)
        create.setList("AvailabilityZones", ["us-east-1a"])
        _ = try await aws.query(.autoScaling, action: "CreateAutoScalingGroup", parameters: create)
        let client = AutoScalingClient(aws)
        #expect(try await client.group(group)?.inService == 2)

        let control = DataRefresher.ApplicationControl.autoScaling(
            client, group: "relay-\(tag)-{product}-nodes", capacity: 3, pollInterval: .milliseconds(100),
            timeout: .seconds(60))
        try await control.stop("jira")
        let stopped = try #require(try await client.group(group))
        #expect(stopped.instances.isEmpty && stopped.desiredCapacity == 0 && stopped.minSize == 0)
        try await control.start("jira")
        let started = try #require(try await client.group(group))
        #expect(started.inService == 3 && started.maxSize == 3)

        let missing = try await #require(throws: DataRefreshError.self) { try await control.stop("confluence") }
        #expect(missing.description.contains("relay-\(tag)-confluence-nodes does not exist"))
    }
}
