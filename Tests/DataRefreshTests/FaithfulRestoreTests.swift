import AWSCore
import AtlasRelayTestSupport
import AtlassianAdmin
import Foundation
import Logging
import S3Sync
import Synchronization
import Testing

@testable import DataRefresh

/// Restores of the real Jira 8 and Confluence 6 databases (copies made by `withProductDatabase`),
/// over TLS, from snapshots in SeaweedFS: how the database is created and owned, the jobs, the
/// stream, and every bad input the first step must refuse before anything is stopped.
struct FaithfulRestoreTests {
    /// A PROD and a DEV copy of one product's real database, a snapshot of PROD in a bucket of
    /// its own, and a refresher of DEV whose control counts stops.
    struct World: Sendable {
        let product: Product
        let prod: DatabaseLocation
        let dev: DatabaseLocation
        let s3: S3Client
        let location: SnapshotLocation
        let root: String
        let stops = Counter()

        final class Counter: Sendable {
            let value = Mutex(0)
            func add() { value.withLock { $0 += 1 } }
            var count: Int { value.withLock { $0 } }
        }

        var owner: String { product.rawValue }

        func refresher(
            database: DatabaseLocation? = nil, owner: String?? = nil, expectedBuild: Int? = nil,
            restore: DataRefresher.RestoreOptions = .init(jobs: 2), logger: Logger? = nil
        ) -> DataRefresher {
            let stops = self.stops
            return DataRefresher(
                settings: EnvironmentSettings(
                    environment: "dev", productionBaseURLs: ["https://\(product.rawValue).example.com"]),
                targets: [
                    .init(
                        name: product.rawValue, database: database ?? dev, sharedHome: "\(root)/dev-home",
                        url: "http://127.0.0.1:9", credentials: nil, owner: owner ?? self.owner,
                        expectedBuild: expectedBuild)
                ],
                location: location, s3: s3, production: .init(databases: [prod], urls: []),
                control: .init(stop: { _ in stops.add() }, start: { _ in }), workDirectory: "\(root)/work",
                restore: restore, logger: logger ?? Logger(label: "test"))
        }

        var provider: DataProvider {
            DataProvider(
                environment: "prod",
                sources: [.init(name: product.rawValue, database: prod, sharedHome: "\(root)/prod-home")],
                location: location, s3: s3)
        }

        /// DEV's marker: a row that a restore would replace.
        func marker() async throws -> String {
            try await PostgresTools.sql(dev, "SELECT note FROM relay_marker")
        }

        func databases() async throws -> [String] {
            try await PostgresTools.sql(
                dev.database("postgres"),
                "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE '\(dev.database)%'"
            ).split(separator: ",").map(String.init)
        }
    }

    /// Builds a world for `product`, runs `body`, and removes everything afterwards.
    static func withWorld<T>(_ product: Product, _ body: (World) async throws -> T) async throws -> T {
        let dump: Sandbox.ProductDump = product == .jira ? .jira : .confluence
        return try await withProductDatabase(dump, prefix: "rprod") { prodURL in
            try await withProductDatabase(dump, prefix: "rdev") { devURL in
                let s3 = S3Client(try Sandbox.s3AWSClient())
                return try await withSandboxBucket(s3.aws, prefix: "restore") { bucket in
                    let root = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID())").path
                    return try await withCleanup {
                        for home in ["prod-home/data", "dev-home", "work"] {
                            try FileManager.default.createDirectory(
                                atPath: "\(root)/\(home)", withIntermediateDirectories: true)
                        }
                        try Data("attachment".utf8).write(to: URL(fileURLWithPath: "\(root)/prod-home/data/1"))
                        let world = World(
                            product: product, prod: try DatabaseLocation(url: prodURL),
                            dev: try DatabaseLocation(url: devURL), s3: s3,
                            location: SnapshotLocation(bucket: bucket, prefix: "nightly/"), root: root)
                        try await PostgresTools.sql(
                            world.dev,
                            "CREATE TABLE relay_marker (note text); INSERT INTO relay_marker VALUES ('DEV before')")
                        return try await body(world)
                    } cleanup: {
                        try? FileManager.default.removeItem(atPath: root)
                    }
                }
            }
        }
    }

    /// The database's encoding, collation, ctype and owner.
    static func creation(of database: DatabaseLocation) async throws -> String {
        try await PostgresTools.sql(
            database.database("postgres"),
            "SELECT pg_encoding_to_char(encoding) || ' ' || datcollate || ' ' || datctype || ' ' || pg_get_userbyid(datdba) "
                + "FROM pg_database WHERE datname = '\(database.database)'")
    }

    /// The distinct owners of the public schema's tables, sequences and views.
    static func owners(in database: DatabaseLocation) async throws -> [String] {
        try await PostgresTools.sql(
            database,
            "SELECT string_agg(DISTINCT pg_get_userbyid(c.relowner), ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v', 'm', 'i')"
        ).split(separator: ",").map(String.init)
    }

    @Test func jiraIsRestoredAsItsDocsAskOwnedByItsRoleWithTheJobsGiven() async throws {
        try await Self.withWorld(.jira) { world in
            let manifest = try await world.provider.provide()
            let data = try #require(manifest.products.first)
            #expect(data.buildNumber == 811001 && data.version == "8.11.0")  // jira.version.patched, jira.version
            // What PROD's database calls itself joins the hosts the PROD-reference scan looks for,
            // whatever name the config reaches PROD by.
            #expect(data.baseURL == "https://jira.example.com")
            #expect(world.refresher().productionHosts(of: manifest).contains("jira.example.com"))

            let log = LogRecorder()
            let refresher = world.refresher(restore: .init(jobs: 3), logger: log.logger())
            try await refresher.run(.check, manifest)
            try await refresher.run(.restoreDatabases, manifest)

            #expect(try await Self.creation(of: world.dev) == "UTF8 C C jira")
            #expect(try await Self.owners(in: world.dev) == ["jira"])
            #expect(
                try await PostgresTools.sql(
                    world.dev, "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'")
                    == "jira")
            #expect(try await PostgresTools.sql(world.dev, "SELECT count(*) FROM jiraissue") == "25")
            #expect(try await PostgresTools.sql(world.dev, "SELECT to_regclass('relay_marker') IS NULL") == "t")
            // The application's role can work on what it owns, as the application does.
            #expect(
                try await PostgresTools.sql(
                    world.dev,
                    "SET ROLE jira; UPDATE jiraissue SET summary = summary WHERE id = (SELECT min(id) FROM jiraissue); SELECT current_user"
                )
                    == "jira")
            // The old database is kept beside it; the check's probe database is gone.
            #expect(try await world.databases() == [world.dev.database, world.dev.database + "_previous"])
            #expect(log.all.contains { $0.contains("restoring database") && $0.contains("jobs=3") }, "\(log.text)")
            #expect(
                log.all.contains {
                    $0.contains("database restored") && $0.contains("--jobs=3") && $0.contains("--role=jira")
                        && $0.contains("--no-owner")
                }, "\(log.text)")
        }
    }

    @Test func confluenceGetsAUTF8CollationAndItsOwnRoleAndStreamsFromS3() async throws {
        try await Self.withWorld(.confluence) { world in
            let manifest = try await world.provider.provide()
            #expect(manifest.products.first?.buildNumber == 7109)  // confversion.buildnumber
            #expect(manifest.products.first?.baseURL == "https://confluence.example.com")  // <baseUrl>
            // Nothing may be downloaded: a free-space check that says "none" must not matter.
            let refresher = world.refresher(restore: .init(jobs: 4, transfer: .stream, freeSpace: { _ in 0 }))
            try await refresher.run(.check, manifest)
            try await refresher.run(.restoreDatabases, manifest)

            let creation = try await Self.creation(of: world.dev)
            #expect(["UTF8 en_US.UTF-8 en_US.UTF-8 confluence", "UTF8 C.UTF-8 C.UTF-8 confluence"].contains(creation))
            #expect(try await Self.owners(in: world.dev) == ["confluence"])
            #expect(
                try await PostgresTools.sql(world.dev, "SELECT title FROM content WHERE contentid = 360467")
                    == "Test 123")
            let left = try FileManager.default.contentsOfDirectory(atPath: "\(world.root)/work")
            #expect(left.isEmpty, "a stream leaves no dump or pipe behind: \(left)")
        }
    }

    @Test func aStreamedDumpThatIsNotTheManifestsIsNotSwappedIn() async throws {
        try await Self.withWorld(.jira) { world in
            let manifest = try await world.provider.provide()
            let refresher = world.refresher(restore: .init(jobs: 1))  // one job: streamed
            // A dump pg_restore reads to the end, but not the one the manifest describes: only the
            // SHA-256 at the end of the stream can tell, and the restored copy is thrown away.
            var other = manifest
            other.products[0].dumpSHA256 = String(repeating: "0", count: 64)
            let mismatch = try await #require(throws: DataRefreshError.self) {
                try await refresher.run(.restoreDatabases, other)
            }
            #expect(mismatch.kind == .mismatch && mismatch.description.contains("not swapped in"))
            #expect(try await world.marker() == "DEV before")
            #expect(!(try await world.databases()).contains(world.dev.database + "_previous"))

            // A damaged dump: pg_restore or the SHA-256 stops it, and DEV stays.
            let key = world.location.prefix(of: manifest.id) + manifest.products[0].dumpKey
            var bytes = try #require(try await world.s3.getObjectData(bucket: world.location.bucket, key: key))
            bytes[bytes.count / 2] ^= 0xFF
            _ = try await world.s3.putObject(bucket: world.location.bucket, key: key, data: .init(bytes: bytes))
            await #expect(throws: DataRefreshError.self) { try await refresher.run(.restoreDatabases, manifest) }
            #expect(try await world.marker() == "DEV before")

            // Intact, it streams in.
            _ = try await world.provider.provide(now: Date().addingTimeInterval(5))
            let fresh = try await refresher.chooseSnapshot()
            try await refresher.run(.restoreDatabases, fresh)
            #expect(try await Self.owners(in: world.dev) == ["jira"])
            #expect(try await PostgresTools.sql(world.dev, "SELECT count(*) FROM jiraissue") == "25")
        }
    }

    @Test func badInputIsRefusedBeforeAnythingIsStopped() async throws {
        try await Self.withWorld(.jira) { world in
            _ = try await world.provider.provide()
            func refused(_ refresher: DataRefresher) async throws -> DataRefreshError {
                let error = try await #require(throws: DataRefreshError.self) { try await refresher.refresh() }
                #expect(world.stops.count == 0, "\(error)")
                #expect(try await world.marker() == "DEV before")
                #expect(try await world.databases() == [world.dev.database], "\(error)")
                #expect(try refresher.unfinished() == nil)  // a re-run starts again at the check
                return error
            }
            // No space for the download (two jobs: downloaded).
            let disk = try await refused(world.refresher(restore: .init(jobs: 2, freeSpace: { _ in 10 << 20 })))
            #expect(disk.kind == .insufficientDiskSpace)
            #expect(disk.description.contains("10.0 MiB") && disk.description.contains("stream"))
            // The owner role does not exist.
            let role = try await refused(world.refresher(owner: "no_such_role"))
            #expect(role.kind == .databaseRole && role.description.contains("no_such_role"))
            // The admin role's password is wrong.
            let url = try Sandbox.postgresURL(database: world.dev.database)
            let wrong = try DatabaseLocation(url: url).with(password: "wrong-password")
            let password = try await refused(world.refresher(database: wrong))
            #expect(password.kind == .databaseRole && !password.description.contains("wrong-password"))
            // Nothing listens there.
            var unreachable = URLComponents(string: url)!
            unreachable.port = 9
            let down = try await refused(world.refresher(database: try DatabaseLocation(url: unreachable.string!)))
            #expect(down.kind == .databaseUnreachable)
            // TLS disabled against a server that takes TLS only (as RDS with rds.force_ssl).
            var plain = URLComponents(string: url)!
            plain.queryItems = [URLQueryItem(name: "sslmode", value: "disable")]
            let tls = try await refused(world.refresher(database: try DatabaseLocation(url: plain.string!)))
            #expect(tls.kind == .databaseUnreachable && tls.description.contains("TLS"))
            // The target runs another build than the snapshot's: configured, then in its database.
            let configured = try await refused(world.refresher(expectedBuild: 10_030_004))
            #expect(configured.kind == .versionMismatch && configured.description.contains("811001"))
            try await PostgresTools.sql(
                world.dev,
                "UPDATE propertystring SET propertyvalue = '820001' WHERE id = (SELECT id FROM propertyentry WHERE property_key = 'jira.version.patched')"
            )
            let current = try await refused(world.refresher())
            #expect(current.kind == .versionMismatch && current.description.contains("820001"))
        }
    }

    @Test func anAdminRoleAsOnRDSMustBeAllowedToCreateDatabasesAndActAsTheOwner() async throws {
        try await Self.withWorld(.jira) { world in
            let manifest = try await world.provider.provide()
            // As on RDS: the admin is no superuser, and DEV's database belongs to the application's role.
            let role = "relay_admin_\(UUID().uuidString.lowercased().prefix(8))"
            let password = UUID().uuidString
            let server = world.dev.database("postgres")
            try await PostgresTools.sql(server, "CREATE ROLE \(role) LOGIN PASSWORD '\(password)'")
            try await withCleanup {
                try await PostgresTools.sql(server, "ALTER DATABASE \(world.dev.database) OWNER TO jira")
                try await PostgresTools.sql(
                    world.dev,
                    "DO $$DECLARE t record; BEGIN FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP "
                        + "EXECUTE format('ALTER TABLE public.%I OWNER TO jira', t.tablename); END LOOP; END$$")
                var components = URLComponents(string: try Sandbox.postgresURL(database: world.dev.database))!
                components.user = role
                components.password = password
                let admin = try DatabaseLocation(url: components.string!)
                let refresher = world.refresher(database: admin)

                let noCreate = try await #require(throws: DataRefreshError.self) {
                    try await refresher.run(.check, manifest)
                }
                #expect(noCreate.kind == .databaseRole && noCreate.description.contains("CREATEDB"))
                try await PostgresTools.sql(server, "ALTER ROLE \(role) CREATEDB")
                let notMember = try await #require(throws: DataRefreshError.self) {
                    try await refresher.run(.check, manifest)
                }
                #expect(notMember.kind == .databaseRole && notMember.description.contains("GRANT jira TO \(role)"))
                #expect(!notMember.description.contains(password))

                try await PostgresTools.sql(server, "GRANT jira TO \(role)")
                try await refresher.run(.check, manifest)
                try await refresher.run(.restoreDatabases, manifest)
                #expect(try await Self.creation(of: world.dev) == "UTF8 C C jira")
                #expect(try await Self.owners(in: world.dev) == ["jira"])
                #expect(try await PostgresTools.sql(world.dev, "SELECT count(*) FROM jiraissue") == "25")
            } cleanup: {
                _ = try? await PostgresTools.sql(server, "DROP ROLE IF EXISTS \(role)")
            }
        }
    }

    @Test func aDumpFromANewerPgDumpIsRefusedWithTheFix() async throws {
        try await Self.withWorld(.jira) { world in
            let manifest = try await world.provider.provide()
            let key = world.location.prefix(of: manifest.id) + manifest.products[0].dumpKey
            let original = try #require(try await world.s3.getObjectData(bucket: world.location.bucket, key: key))
            let header = try #require(DumpHeader.parse(original))
            let local = try await PostgresTools.localRestoreMajor()
            #expect(header.dumpMajor == local && header.databaseName == world.prod.database)

            // The archive format of a newer pg_dump (PostgreSQL 17 writes 1.16): pg_restore refuses it.
            var newerFormat = original
            newerFormat[6] = 99
            // The version a newer pg_dump writes into the header, the format unchanged.
            var newerDump = original
            let version = Data(try #require(header.dumpVersion).utf8)
            let at = try #require(original.range(of: version, options: .backwards, in: 0..<4096))
            newerDump.replaceSubrange(at.lowerBound..<(at.lowerBound + 2), with: Data(String(local + 2).utf8))
            for (dump, says) in [(newerFormat, "unsupported version"), (newerDump, "newer than the local pg_restore")] {
                _ = try await world.s3.putObject(bucket: world.location.bucket, key: key, data: .init(bytes: dump))
                let refresher = world.refresher()
                let error = try await #require(throws: DataRefreshError.self) { try await refresher.refresh() }
                #expect(error.kind == .unsupportedDump && error.isRefusal)
                #expect(
                    error.description.contains(says) && error.description.contains("PostgreSQL")
                        && error.description.contains("client (pg_restore)"))
                #expect(world.stops.count == 0)
                #expect(try await world.marker() == "DEV before")
            }
        }
    }

    @Test func confluenceOnAnotherBuildIsRefused() async throws {
        try await Self.withWorld(.confluence) { world in
            _ = try await world.provider.provide()
            try await PostgresTools.sql(world.dev, "UPDATE confversion SET buildnumber = 8703")
            let error = try await #require(throws: DataRefreshError.self) {
                try await world.refresher(restore: .init(jobs: 1)).refresh()
            }
            #expect(error.kind == .versionMismatch)
            #expect(error.description.contains("7109") && error.description.contains("does not start"))
            #expect(world.stops.count == 0)
            #expect(try await world.marker() == "DEV before")
        }
    }
}

/// Sizing and header parsing, without services.
struct DumpFormatTests {
    @Test func partsGrowSoThatAnyDumpFitsInTenThousandParts() {
        let gib: Int64 = 1 << 30
        #expect(DumpPartSizing.parts(for: gib) == (64, 16 << 20))
        let medium = DumpPartSizing.parts(for: 156 * gib)  // where fixed 16 MiB parts ended
        #expect(medium.count == 3_373 && medium.largest == 128 << 20)
        let huge = DumpPartSizing.parts(for: 5 * 1024 * gib)  // S3's largest object
        #expect(huge.count <= S3Client.maximumParts && huge.largest <= S3Client.maximumPartSize)
        #expect(huge.count == 8_284)
        #expect(DumpPartSizing.capacity >= 5 * 1024 * gib)
        for part in [1, 999, 1_000, 1_001, 5_000, 9_999, 10_000] {
            let size = DumpPartSizing.partSize(partNumber: part)
            #expect(size >= S3Client.minimumPartSize && size <= S3Client.maximumPartSize)
        }
        #expect(DumpPartSizing.partSize(partNumber: 1_001) == 32 << 20)
        #expect(DumpPartSizing.partSize(partNumber: 10_000) == 5 << 30)
    }

    @Test func aHeaderThatIsNotADumpIsNil() {
        #expect(DumpHeader.parse(Data("-- PostgreSQL database dump".utf8)) == nil)
        #expect(DumpHeader.parse(Data("PGDMP".utf8)) == nil)
        #expect(DumpHeader.major(of: "15.18 (Debian 15.18-0+deb12u1)") == 15)
        #expect(DumpHeader.major(of: "9.4.11") == 9)
    }

    @Test func theSpaceNeededIsTheDumpAndAMargin() {
        #expect(DataRefresher.RestoreOptions.spaceNeeded(forDump: 1_000) == 1_000 + (64 << 20))
        #expect(DataRefresher.RestoreOptions.spaceNeeded(forDump: 100 << 30) == (100 << 30) + (1 << 30))
        #expect(DataRefresher.RestoreOptions(jobs: 1).streams(.custom) && !DataRefresher.RestoreOptions(jobs: 2).streams(.custom))
        #expect(DataRefresher.RestoreOptions(jobs: 8, transfer: .stream).streams(.custom))
        #expect(!DataRefresher.RestoreOptions(jobs: 1, transfer: .download).streams(.custom))
        // A directory dump is read from a folder: never streamed, whatever the jobs.
        #expect(!DataRefresher.RestoreOptions(jobs: 1).streams(.directory))
        #expect(DataRefresher.RestoreOptions().jobs == ProcessInfo.processInfo.activeProcessorCount)
    }
}
