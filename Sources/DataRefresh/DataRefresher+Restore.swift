import Foundation
import S3Sync

// The data steps of a refresh: check the snapshot, restore the databases, sync the shared homes.

extension DataRefresher {
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

    /// Restores each target's database from the snapshot's dump into a fresh database created
    /// as the product's documentation asks and owned by the target's owner role, then swaps it
    /// in (``RestoreOptions``: downloaded and checked against its SHA-256 first, or streamed
    /// with the check at the end, before the swap).
    func restoreDatabases(_ manifest: SnapshotManifest) async throws {
        let base = location.prefix(of: manifest.id)
        let options = restoreOptions
        for target in targets {
            let data = try product(target.name, in: manifest)
            let creation = target.creation ?? .for(target.product)
            let key = base + data.dumpKey
            let started = ContinuousClock.now
            let arguments: [String]
            if options.streams {
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
                try await PostgresTools.download(
                    s3, bucket: location.bucket, key: key, to: file, bytes: data.dumpBytes, sha256: data.dumpSHA256)
                logger.info(
                    "restoring database",
                    metadata: ["product": "\(target.name)", "bytes": "\(data.dumpBytes)", "jobs": "\(options.jobs)"])
                arguments = try await PostgresTools.restore(
                    .file(file), into: target.database, owner: target.owner, creation: creation, jobs: options.jobs)
            }
            logger.info(
                "database restored",
                metadata: [
                    "product": "\(target.name)", "bytes": "\(data.dumpBytes)",
                    "owner": "\(target.owner ?? target.database.user)",
                    "pg_restore": "\(arguments.joined(separator: " "))",
                    "seconds": "\((ContinuousClock.now - started).components.seconds)",
                ])
        }
    }

    /// Syncs each target's shared home from the snapshot, with delete, and checks that what is
    /// there afterwards is exactly the snapshot.
    func syncSharedHomes(_ manifest: SnapshotManifest) async throws {
        let base = location.prefix(of: manifest.id)
        for target in targets {
            let data = try product(target.name, in: manifest)
            try FileManager.default.createDirectory(atPath: target.sharedHome, withIntermediateDirectories: true)
            let engine = try SyncEngine(
                source: .s3(bucket: location.bucket, prefix: base + data.sharedHomePrefix),
                destination: .local(target.sharedHome), sourceClient: s3,
                configuration: .init(options: SyncOptions(delete: true)))
            let summary = try await engine.sync()
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
    }
}
