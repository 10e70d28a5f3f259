import AWSCore
import AtlassianAdmin
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import RelayFoundation
import S3Sync

/// Takes a snapshot of PROD's data: each product's database (``DumpOptions``: one `pg_dump -Fc`
/// stream, or `pg_dump -Fd --jobs` uploaded table by table) and
/// shared home (a ``HomeManifest`` of every file, with only the contents the store does not hold
/// yet uploaded to it), then the manifest, last. Only reads PROD.
public struct DataProvider: Sendable {
    /// One product's data source.
    public struct Source: Sendable {
        /// `jira` or `confluence`.
        public var name: String
        /// Its database.
        public var database: DatabaseLocation
        /// Its shared home (a local or mounted directory, as on EFS).
        public var sharedHome: String
        /// Shared-home paths that never travel (aws-cli `--exclude` patterns).
        public var excludes: [String]
        /// The product version, recorded in the manifest (default: what the database says, for
        /// Jira its `jira.version`). The build number is always read from the database.
        public var version: String?

        /// The shared-home folders Jira and Confluence keep only locally: caches, temp, exports, logs.
        public static let defaultExcludes = [
            "caches/*", "tmp/*", "temp/*", "export/*", "log/*", "logs/*", "analytics-logs/*", "backups/*",
        ]

        /// Creates a source.
        public init(
            name: String, database: DatabaseLocation, sharedHome: String, excludes: [String] = defaultExcludes,
            version: String? = nil
        ) {
            self.name = name
            self.database = database
            self.sharedHome = sharedHome
            self.excludes = excludes
            self.version = version
        }
    }

    /// The environment the data comes from, for example `prod`.
    public var environment: String
    /// The products.
    public var sources: [Source]
    /// Where snapshots go.
    public var location: SnapshotLocation
    /// The client for the snapshot bucket.
    public var s3: S3Client
    /// How many complete snapshots to keep.
    public var keep: Int
    /// Written with `bucket-owner-full-control` when the bucket is another account's.
    public var writeOptions: S3Client.WriteOptions
    /// The least share of the previous complete snapshot that a new one must hold, product by
    /// product: shared-home objects and bytes, and dump bytes (0.5 by default; 0 turns the check
    /// off). A home or a database that suddenly holds far less is a failed mount or a wrong path far
    /// more often than real deletions, and a snapshot made of it would wipe DEV at the next refresh.
    public var minimumShareOfPrevious: Double
    /// Accept a shared home with no files at all (off: a real Jira or Confluence home never is).
    public var allowEmptySharedHome: Bool
    /// How the databases are dumped: one custom-format stream by default, or a directory-format
    /// dump by several `pg_dump` jobs.
    public var dump: DumpOptions
    /// Where progress goes.
    public var logger: Logger

    /// Creates a provider.
    public init(
        environment: String, sources: [Source], location: SnapshotLocation, s3: S3Client, keep: Int = 3,
        writeOptions: S3Client.WriteOptions = .init(), minimumShareOfPrevious: Double = 0.5,
        allowEmptySharedHome: Bool = false, dump: DumpOptions = DumpOptions(),
        logger: Logger = Logger(label: "atlas-relay.data-provider")
    ) {
        self.dump = dump
        self.minimumShareOfPrevious = minimumShareOfPrevious
        self.allowEmptySharedHome = allowEmptySharedHome
        self.environment = environment
        self.sources = sources
        self.location = location
        self.s3 = s3
        self.keep = max(1, keep)
        self.writeOptions = writeOptions
        self.logger = logger
    }

    /// Takes a snapshot and prunes old ones.
    ///
    /// Every shared home must exist before anything is dumped; each product's new data is compared
    /// with the newest complete snapshot's (``minimumShareOfPrevious``, ``allowEmptySharedHome``).
    ///
    /// - Returns: the manifest written.
    /// - Throws: on any failure, before the manifest is written (the snapshot stays incomplete);
    ///   ``DataRefreshError/Kind/sourceMissing`` for a shared home that does not exist and
    ///   ``DataRefreshError/Kind/unexpectedlyEmpty`` for data that is empty or far smaller than last time.
    ///
    /// - Parameters:
    ///   - now: the time the id is made from when `id` is not given.
    ///   - id: the snapshot's id (default: from `now`); the workers and the merge of a sharded
    ///     snapshot share one.
    ///   - homeShards: merge the shared-home manifests that this many ``snapshotHomeShard(_:snapshot:)``
    ///     workers wrote (``mergeHomeShards(_:snapshot:count:)``), instead of walking the homes here.
    @discardableResult
    public func provide(now: Date = Date(), id: String? = nil, homeShards: Int? = nil) async throws -> SnapshotManifest {
        let id = id ?? SnapshotManifest.id(for: now)
        let base = location.prefix(of: id)
        for source in sources {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source.sharedHome, isDirectory: &isDirectory),
                isDirectory.boolValue
            else {
                throw DataRefreshError(
                    "the shared home of \(source.name), \(source.sharedHome), does not exist or is not a folder; check the path and that its file system (EFS) is mounted. No snapshot was taken",
                    kind: .sourceMissing)
            }
        }
        if let homeShards {
            // Before the dumps: a merge with a worker missing refuses at once.
            for source in sources { _ = try await shardRecords(of: source, snapshot: id, count: homeShards) }
        }
        let previous = try await previousManifest()
        var products: [SnapshotManifest.Product] = []
        for source in sources {
            var build: (build: Int, version: String?)?
            var baseURL: String?
            if let product = Product(rawValue: source.name) {
                build = try await PostgresTools.productBuild(source.database, product: product)
                baseURL = await Self.baseURL(of: source.database, product: product)
            }
            logger.info(
                "product build",
                metadata: ["product": "\(source.name)", "build": "\(build.map { String($0.build) } ?? "none")"])
            let dump = try await dumpDatabase(source, under: base)
            let home: HomeSnapshot
            if let homeShards {
                home = try await mergeHomeShards(source, snapshot: id, count: homeShards)
            } else {
                home = try await snapshotHome(source, snapshot: id, previous: previous)
            }
            logger.info(
                "shared home recorded",
                metadata: [
                    "product": "\(source.name)", "files": "\(home.files)", "bytes": "\(home.bytes)",
                    "hashed": "\(home.hashed)", "uploaded": "\(home.uploaded)",
                    "uploadedBytes": "\(home.uploadedBytes)",
                ])
            let product = SnapshotManifest.Product(
                name: source.name, version: source.version ?? build?.version, dumpKey: dump.key, dumpBytes: dump.bytes,
                dumpSHA256: dump.sha256, dumpFormat: self.dump.format, dumpFiles: dump.files,
                sharedHomeManifest: "\(source.name)/\(HomeManifest.fileName)",
                sharedHomeManifestSHA256: home.manifestSHA256, sharedHomeObjects: home.files,
                sharedHomeBytes: home.bytes, buildNumber: build?.build, baseURL: baseURL)
            try check(product, against: previous, snapshot: id)
            products.append(product)
        }
        let manifest = SnapshotManifest(
            id: id, sourceEnvironment: environment, products: products, toolVersion: AtlasRelayVersion.current)
        try await writeManifest(manifest)
        logger.info("snapshot complete", metadata: ["snapshot": "\(id)"])
        try await prune()
        return manifest
    }

    /// Dumps `source`'s database under the snapshot prefix `base`, as ``dump`` says.
    ///
    /// - Returns: its key relative to the snapshot, size, SHA-256 and, for a directory dump, files.
    func dumpDatabase(_ source: Source, under base: String) async throws -> (
        key: String, bytes: Int64, sha256: String, files: [DumpFile]?
    ) {
        let started = ContinuousClock.now
        logger.info(
            "dumping database",
            metadata: [
                "product": "\(source.name)", "database": "\(source.database)", "format": "\(dump.format)",
                "jobs": "\(dump.format == .directory ? dump.jobs : 1)",
            ])
        let result: (key: String, bytes: Int64, sha256: String, files: [DumpFile]?)
        switch dump.format {
        case .custom:
            let key = "\(source.name)/database.dump"
            let written = try await PostgresTools.dump(
                source.database, to: s3, bucket: location.bucket, key: base + key, writeOptions: writeOptions)
            result = (key, written.bytes, written.sha256, nil)
        case .directory:
            let key = "\(source.name)/database/"
            try FileManager.default.createDirectory(atPath: dump.workDirectory, withIntermediateDirectories: true)
            let files = try await PostgresTools.dumpDirectory(
                source.database, jobs: dump.jobs, workDirectory: dump.workDirectory, to: s3, bucket: location.bucket,
                prefix: base + key, writeOptions: writeOptions, logger: logger)
            result = (key, files.reduce(0) { $0 + $1.bytes }, DumpFile.digest(of: files), files)
        }
        logger.info(
            "database dumped",
            metadata: [
                "product": "\(source.name)", "bytes": "\(result.bytes)", "sha256": "\(result.sha256)",
                "files": "\(result.files?.count ?? 1)",
                "seconds": "\(String(format: "%.1f", (ContinuousClock.now - started).seconds))",
            ])
        return result
    }

    /// Writes `manifest` as its snapshot's `manifest.json`: the step that makes it complete.
    func writeManifest(_ manifest: SnapshotManifest) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        _ = try await s3.putObject(
            bucket: location.bucket, key: location.prefix(of: manifest.id) + SnapshotManifest.fileName,
            data: ByteBuffer(data: try encoder.encode(manifest)), options: writeOptions)
    }

    /// The newest complete snapshot's manifest, if there is one.
    func previousManifest() async throws -> SnapshotManifest? {
        guard let newest = try await location.snapshots(s3).complete.last else { return nil }
        do {
            return try await location.manifest(newest, s3)
        } catch {
            logger.warning(
                "the previous snapshot's manifest is unreadable; the new snapshot is not compared with it",
                metadata: ["snapshot": "\(newest)", "error": "\(error)"])
            return nil
        }
    }

    /// Refuses a product's new data when it is empty or far smaller than in `previous`.
    func check(_ product: SnapshotManifest.Product, against previous: SnapshotManifest?, snapshot id: String) throws {
        let incomplete = "the snapshot \(id) stays incomplete and is never restored"
        if product.sharedHomeObjects == 0 && !allowEmptySharedHome {
            throw DataRefreshError(
                "the shared home of \(product.name) has no files to snapshot; a real shared home never is empty, so check the path and the mount (\(incomplete))",
                kind: .unexpectedlyEmpty)
        }
        guard minimumShareOfPrevious > 0, let before = previous?.products.first(where: { $0.name == product.name })
        else { return }
        let figures: [(String, Double, Double)] = [
            ("shared-home files", Double(product.sharedHomeObjects), Double(before.sharedHomeObjects)),
            ("shared-home bytes", Double(product.sharedHomeBytes), Double(before.sharedHomeBytes)),
            ("database dump bytes", Double(product.dumpBytes), Double(before.dumpBytes)),
        ]
        for (what, now, then) in figures where now < then * minimumShareOfPrevious {
            throw DataRefreshError(
                "\(product.name) has \(Int64(now)) \(what), under \(Int(minimumShareOfPrevious * 100)) % of the \(Int64(then)) in the previous snapshot \(previous!.id); if that much data was really removed, lower minimumShareOfPrevious for one run (\(incomplete))",
                kind: .unexpectedlyEmpty)
        }
    }

    /// Removes complete snapshots beyond the newest ``keep``, incomplete ones older than the
    /// newest complete one, and the contents no kept snapshot names.
    public func prune() async throws {
        let (complete, incomplete) = try await location.snapshots(s3)
        let newest = complete.last ?? ""
        let doomed = complete.dropLast(keep) + incomplete.filter { $0 < newest }
        for id in doomed {
            let keys = try await s3.listAllObjects(bucket: location.bucket, prefix: location.prefix(of: id)).map(\.key)
            // The manifest goes first, so a half-deleted snapshot is never taken for complete.
            let manifest = keys.filter { $0.hasSuffix("/" + SnapshotManifest.fileName) }
            for batch in [manifest, keys.filter { !manifest.contains($0) }] where !batch.isEmpty {
                let failures = try await s3.deleteObjects(bucket: location.bucket, keys: batch)
                guard failures.isEmpty else {
                    throw DataRefreshError("could not remove old snapshot \(id): \(failures.first!.message)")
                }
            }
            logger.info("old snapshot removed", metadata: ["snapshot": "\(id)"])
        }
        try await pruneContents(keeping: Array(complete.suffix(keep)))
    }
}

extension DataProvider {
    /// The base URL `database` gives itself, read by the settings stores (Jira's `jira.baseurl`,
    /// Confluence's `<baseUrl>`); nil when it is no product database or holds none. The
    /// refresher's PROD-reference scan looks for its host.
    static func baseURL(of database: DatabaseLocation, product: Product) async -> String? {
        switch product {
        case .jira:
            guard let store = try? await JiraSettingsStore.open(database) else { return nil }
            let value = try? await store.properties()["jira.baseurl"]
            await store.close()
            return value.map(\.description).flatMap { $0.isEmpty ? nil : $0 }
        case .confluence:
            guard let store = try? await ConfluenceSettingsStore.open(database) else { return nil }
            let value = try? await store.settings().baseURL
            await store.close()
            return value.flatMap { $0.isEmpty ? nil : $0 }
        }
    }
}
