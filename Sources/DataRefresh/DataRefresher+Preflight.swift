import AtlassianAdmin
import Foundation
import NIOCore
import S3Sync

// The checks of a refresh's first step that need the target's database server and the dump:
// everything that can be known to fail is found before the applications are stopped.

extension DataRefresher {
    /// Refuses the refresh before anything is stopped when it could only fail later, target by
    /// target:
    ///
    /// 1. the admin role connects (TLS as configured), may create databases, and the owner role
    ///    exists and the admin role may act as it (``DataRefreshError/Kind/databaseUnreachable``,
    ///    ``DataRefreshError/Kind/databaseRole``);
    /// 2. `<name>_restore`, the database the restore uses, can be created as the restore creates
    ///    it (encoding, locale, template, owner), and is dropped again;
    /// 3. the dump's header says the local `pg_restore` can read it
    ///    (``DataRefreshError/Kind/unsupportedDump``);
    /// 4. the snapshot's product build is the target's (``Target/expectedBuild``, else the build in
    ///    the target's current database) (``DataRefreshError/Kind/versionMismatch``);
    /// 5. a download has the free space it needs in the work directory
    ///    (``DataRefreshError/Kind/insufficientDiskSpace``).
    func checkBeforeStopping(_ manifest: SnapshotManifest) async throws {
        for target in targets {
            let data = try product(target.name, in: manifest)
            try await PostgresTools.checkAdmin(target.database, owner: target.owner)
            let scratch = target.database.database + "_restore"  // the restore drops and recreates it anyway
            let admin = target.database.database("postgres")
            try await PostgresTools.sql(admin, "DROP DATABASE IF EXISTS \(PostgresTools.quoted(scratch))")
            let locale = try await PostgresTools.createDatabase(
                scratch, on: admin, creation: target.creation ?? .for(target.product), owner: target.owner)
            try await PostgresTools.sql(admin, "DROP DATABASE IF EXISTS \(PostgresTools.quoted(scratch))")
            let header = try await checkDump(data, of: manifest)
            try await checkBuild(data, of: manifest, for: target)
            if data.format == .directory, restoreOptions.transfer == .stream {
                throw DataRefreshError(
                    "the \(data.name) dump of snapshot \(manifest.id) is a directory-format dump (pg_dump --jobs), which pg_restore reads only from a folder, so it cannot be streamed; use transfer automatic or download (it needs \(Self.bytes(RestoreOptions.spaceNeeded(forDump: data.dumpBytes))) free in \(workDirectory)). Nothing was changed",
                    kind: .unsupportedDump)
            }
            let streams = restoreOptions.streams(data.format)
            if !streams { try checkFreeSpace(for: data) }
            logger.info(
                "target checked",
                metadata: [
                    "product": "\(target.name)", "owner": "\(target.owner ?? target.database.user)",
                    "locale": "\(locale)",
                    "dump": "pg_dump \(header.dumpVersion ?? "?") (\(header.archiveVersionText))",
                    "build": "\(data.buildNumber.map(String.init) ?? "unknown")",
                    "transfer": "\(streams ? "stream" : "download, \(restoreOptions.jobs) jobs")",
                    "format": "\(data.format)",
                ])
        }
    }

    /// Reads the first bytes of the product's dump and refuses one the local `pg_restore` cannot read.
    func checkDump(_ data: SnapshotManifest.Product, of manifest: SnapshotManifest) async throws -> DumpHeader {
        guard data.dumpBytes > 0 else {
            throw DataRefreshError("snapshot \(manifest.id) has an empty \(data.name) dump", kind: .unexpectedlyEmpty)
        }
        var key = location.prefix(of: manifest.id) + data.dumpKey
        var bytes = data.dumpBytes
        if data.format == .directory {
            // The archive's header is at the start of its index, toc.dat.
            guard let toc = data.dumpFiles?.first(where: { $0.name == "toc.dat" }), toc.bytes > 0 else {
                throw DataRefreshError(
                    "the \(data.name) dump of snapshot \(manifest.id) is a directory dump without toc.dat, which pg_restore cannot read; nothing was changed. Take a new snapshot",
                    kind: .mismatch)
            }
            key += toc.name
            bytes = toc.bytes
        }
        let prefix = try await s3.getObject(
            bucket: location.bucket, key: key, range: 0...(min(Int64(64 << 10), bytes) - 1)
        ) { _, body in
            var collected = Data()
            for try await buffer in body { collected.append(contentsOf: buffer.readableBytesView) }
            return collected
        }
        return try await PostgresTools.checkRestorable(
            prefix, format: data.format, name: "the \(data.name) dump of snapshot \(manifest.id)",
            workDirectory: workDirectory)
    }

    /// Refuses a snapshot whose product build is not the target's.
    func checkBuild(_ data: SnapshotManifest.Product, of manifest: SnapshotManifest, for target: Target) async throws {
        guard let snapshotBuild = data.buildNumber, let product = target.product else {
            logger.warning(
                "the snapshot records no product build; the target's build is not compared",
                metadata: ["product": "\(data.name)", "snapshot": "\(manifest.id)"])
            return
        }
        var targetBuild = target.expectedBuild
        var source = "the configured expected build"
        if targetBuild == nil {
            let current: (build: Int, version: String?)?
            do {
                current = try await PostgresTools.productBuild(target.database, product: product)
            } catch {
                throw DataRefreshError(
                    "cannot read the build of \(target.name)'s current database \(target.database.database) as \(target.database.user) (\(error)); let the admin role read it (GRANT \(target.owner ?? "<owner>") TO \(target.database.user)) or set the target's expectedBuild. Nothing was changed",
                    kind: .databaseRole, underlying: error)
            }
            if let current {
                targetBuild = current.build
                source = "its current database \(target.database.database)"
            }
        }
        guard let targetBuild else {
            logger.warning(
                "the target's product build is unknown (no database yet, no expectedBuild); not compared",
                metadata: ["product": "\(data.name)", "snapshot build": "\(snapshotBuild)"])
            return
        }
        guard targetBuild == snapshotBuild else {
            let consequence =
                product == .confluence
                ? "Confluence does not start on a database of another build"
                : "Jira would upgrade a database of an older build, or refuse one of a newer build, at start"
            throw DataRefreshError(
                "snapshot \(manifest.id) holds \(data.name) build \(snapshotBuild)\(data.version.map { " (\($0))" } ?? ""), the target runs build \(targetBuild) (\(source)); \(consequence). Upgrade or downgrade the target's application to PROD's build first (then set expectedBuild to \(snapshotBuild)), or choose a snapshot of build \(targetBuild). Nothing was changed",
                kind: .versionMismatch)
        }
    }

    /// Refuses a download of `data`'s dump when the work directory's file system has too little free space.
    func checkFreeSpace(for data: SnapshotManifest.Product) throws {
        let needed = RestoreOptions.spaceNeeded(forDump: data.dumpBytes)
        let free = try restoreOptions.freeSpace(workDirectory)
        guard free >= needed else {
            throw DataRefreshError(
                "the \(data.name) dump needs \(Self.bytes(needed)) free in \(workDirectory) to download (the dump is \(Self.bytes(data.dumpBytes))), only \(Self.bytes(free)) is free; free some space, point the work directory at a larger disk, or stream the dump into pg_restore (transfer: stream, one job). Nothing was changed",
                kind: .insufficientDiskSpace)
        }
    }

    /// `bytes` for people: `1.5 GiB (1610612736 bytes)`.
    static func bytes(_ count: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) bytes" : String(format: "%.1f %@ (%lld bytes)", value, units[unit], count)
    }
}
