import AWSCore
import DataRefresh
import Foundation
import Logging
import S3Sync

// The steps only nightly has: data-provider (PROD's data into a snapshot) and data-refresher
// (the snapshot into DEV).

extension Pipeline {
    func snapshotClient() throws -> (PipelineConfig.Snapshots, S3Client) {
        guard let snapshots = config.snapshots else {
            throw PipelineError(
                "the config has no snapshots section (account, bucket) for the data steps", kind: .incompleteConfig)
        }
        return (snapshots, snapshotClients!.s3)
    }

    func dataProvider(_ options: Options) throws -> PhaseStep {
        let prod = config.productionEnvironment
        let (snapshots, s3) = try snapshotClient()
        let location = SnapshotLocation(bucket: snapshots.bucket, prefix: snapshots.prefix ?? "snapshots/")
        let applications = (prod.applications ?? [:]).sorted { $0.key < $1.key }
        let crossAccount = snapshots.account != prod.account
        let dump = DataProvider.DumpOptions(
            format: snapshots.dumpFormat.flatMap(DumpFormat.init(rawValue:)) ?? .custom, jobs: snapshots.dumpJobs ?? 4,
            workDirectory: URL(fileURLWithPath: options.workDirectory).appendingPathComponent("dump").path)
        return PhaseStep(
            "data-provider",
            plan: {
                let lines = try applications.map { name, app in
                    "would dump \(try Self.database(app, name, in: prod)) (\(dump.format == .directory ? "pg_dump -Fd, \(dump.jobs) jobs" : "pg_dump -Fc")) and sync \(self.config.path(try Self.home(app, name, in: prod)))"
                }
                return
                    (lines + [
                        "into s3://\(location.bucket)/\(location.prefix)<new id>/, keeping \(snapshots.keep ?? 3)"
                    ])
                    .joined(separator: "\n")
            },
            run: {
                let secrets = self.secrets(prod)
                var sources: [DataProvider.Source] = []
                for (name, app) in applications {
                    sources.append(
                        DataProvider.Source(
                            name: name, database: try await self.database(app, name, in: prod, secrets: secrets),
                            sharedHome: self.config.path(try Self.home(app, name, in: prod)), version: app.version))
                }
                let manifest = try await DataProvider(
                    environment: prod.name, sources: sources, location: location, s3: s3, keep: snapshots.keep ?? 3,
                    writeOptions: .init(acl: crossAccount ? "bucket-owner-full-control" : nil),
                    dump: dump,
                    logger: Logger(label: "atlas-relay.data-provider")
                ).provide()
                return [
                    "snapshot": manifest.id,
                    "dumpBytes": "\(manifest.products.reduce(0) { $0 + $1.dumpBytes })",
                    "homeObjects": "\(manifest.products.reduce(0) { $0 + $1.sharedHomeObjects })",
                    "homeBytes": "\(manifest.products.reduce(0) { $0 + $1.sharedHomeBytes })",
                ]
            })
    }

    /// The data-refresher steps of the nightly phase: one per environment it refreshes, the
    /// first named `data-refresher`, the others `data-refresher-<environment>`.
    func nightlyRefreshers(_ options: Options) throws -> [PhaseStep] {
        try config.nightlyRefreshes.enumerated().map { index, environment in
            try dataRefresher(environment, options, name: index == 0 ? "data-refresher" : "data-refresher-\(environment.name)")
        }
    }

    /// A step that refreshes `dev` (the name is the environment's: dev or uat) from the newest
    /// complete snapshot.
    func dataRefresher(_ dev: PipelineConfig.Environment, _ options: Options, name: String = "data-refresher") throws
        -> PhaseStep
    {
        let prod = config.productionEnvironment
        let (snapshots, s3) = try snapshotClient()
        let location = SnapshotLocation(bucket: snapshots.bucket, prefix: snapshots.prefix ?? "snapshots/")
        let settings = config.settings(of: dev)
        let work = URL(fileURLWithPath: options.workDirectory).appendingPathComponent("refresh-\(dev.name)").path
        @Sendable func refresher() async throws -> DataRefresher {
            let secrets = self.secrets(dev)
            var targets: [DataRefresher.Target] = []
            for (name, app) in (dev.applications ?? [:]).sorted(by: { $0.key < $1.key }) {
                targets.append(
                    DataRefresher.Target(
                        name: name, database: try await self.database(app, name, in: dev, secrets: secrets),
                        sharedHome: self.config.path(try Self.home(app, name, in: dev)), url: app.url,
                        credentials: try await self.credentials(app, secrets: secrets), owner: app.database?.owner))
            }
            var licences: [String: String] = [:]
            for (product, reference) in dev.refresh?.licences ?? [:] {
                licences[product] = try await secrets.resolve(reference)
            }
            var restore = DataRefresher.RestoreOptions(
                reindex: dev.refresh?.reindex.flatMap(DataRefresher.ReindexMode.init(rawValue:)) ?? .background,
                reindexPollInterval: options.pollInterval)
            if let jobs = dev.refresh?.jobs { restore.jobs = jobs }
            if let limit = dev.refresh?.maxDelete { restore.maxDelete = limit == "none" ? nil : try DeleteLimit(parsing: limit) }
            let production = DataRefresher.ProductionGuard(
                databases: try (prod.applications ?? [:]).sorted { $0.key < $1.key }.map {
                    try Self.database($1, $0, in: prod)
                },
                urls: config.productionURLs,
                sharedHomes: (prod.applications ?? [:]).values.compactMap(\.sharedHome).map(self.config.path))
            let control = self.applicationControl[dev.name] ?? self.control(of: dev)
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            return DataRefresher(
                settings: settings, targets: targets, location: location, s3: s3, production: production,
                control: control, workDirectory: work, restore: restore, licences: licences,
                logger: Logger(label: "atlas-relay.data-refresher"))
        }
        return PhaseStep(
            name, writesTo: dev.name,
            plan: {
                let refresher = try await refresher()
                guard try await location.snapshots(s3).complete.isEmpty else { return try await refresher.plan().text }
                try refresher.checkTarget()
                return "would restore the snapshot data-provider takes into "
                    + refresher.targets.map { "\($0.name) (\($0.database), \($0.sharedHome))" }.joined(separator: ", ")
                    + ", then rewrite \(dev.name)'s settings (mail off first) and verify them"
            },
            run: {
                let manifest = try await refresher().refresh()
                return ["snapshot": manifest.id, "products": manifest.products.map(\.name).joined(separator: ",")]
            })
    }

    /// The config's way of stopping and starting `environment`'s applications.
    func control(of environment: PipelineConfig.Environment) -> DataRefresher.ApplicationControl {
        guard let control = environment.control else { return .none }
        if let group = control.autoScalingGroup, let capacity = control.capacity {
            return .autoScaling(AutoScalingClient(clients(of: environment).aws), group: group, capacity: capacity)
        }
        if let stop = control.stop, let start = control.start { return .commands(stop: stop, start: start) }
        return .none
    }
}
