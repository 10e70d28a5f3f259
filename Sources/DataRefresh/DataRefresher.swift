import AtlassianAdmin
import Foundation
import Logging
import S3Sync

/// Restores a snapshot into a DEV or UAT environment and makes it that environment again: stop
/// the applications, restore each database (fresh database, then swapped in), sync each shared
/// home with delete, rewrite the settings in the databases (mail off first), start, wait for
/// RUNNING, apply the REST-side settings, and verify nothing is left to change.
///
/// Every step records its completion in a run state file, so a re-run after a failure resumes
/// at the failed step. PROD is refused as a target.
public struct DataRefresher: Sendable {
    /// One product in the target environment.
    public struct Target: Sendable {
        /// `jira` or `confluence` (a `Product`'s raw value).
        public var name: String
        /// Its database (the whole database is replaced).
        public var database: DatabaseLocation
        /// Its shared home.
        public var sharedHome: String
        /// Its base URL, for `/status` and the REST-side settings.
        public var url: String
        /// Administrator credentials for REST.
        public var credentials: AtlassianCredentials?
        /// The application's database role, which owns the restored database and every object in
        /// it (the application connects as it). ``database`` names the admin role the refresher
        /// connects as, which must be allowed to create databases and be a member of this role.
        /// Nil: the admin role owns them.
        public var owner: String?
        /// How the restored database is created; nil: the product's documented recipe
        /// (``DatabaseCreation/for(_:)``).
        public var creation: DatabaseCreation?
        /// The product build the target runs (Jira's `jira.version.patched`, Confluence's build
        /// number), compared with the snapshot's before anything is stopped. Nil: the build in the
        /// target's current database, when it has one.
        public var expectedBuild: Int?

        /// The product the target is; nil for a name that is not one (``checkTarget()`` refuses it).
        public var product: Product? { Product(rawValue: name) }

        /// Creates a target.
        ///
        /// - Parameters:
        ///   - name: `jira` or `confluence`.
        ///   - database: its database, reached as the admin role (the whole database is replaced).
        ///   - sharedHome: its shared home.
        ///   - url: its base URL.
        ///   - credentials: administrator credentials for REST.
        ///   - owner: the application's database role (see ``owner``).
        ///   - creation: how the database is created (see ``creation``).
        ///   - expectedBuild: the build the target's application runs (see ``expectedBuild``).
        public init(
            name: String, database: DatabaseLocation, sharedHome: String, url: String,
            credentials: AtlassianCredentials?, owner: String? = nil, creation: DatabaseCreation? = nil,
            expectedBuild: Int? = nil
        ) {
            self.name = name
            self.database = database
            self.sharedHome = sharedHome
            self.url = url
            self.credentials = credentials
            self.owner = owner
            self.creation = creation
            self.expectedBuild = expectedBuild
        }
    }

    /// The steps, in order.
    public enum Step: String, Sendable, CaseIterable, Codable {
        /// Check the snapshot and the target.
        case check
        /// Stop the applications.
        case stop
        /// Restore the databases.
        case restoreDatabases = "restore-databases"
        /// Sync the shared homes.
        case syncSharedHomes = "sync-shared-homes"
        /// Rewrite the settings in the databases.
        case rewriteSettings = "rewrite-settings"
        /// Start the applications and wait for RUNNING.
        case start
        /// Rebuild Jira's index (``RestoreOptions/reindex``) and wait for it.
        case reindex
        /// Apply the REST-side settings and verify the whole plan is empty.
        case verify
    }

    /// The run state: which snapshot, and which steps are done.
    public struct RunState: Sendable, Codable, Equatable {
        /// The snapshot being restored.
        public var snapshot: String
        /// Steps finished.
        public var done: [Step]
    }

    /// The target environment's settings (must not be PROD's).
    public var settings: EnvironmentSettings
    /// The products.
    public var targets: [Target]
    /// Where snapshots are.
    public var location: SnapshotLocation
    /// The client for the snapshot bucket (this account's role).
    public var s3: S3Client
    /// PROD, refused as a target.
    public var production: ProductionGuard
    /// Stops and starts the applications.
    public var control: ApplicationControl
    /// Where downloads and the run state go.
    public var workDirectory: String
    /// How long an application may take to reach RUNNING.
    public var startTimeout: Duration
    /// How databases are restored (jobs, streaming) and Jira's index rebuilt.
    public var restoreOptions: RestoreOptions
    /// The licence to install in each product's database, by product name (`jira`), resolved
    /// from the environment's secret references; none keeps PROD's. Never logged.
    public var licences: [String: String]
    /// Where progress goes.
    public var logger: Logger

    /// Creates a refresher.
    ///
    /// - Parameters:
    ///   - settings: the target environment's settings (must not be PROD's).
    ///   - targets: the products to refresh.
    ///   - location: where the snapshots are.
    ///   - s3: the client for the snapshot bucket.
    ///   - production: PROD, refused as a target.
    ///   - control: how the applications are stopped and started.
    ///   - workDirectory: where downloads and the run state go.
    ///   - startTimeout: how long an application may take to reach RUNNING.
    ///   - restore: `pg_restore --jobs`, how the dump reaches it, and the Jira reindex
    ///     (default: the machine's cores, download with a free-space check, background reindex).
    ///   - licences: the licence for each product by name, resolved from secret references (see ``licences``).
    ///   - logger: where progress goes.
    public init(
        settings: EnvironmentSettings, targets: [Target], location: SnapshotLocation, s3: S3Client,
        production: ProductionGuard, control: ApplicationControl = .none, workDirectory: String,
        startTimeout: Duration = .seconds(1800), restore: RestoreOptions = RestoreOptions(),
        licences: [String: String] = [:], logger: Logger = Logger(label: "atlas-relay.data-refresher")
    ) {
        self.restoreOptions = restore
        self.licences = licences
        self.settings = settings
        self.targets = targets
        self.location = location
        self.s3 = s3
        self.production = production
        self.control = control
        self.workDirectory = workDirectory
        self.startTimeout = startTimeout
        self.logger = logger
    }

    var stateFile: String { workDirectory + "/refresh-state.json" }

    /// The run state of an unfinished refresh, if any.
    public func unfinished() throws -> RunState? {
        guard let data = FileManager.default.contents(atPath: stateFile) else { return nil }
        return try JSONDecoder().decode(RunState.self, from: data)
    }

    /// Refuses PROD and inconsistent settings before anything is read or written: a target
    /// whose database, base URL or shared home is PROD's by identity (see ``ProductionGuard``).
    public func checkTarget() throws {
        if settings.isProduction {
            throw DataRefreshError(
                "the target settings say \(settings.environment) is PROD; a refresh never writes to PROD",
                kind: .refused)
        }
        try settings.validate()
        try production.check(targets)
        let names = Set(targets.map(\.name))
        guard targets.allSatisfy({ $0.product != nil }), names.count == targets.count else {
            throw DataRefreshError("targets must be at most one jira and one confluence, not \(targets.map(\.name))")
        }
    }

    /// Chooses the snapshot: `id` when given (it must be complete), else the newest complete one.
    public func chooseSnapshot(_ id: String? = nil) async throws -> SnapshotManifest {
        let (complete, incomplete) = try await location.snapshots(s3)
        if let id {
            guard complete.contains(id) else {
                throw DataRefreshError(
                    incomplete.contains(id)
                        ? "snapshot \(id) is incomplete (no manifest) and is never restored"
                        : "there is no snapshot \(id) in s3://\(location.bucket)/\(location.prefix)")
            }
            return try await location.manifest(id, s3)
        }
        guard let newest = complete.last else {
            throw DataRefreshError(
                "s3://\(location.bucket)/\(location.prefix) holds no complete snapshot; run the provider first")
        }
        return try await location.manifest(newest, s3)
    }

    /// Refreshes the target, resuming an unfinished run of the same snapshot.
    ///
    /// - Parameters:
    ///   - snapshot: a snapshot id; default: the unfinished run's, else the newest complete one.
    ///   - from: re-run from this step even if it was done.
    /// - Returns: the manifest restored.
    @discardableResult
    public func refresh(snapshot: String? = nil, from: Step? = nil) async throws -> SnapshotManifest {
        try checkTarget()
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let previous = try unfinished()
        let manifest = try await chooseSnapshot(snapshot ?? previous?.snapshot)
        var state = resumeState(previous, manifest: manifest, from: from)
        for step in Step.allCases where !state.done.contains(step) {
            logger.info("step started", metadata: ["step": "\(step.rawValue)", "snapshot": "\(manifest.id)"])
            do {
                try await run(step, manifest)
            } catch {
                logger.error(
                    "step failed; re-run to resume here", metadata: ["step": "\(step.rawValue)", "error": "\(error)"])
                throw error
            }
            state.done.append(step)
            try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: stateFile), options: .atomic)
        }
        try? FileManager.default.removeItem(atPath: stateFile)
        logger.info(
            "refresh complete", metadata: ["snapshot": "\(manifest.id)", "environment": "\(settings.environment)"])
        return manifest
    }

    func product(_ name: String, in manifest: SnapshotManifest) throws -> SnapshotManifest.Product {
        guard let product = manifest.products.first(where: { $0.name == name }) else {
            throw DataRefreshError(
                "snapshot \(manifest.id) has no \(name) data (it has \(manifest.products.map(\.name)))")
        }
        return product
    }

    /// The target of `product`, if the refresh has one.
    func target(_ product: Product) -> Target? { targets.first { $0.product == product } }

    func run(_ step: Step, _ manifest: SnapshotManifest) async throws {
        switch step {
        case .check:
            for target in targets { try await checkSnapshot(product(target.name, in: manifest), of: manifest) }
            try await checkBeforeStopping(manifest)
        case .stop:
            for target in targets { try await control.stop(target.name) }
        case .restoreDatabases:
            try await restoreDatabases(manifest)
        case .syncSharedHomes:
            try await syncSharedHomes(manifest)
        case .rewriteSettings:
            try await rewriteSettings(manifest)
        case .start:
            for target in targets {
                try await control.start(target.name)
                try await client(target).waitUntilRunning(timeout: startTimeout)
            }
        case .reindex:
            try await rebuildIndexes()
        case .verify:
            try await verifySettings(manifest)
        }
    }

    func client(_ target: Target) throws -> any AtlassianProduct {
        target.product == .jira
            ? try JiraClient(baseURL: target.url, credentials: target.credentials)
            : try ConfluenceClient(baseURL: target.url, credentials: target.credentials)
    }
}
