import Foundation
import S3Sync

// The data steps of a refresh: check the snapshot, restore the databases, sync the shared homes.

extension DataRefresher {
    /// Refuses a product's snapshot data that cannot be a real shared home, or whose home
    /// manifest is not the one the snapshot recorded, before anything is stopped or written.
    func checkSnapshot(_ data: SnapshotManifest.Product, of manifest: SnapshotManifest) async throws {
        guard data.sharedHomeObjects > 0 else {
            throw DataRefreshError(
                "snapshot \(manifest.id) holds no shared-home files for \(data.name); restoring it would empty DEV's shared home, so nothing was changed. Choose another snapshot",
                kind: .unexpectedlyEmpty)
        }
        // Checked here, before anything changes; fetched again (and checked again) by the sync.
        _ = try await homeManifest(data, of: manifest)
        try? FileManager.default.removeItem(atPath: "\(workDirectory)/home-manifests")
    }

    /// The product's home manifest, downloaded into the work directory and checked against the
    /// SHA-256 the snapshot recorded.
    func homeManifest(_ data: SnapshotManifest.Product, of manifest: SnapshotManifest) async throws -> String {
        let path = try await HomeManifest.download(
            s3, location: location, snapshot: manifest.id, key: data.sharedHomeManifest,
            into: "\(workDirectory)/home-manifests/\(manifest.id)/\(data.name)")
        let sha256 = try await Blocking.run { try HomeManifest.sha256(ofFile: path) }
        guard sha256 == data.sharedHomeManifestSHA256 else {
            try? FileManager.default.removeItem(atPath: path)
            throw DataRefreshError(
                "the home manifest of \(data.name) in snapshot \(manifest.id) has SHA-256 \(sha256), its snapshot recorded \(data.sharedHomeManifestSHA256); it was changed after it was taken, so nothing was changed. Choose another snapshot",
                kind: .mismatch)
        }
        return path
    }

    /// Restores each target's database from the snapshot's dump into a fresh database created
    /// as the product's documentation asks and owned by the target's owner role, then swaps it
    /// in (``RestoreOptions``: downloaded and checked against its SHA-256 first (a directory
    /// dump file by file, ``RestoreOptions/jobs`` at a time), or streamed with the check at the
    /// end, before the swap).
    func restoreDatabases(_ manifest: SnapshotManifest) async throws {
        let base = location.prefix(of: manifest.id)
        let options = restoreOptions
        for target in targets {
            let data = try product(target.name, in: manifest)
            let creation = target.creation ?? .for(target.product)
            let key = base + data.dumpKey
            let started = ContinuousClock.now
            let arguments: [String]
            if options.streams(data.format) {
                logger.info(
                    "restoring database (streamed from S3, one pg_restore job)",
                    metadata: ["product": "\(target.name)", "bytes": "\(data.dumpBytes)"])
                arguments = try await PostgresTools.restore(
                    .stream(
                        s3, bucket: location.bucket, key: key, bytes: data.dumpBytes, sha256: data.dumpSHA256,
                        workDirectory: workDirectory),
                    into: target.database, owner: target.owner, creation: creation, jobs: 1)
            } else {
                try checkFreeSpace(for: data)
                let file = "\(workDirectory)/\(target.name)-\(manifest.id).dump"
                defer { try? FileManager.default.removeItem(atPath: file) }
                if data.format == .directory {
                    let files = data.dumpFiles ?? []
                    guard DumpFile.digest(of: files) == data.dumpSHA256 else {
                        throw DataRefreshError(
                            "the \(data.name) dump's file list in snapshot \(manifest.id) does not match its SHA-256; nothing was restored. Take a new snapshot",
                            kind: .mismatch)
                    }
                    try await PostgresTools.downloadDirectory(
                        s3, bucket: location.bucket, prefix: key, files: files, into: file, jobs: options.jobs)
                } else {
                    try await PostgresTools.download(
                        s3, bucket: location.bucket, key: key, to: file, bytes: data.dumpBytes, sha256: data.dumpSHA256)
                }
                logger.info(
                    "restoring database",
                    metadata: [
                        "product": "\(target.name)", "bytes": "\(data.dumpBytes)", "jobs": "\(options.jobs)",
                        "format": "\(data.format)", "downloadSeconds": "\((ContinuousClock.now - started).components.seconds)",
                    ])
                arguments = try await PostgresTools.restore(
                    .file(file), into: target.database, owner: target.owner, creation: creation, jobs: options.jobs)
            }
            logger.info(
                "database restored",
                metadata: [
                    "product": "\(target.name)", "bytes": "\(data.dumpBytes)",
                    "owner": "\(target.owner ?? target.database.user)",
                    "pg_restore": "\(arguments.joined(separator: " "))",
                    "seconds": "\(String(format: "%.1f", (ContinuousClock.now - started).seconds))",
                ])
        }
    }

    /// Brings each target's shared home to the snapshot's: the home manifest is merged with a
    /// walk of the home, so only the files that differ (by size or time) are fetched from the
    /// content store, each checked against its SHA-256 and given the snapshot's time; files the
    /// snapshot does not have are deleted (within ``RestoreOptions/maxDelete``). Afterwards the
    /// home is compared with the manifest again: every file must be in sync.
    func syncSharedHomes(_ manifest: SnapshotManifest) async throws {
        for target in targets {
            let data = try product(target.name, in: manifest)
            let manifestPath = try await homeManifest(data, of: manifest)
            try FileManager.default.createDirectory(atPath: target.sharedHome, withIntermediateDirectories: true)
            let engine = try SyncEngine(
                source: .s3(bucket: location.bucket, prefix: location.contentPrefix),
                destination: .local(target.sharedHome), sourceClient: s3,
                configuration: .init(
                    options: SyncOptions(
                        compare: .exactTimestamps, delete: true, maxDelete: restoreOptions.maxDelete)))
            let summary = try await engine.sync(sourceListing: try HomeManifest.Reader(path: manifestPath))
            guard summary.succeeded else {
                let why =
                    summary.deletionsWithheldBecause == .deleteLimit
                    ? summary.deletionsWithheld ?? "" : "\(summary.failures.count) failed, first: \(summary.failures.first.map { "\($0.key): \($0.message)" } ?? "none")"
                throw DataRefreshError(
                    "the shared home of \(target.name) did not sync completely (\(why)); re-run to resume")
            }
            // What is there now must be the snapshot: nothing left to do, every file accounted for.
            var left = 0
            var inSync = 0
            try await engine.forEachDecision(sourceListing: try HomeManifest.Reader(path: manifestPath)) { batch in
                for decision in batch {
                    if case .unchanged = decision { inSync += 1 } else { left += 1 }
                }
            }
            guard left == 0, inSync == data.sharedHomeObjects else {
                throw DataRefreshError(
                    "after restoring the shared home of \(target.name), \(target.sharedHome) holds \(inSync) of the \(data.sharedHomeObjects) files of snapshot \(manifest.id) (\(left) differ or are extra); re-run to resume",
                    kind: .mismatch)
            }
            logger.info(
                "shared home synced",
                metadata: [
                    "product": "\(target.name)", "transferred": "\(summary.transferred)",
                    "deleted": "\(summary.deleted)", "bytes": "\(summary.transferredBytes)",
                    "unchanged": "\(summary.unchanged)",
                ])
        }
        try? FileManager.default.removeItem(atPath: "\(workDirectory)/home-manifests")
    }
}
