import AWSCore
import AWSSigning
import AtlassianAdmin
import Foundation
import Logging
import RelayFoundation
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
        /// `jira` or `confluence`.
        public var name: String
        /// Its database (the whole database is replaced).
        public var database: DatabaseLocation
        /// Its shared home.
        public var sharedHome: String
        /// Its base URL, for `/status` and the REST-side settings.
        public var url: String
        /// Administrator credentials for REST.
        public var credentials: AtlassianCredentials?

        /// Creates a target.
        public init(
            name: String, database: DatabaseLocation, sharedHome: String, url: String,
            credentials: AtlassianCredentials?
        ) {
            self.name = name
            self.database = database
            self.sharedHome = sharedHome
            self.url = url
            self.credentials = credentials
        }
    }

    /// How applications are stopped and started: scale an Auto Scaling group, shell commands
    /// (which may call SSM or systemctl), Swift closures, or nothing in the sandbox.
    public struct ApplicationControl: Sendable {
        /// Stops product `name`; returns when it is down.
        public var stop: @Sendable (_ name: String) async throws -> Void
        /// Starts product `name`.
        public var start: @Sendable (_ name: String) async throws -> Void

        /// Creates a control.
        public init(
            stop: @escaping @Sendable (_ name: String) async throws -> Void,
            start: @escaping @Sendable (_ name: String) async throws -> Void
        ) {
            self.stop = stop
            self.start = start
        }

        /// Does nothing (the applications are managed elsewhere).
        public static let none = ApplicationControl(stop: { _ in }, start: { _ in })

        /// Runs shell commands (`/bin/sh -c`), with `{product}` replaced by the product's name,
        /// for example `sudo systemctl stop {product}`; a non-zero exit is a failure.
        public static func commands(stop: String, start: String, timeout: Duration = .seconds(900))
            -> ApplicationControl
        {
            @Sendable func run(_ template: String, _ name: String) async throws {
                let command = template.replacingOccurrences(of: "{product}", with: name)
                let output = try await ProcessRunner.run("/bin/sh", ["-c", command], timeout: timeout)
                guard output.status == 0 else {
                    throw DataRefreshError(
                        "'\(command)' failed (exit \(output.status)): \(output.errorText.prefix(300))")
                }
            }
            return ApplicationControl(stop: { try await run(stop, $0) }, start: { try await run(start, $0) })
        }

        /// Scales each product's Auto Scaling group (`group` with `{product}` replaced) to zero
        /// and waits until its instances are gone; starts by scaling it to `capacity` and waiting
        /// until that many are in service and healthy (the refresher then waits for RUNNING).
        public static func autoScaling(
            _ client: AutoScalingClient, group: String, capacity: Int, pollInterval: Duration = .seconds(10),
            timeout: Duration = .seconds(1800)
        ) -> ApplicationControl {
            /// The product's group, which must exist.
            @Sendable func lookup(_ product: String) async throws -> AutoScalingGroup {
                let name = group.replacingOccurrences(of: "{product}", with: product)
                guard let current = try await client.group(name) else {
                    throw DataRefreshError("Auto Scaling group \(name) does not exist; check control.autoScalingGroup")
                }
                return current
            }
            @Sendable func wait(_ product: String, until done: @Sendable (AutoScalingGroup) -> Bool, what: String)
                async throws
            {
                let deadline = ContinuousClock.now + timeout
                while true {
                    let current = try await lookup(product)
                    if done(current) { return }
                    guard ContinuousClock.now < deadline else {
                        throw DataRefreshError(
                            "Auto Scaling group \(current.name) did not \(what) within \(timeout) "
                                + "(\(current.instances.count) instance(s), \(current.inService) in service); check its activity history"
                        )
                    }
                    try await Task.sleep(for: pollInterval)
                }
            }
            return ApplicationControl(
                stop: { product in
                    let current = try await lookup(product)
                    try await client.resize(current.name, minSize: 0, desiredCapacity: 0)
                    try await wait(product, until: { $0.instances.isEmpty }, what: "scale in to zero")
                },
                start: { product in
                    let current = try await lookup(product)
                    try await client.resize(
                        current.name, minSize: capacity, desiredCapacity: capacity,
                        maxSize: max(current.maxSize, capacity))
                    try await wait(
                        product, until: { $0.inService >= capacity }, what: "reach \(capacity) healthy instance(s)")
                })
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
    /// Where progress goes.
    public var logger: Logger

    /// Creates a refresher.
    public init(
        settings: EnvironmentSettings, targets: [Target], location: SnapshotLocation, s3: S3Client,
        production: ProductionGuard, control: ApplicationControl = .none, workDirectory: String,
        startTimeout: Duration = .seconds(1800), logger: Logger = Logger(label: "atlas-relay.data-refresher")
    ) {
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
        guard names.isSubset(of: ["jira", "confluence"]), names.count == targets.count else {
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

    /// What ``refresh(snapshot:from:)`` would do, touching nothing: the dry run.
    public struct Plan: Sendable, Equatable {
        /// The snapshot it would restore.
        public let manifest: SnapshotManifest
        /// The steps it would run, in order.
        public let steps: [Step]
        /// The steps an unfinished run of this snapshot already did.
        public let alreadyDone: [Step]

        /// A readable summary.
        public var text: String {
            var lines = ["snapshot \(manifest.id) from \(manifest.sourceEnvironment):"]
            for product in manifest.products {
                lines.append(
                    "  \(product.name): database dump \(product.dumpBytes) bytes, shared home "
                        + "\(product.sharedHomeObjects) objects / \(product.sharedHomeBytes) bytes")
            }
            if !alreadyDone.isEmpty {
                lines.append("resuming; done: \(alreadyDone.map(\.rawValue).joined(separator: ", "))")
            }
            lines.append("steps: \(steps.map(\.rawValue).joined(separator: " → "))")
            return lines.joined(separator: "\n")
        }
    }

    /// Plans a refresh (the same checks and choices as ``refresh(snapshot:from:)``).
    public func plan(snapshot: String? = nil, from: Step? = nil) async throws -> Plan {
        try checkTarget()
        let previous = try unfinished()
        let manifest = try await chooseSnapshot(snapshot ?? previous?.snapshot)
        let state = resumeState(previous, manifest: manifest, from: from)
        for target in targets { _ = try product(target.name, in: manifest) }
        return Plan(
            manifest: manifest, steps: Step.allCases.filter { !state.done.contains($0) }, alreadyDone: state.done)
    }

    func resumeState(_ previous: RunState?, manifest: SnapshotManifest, from: Step?) -> RunState {
        var state = previous?.snapshot == manifest.id ? previous! : RunState(snapshot: manifest.id, done: [])
        if let from {
            let index = Step.allCases.firstIndex(of: from)!
            state.done.removeAll { Step.allCases.firstIndex(of: $0)! >= index }
        }
        return state
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
        var state =
            previous?.snapshot == manifest.id ? previous! : RunState(snapshot: manifest.id, done: [])
        if let from {
            state.done.removeAll { Step.allCases.firstIndex(of: $0)! >= Step.allCases.firstIndex(of: from)! }
        }
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

    /// Refuses a product's snapshot data that cannot be a real shared home, or that is not what
    /// the manifest says, before anything is stopped or written.
    func checkSnapshot(_ data: SnapshotManifest.Product, of manifest: SnapshotManifest) async throws {
        guard data.sharedHomeObjects > 0 else {
            throw DataRefreshError(
                "snapshot \(manifest.id) holds no shared-home files for \(data.name); restoring it would empty DEV's shared home, so nothing was changed. Choose another snapshot",
                kind: .unexpectedlyEmpty)
        }
        let listed = try await s3.listAllObjects(
            bucket: location.bucket, prefix: location.prefix(of: manifest.id) + data.sharedHomePrefix)
        let bytes = listed.reduce(Int64(0)) { $0 + $1.size }
        guard listed.count == data.sharedHomeObjects, bytes == data.sharedHomeBytes else {
            throw DataRefreshError(
                "snapshot \(manifest.id) holds \(listed.count) shared-home files (\(bytes) bytes) for \(data.name), its manifest says \(data.sharedHomeObjects) (\(data.sharedHomeBytes) bytes); it was changed after it was taken, so nothing was changed. Choose another snapshot",
                kind: .mismatch)
        }
    }

    func run(_ step: Step, _ manifest: SnapshotManifest) async throws {
        let base = location.prefix(of: manifest.id)
        switch step {
        case .check:
            for target in targets { try await checkSnapshot(product(target.name, in: manifest), of: manifest) }
        case .stop:
            for target in targets { try await control.stop(target.name) }
        case .restoreDatabases:
            for target in targets {
                let data = try product(target.name, in: manifest)
                let file = "\(workDirectory)/\(target.name)-\(manifest.id).dump"
                defer { try? FileManager.default.removeItem(atPath: file) }
                try await PostgresTools.download(
                    s3, bucket: location.bucket, key: base + data.dumpKey, to: file, bytes: data.dumpBytes,
                    sha256: data.dumpSHA256)
                try await PostgresTools.restore(file, into: target.database)
                logger.info("database restored", metadata: ["product": "\(target.name)", "bytes": "\(data.dumpBytes)"])
            }
        case .syncSharedHomes:
            for target in targets {
                let data = try product(target.name, in: manifest)
                try FileManager.default.createDirectory(atPath: target.sharedHome, withIntermediateDirectories: true)
                let engine = try SyncEngine(
                    source: .s3(bucket: location.bucket, prefix: base + data.sharedHomePrefix),
                    destination: .local(target.sharedHome), sourceClient: s3,
                    configuration: .init(options: SyncOptions(delete: true)))
                let (_, summary) = try await engine.sync()
                guard summary.succeeded else {
                    throw DataRefreshError(
                        "the shared home of \(target.name) did not sync completely (\(summary.failures.count) failed); "
                            + "re-run to resume")
                }
                // What is there now must be the snapshot: nothing left to do, every file accounted for.
                let after = try await engine.plan()
                guard after.isEmpty, after.refused.isEmpty, after.unchanged == data.sharedHomeObjects else {
                    throw DataRefreshError(
                        "after restoring the shared home of \(target.name), \(target.sharedHome) holds \(after.unchanged) of the \(data.sharedHomeObjects) files of snapshot \(manifest.id) (\(after.transfers.count) differ, \(after.deletes.count) extra); re-run to resume",
                        kind: .mismatch)
                }
                logger.info(
                    "shared home synced",
                    metadata: [
                        "product": "\(target.name)", "transferred": "\(summary.transferred)",
                        "deleted": "\(summary.deleted)", "bytes": "\(summary.transferredBytes)",
                    ])
            }
        case .rewriteSettings:
            var jira: JiraSettingsStore?
            var confluence: ConfluenceSettingsStore?
            defer {
                let (j, c) = (jira, confluence)
                Task {
                    await j?.close()
                    await c?.close()
                }
            }
            for target in targets {
                if target.name == "jira" {
                    let store = try await JiraSettingsStore.open(target.database)
                    jira = store
                    // Mail off first, on its own, so nothing can mail PROD's users whatever fails next.
                    if settings.jira?.mailDisabled == true {
                        try await store.set(["jira.mail.send.disabled": .number(1)])
                    }
                } else {
                    confluence = try await ConfluenceSettingsStore.open(target.database)
                }
            }
            let plan = try await settings.apply(jira: jira, confluence: confluence)
            logger.info("settings rewritten", metadata: ["changes": "\(plan.changes.count)"])
        case .start:
            for target in targets {
                try await control.start(target.name)
                try await client(target).waitUntilRunning(timeout: startTimeout)
            }
        case .verify:
            let jiraTarget = targets.first { $0.name == "jira" }
            let confluenceTarget = targets.first { $0.name == "confluence" }
            let jira = try jiraTarget.map { try JiraClient(baseURL: $0.url, credentials: $0.credentials) }
            let confluence = try confluenceTarget.map {
                try ConfluenceClient(baseURL: $0.url, credentials: $0.credentials)
            }
            try await settings.apply(jiraAPI: jira, confluenceAPI: confluence)
            var stores: (JiraSettingsStore?, ConfluenceSettingsStore?) = (nil, nil)
            if let jiraTarget { stores.0 = try await JiraSettingsStore.open(jiraTarget.database) }
            if let confluenceTarget { stores.1 = try await ConfluenceSettingsStore.open(confluenceTarget.database) }
            let left = try await settings.plan(jira: stores.0, confluence: stores.1)
            await stores.0?.close()
            await stores.1?.close()
            guard left.changes.isEmpty else {
                throw DataRefreshError("after the refresh these settings still differ:\n\(left.text)")
            }
        }
    }

    func client(_ target: Target) throws -> any AtlassianProduct {
        target.name == "jira"
            ? try JiraClient(baseURL: target.url, credentials: target.credentials)
            : try ConfluenceClient(baseURL: target.url, credentials: target.credentials)
    }
}
