import Crypto
import AtlassianAdmin
import Foundation
import RelayFoundation
import S3Sync

// Restoring a dump from S3: downloaded (a custom archive or a directory dump's files) or streamed.

extension PostgresTools {
    /// Downloads `bucket/key` to `file`, checking its size and SHA-256 before anything uses it.
    ///
    /// The dump comes in `rangeSize` ranges, one after another, so each request ends well within
    /// the request deadline whatever the dump's size (a single GET of hundreds of gigabytes would
    /// not), and the object's size is checked against the manifest's from the first answer on.
    static func download(
        _ s3: S3Client, bucket: String, key: String, to file: String, bytes: Int64, sha256: String,
        rangeSize: Int64 = 64 << 20
    ) async throws {
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: file) else {
            throw DataRefreshError("cannot write \(file); check the work directory")
        }
        defer { try? handle.close() }
        var hash = SHA256()
        var count: Int64 = 0
        func corrupt(_ count: Int64, _ digest: String) -> DataRefreshError {
            DataRefreshError(
                "the dump s3://\(bucket)/\(key) is corrupt: \(count) bytes with SHA-256 \(digest), the manifest says "
                    + "\(bytes) bytes with \(sha256); nothing was restored. Take a new snapshot", kind: .mismatch)
        }
        repeat {
            let range = bytes > 0 ? count...(min(count + max(rangeSize, 1), bytes) - 1) : nil
            let objectSize = try await s3.getObject(bucket: bucket, key: key, range: range) { head, body in
                for try await buffer in body {
                    let data = Data(buffer.readableBytesView)
                    hash.update(data: data)
                    count += Int64(data.count)
                    try handle.write(contentsOf: data)
                }
                return head.size
            }
            guard objectSize == bytes, count == (range.map { $0.upperBound + 1 } ?? count) else {
                throw corrupt(objectSize, "unknown (the object's size differs)")
            }
        } while count < bytes
        let digest = Hex.string(hash.finalize())
        guard count == bytes, digest == sha256 else { throw corrupt(count, digest) }
    }

    /// Downloads a directory-format dump's `files` from `prefix` into `folder` (created), `jobs`
    /// files at a time, each checked against its size and SHA-256 (``download(_:bucket:key:to:bytes:sha256:rangeSize:)``).
    /// A file the snapshot records that is missing or differs fails the download before
    /// `pg_restore` reads anything.
    static func downloadDirectory(
        _ s3: S3Client, bucket: String, prefix: String, files: [DumpFile], into folder: String, jobs: Int
    ) async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard files.contains(where: { $0.name == "toc.dat" }) else {
            throw DataRefreshError(
                "the directory dump s3://\(bucket)/\(prefix) records no toc.dat, so pg_restore cannot read it; nothing was restored. Take a new snapshot",
                kind: .mismatch)
        }
        let permits = AsyncSemaphore(max(1, jobs))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for file in files {
                guard !file.name.contains("/"), file.name != "..", file.name != "." else {
                    throw DataRefreshError(
                        "the directory dump s3://\(bucket)/\(prefix) records a file named '\(file.name)', which is not a file of a pg_dump folder; nothing was restored. Take a new snapshot",
                        kind: .mismatch)
                }
                group.addTask {
                    try await permits.withPermit {
                        try await download(
                            s3, bucket: bucket, key: prefix + file.name, to: folder + "/" + file.name, bytes: file.bytes,
                            sha256: file.sha256)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Where `pg_restore` reads the dump from.
    enum RestoreSource {
        /// A downloaded dump, already checked against its SHA-256: a custom-format archive, or the
        /// folder of a directory-format dump (``downloadDirectory(_:bucket:prefix:files:into:jobs:)``).
        case file(String)
        /// Streamed from S3 through a named pipe in `workDirectory`, checked against `bytes` and
        /// `sha256` when it ends, before the restored database is swapped in.
        case stream(
            S3Client, bucket: String, key: String, bytes: Int64, sha256: String, workDirectory: String,
            rangeSize: Int64 = 64 << 20)
    }

    /// Creates database `name` next to `admin`'s as `creation` says (encoding, the first locale
    /// the server accepts for `LC_COLLATE` and `LC_CTYPE`, template), owned by `owner` (nil: the
    /// admin role).
    ///
    /// - Returns: the locale used.
    @discardableResult
    static func createDatabase(
        _ name: String, on admin: DatabaseLocation, creation: DataRefresher.DatabaseCreation, owner: String?
    ) async throws -> String {
        var refused: [String] = []
        for locale in creation.locales {
            let statement =
                "CREATE DATABASE \(quoted(name)) WITH TEMPLATE \(quoted(creation.template)) ENCODING \(literal(creation.encoding)) "
                + "LC_COLLATE \(literal(locale)) LC_CTYPE \(literal(locale))"
                + (owner.map { " OWNER \(quoted($0))" } ?? "")
            do {
                try await sql(admin.database("postgres"), statement)
                return locale
            } catch let error as DataRefreshError where error.description.contains("invalid locale name") {
                refused.append(locale)
            }
        }
        throw DataRefreshError(
            "the database server \(admin.host) knows none of the locales \(refused.joined(separator: ", ")) for \(name); "
                + "set the target's database creation locales to one it has (SELECT collcollate FROM pg_collation)",
            kind: .databaseRole)
    }

    /// Restores a dump into a fresh database next to `target`, then swaps it in: the old
    /// database is kept as `<name>_previous` until the next refresh, so a failed restore leaves
    /// the old one in place and usable.
    ///
    /// The fresh database is created as `creation` says and owned by `owner`; `pg_restore` runs
    /// with `--no-owner --no-privileges --role=<owner>`, so every object it creates is created,
    /// and owned, by `owner` (the admin role must be a member of it, as a superuser or
    /// `rds_superuser` with `GRANT <owner> TO <admin>` is), and PROD's grants to roles DEV may
    /// not have are left out: the owner has every privilege on what it owns. Without `owner` the
    /// objects belong to the admin role.
    ///
    /// - Parameters:
    ///   - jobs: `pg_restore --jobs` for a downloaded dump; a stream is read in one pass (one job).
    /// - Returns: the `pg_restore` arguments used (no secrets: those are in its environment).
    @discardableResult
    static func restore(
        _ source: RestoreSource, into target: DatabaseLocation, owner: String?,
        creation: DataRefresher.DatabaseCreation, jobs: Int
    ) async throws -> [String] {
        let fresh = target.database + "_restore"
        let previous = target.database + "_previous"
        let admin = target.database("postgres")
        try await sql(admin, "DROP DATABASE IF EXISTS \(quoted(fresh))")
        try await createDatabase(fresh, on: admin, creation: creation, owner: owner)
        var arguments = ["--no-owner", "--no-privileges", "--exit-on-error", "--dbname=\(fresh)"]
        if let owner { arguments.append("--role=\(owner)") }
        let environment = target.database(fresh).libpqEnvironment
        let output: ProcessRunner.Output
        switch source {
        case .file(let file):
            arguments += ["--jobs=\(max(1, jobs))", file]
            output = try await ProcessRunner.run(
                try path(of: "pg_restore"), arguments, environment: environment, timeout: .seconds(6 * 3600))
        case .stream(let s3, let bucket, let key, let bytes, let sha256, let workDirectory, let rangeSize):
            output = try await streamRestore(
                arguments: arguments, environment: environment, s3: s3, bucket: bucket, key: key, bytes: bytes,
                sha256: sha256, workDirectory: workDirectory, rangeSize: rangeSize, fresh: fresh,
                target: target.database)
        }
        guard output.status == 0 else {
            throw DataRefreshError(
                "pg_restore into \(fresh) failed (exit \(output.status)): \(output.errorText.prefix(500)); "
                    + "\(target.database) was not touched")
        }
        try await sql(admin, "DROP DATABASE IF EXISTS \(quoted(previous))")
        try await sql(
            admin,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(literal(target.database)) AND pid <> pg_backend_pid()"
        )
        let exists = try await sql(admin, "SELECT 1 FROM pg_database WHERE datname = \(literal(target.database))")
        if exists == "1" {
            try await sql(admin, "ALTER DATABASE \(quoted(target.database)) RENAME TO \(quoted(previous))")
        }
        try await sql(admin, "ALTER DATABASE \(quoted(fresh)) RENAME TO \(quoted(target.database))")
        return arguments
    }

    /// Runs `pg_restore` on a named pipe that the dump is streamed into from S3, in ranges, with
    /// its size and SHA-256 checked at the end: a short or corrupt dump fails the restore before
    /// anything is swapped in.
    static func streamRestore(
        arguments: [String], environment: [String: String], s3: S3Client, bucket: String, key: String, bytes: Int64,
        sha256: String, workDirectory: String, rangeSize: Int64, fresh: String, target: String
    ) async throws -> ProcessRunner.Output {
        let fifo = "\(workDirectory)/\(fresh)-\(UUID().uuidString.prefix(8)).pipe"
        guard mkfifo(fifo, 0o600) == 0 else {
            throw DataRefreshError("cannot make the pipe \(fifo) (errno \(errno)); check the work directory")
        }
        defer { unlink(fifo) }
        // A pg_restore that fails early closes the pipe: the write must fail (EPIPE), not kill us.
        signal(SIGPIPE, SIG_IGN)
        // pg_restore reopens a file it is given by name after reading its header, which a pipe
        // cannot replay: it must read the pipe as its standard input (the shell opens it once).
        let executable = try path(of: "pg_restore")
        var shellEnvironment = environment
        shellEnvironment["ATLAS_RELAY_DUMP_PIPE"] = fifo
        let restore = Task {
            try await ProcessRunner.run(
                "/bin/sh", ["-c", "exec \"$0\" \"$@\" < \"$ATLAS_RELAY_DUMP_PIPE\"", executable] + arguments,
                environment: shellEnvironment, timeout: .seconds(6 * 3600))
        }
        var descriptor: Int32 = -1
        let opening = ContinuousClock.now
        while descriptor < 0 {
            descriptor = open(fifo, O_WRONLY | O_NONBLOCK)
            if descriptor >= 0 { break }
            guard errno == ENXIO, ContinuousClock.now - opening < .seconds(60) else {
                restore.cancel()
                let output = try? await restore.value
                throw DataRefreshError(
                    "pg_restore did not open the dump stream: \(output?.errorText ?? "errno \(errno)"); \(target) was not touched"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        _ = fcntl(descriptor, 1031 /* F_SETPIPE_SZ */, 1 << 20)
        let fd = descriptor
        var hash = SHA256()
        var count: Int64 = 0
        var streamError: (any Error)?
        do {
            repeat {
                let range = count...(min(count + max(rangeSize, 1), bytes) - 1)
                let objectSize = try await s3.getObject(bucket: bucket, key: key, range: range) { head, body in
                    for try await buffer in body {
                        let data = Data(buffer.readableBytesView)
                        hash.update(data: data)
                        count += Int64(data.count)
                        try await writeAll(fd, data)
                    }
                    return head.size
                }
                guard objectSize == bytes, count == range.upperBound + 1 else {
                    throw DataRefreshError(
                        "the dump s3://\(bucket)/\(key) is \(objectSize) bytes, the manifest says \(bytes); nothing was restored. Take a new snapshot",
                        kind: .mismatch)
                }
            } while count < bytes
        } catch {
            streamError = error
        }
        close(fd)
        let output = try await restore.value
        if let streamError {
            // pg_restore stopping first is the real cause of a broken pipe: report its error.
            if output.status != 0, (streamError as? POSIXError)?.code == .EPIPE { return output }
            throw streamError
        }
        let digest = Hex.string(hash.finalize())
        guard digest == sha256 else {
            throw DataRefreshError(
                "the dump s3://\(bucket)/\(key) is corrupt: \(count) bytes with SHA-256 \(digest), the manifest says "
                    + "\(bytes) bytes with \(sha256); the restored copy was not swapped in, \(target) was not touched. Take a new snapshot",
                kind: .mismatch)
        }
        return output
    }

    /// Writes all of `data` to `descriptor`, blocking a thread outside the cooperative pool.
    static func writeAll(_ descriptor: Int32, _ data: Data) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                let failure: Int32? = data.withUnsafeBytes { raw -> Int32? in
                    guard let base = raw.baseAddress else { return nil }
                    var offset = 0
                    while offset < raw.count {
                        let written = write(descriptor, base + offset, raw.count - offset)
                        if written < 0 {
                            if errno == EINTR { continue }
                            return errno
                        }
                        offset += written
                    }
                    return nil
                }
                if let failure {
                    continuation.resume(throwing: POSIXError(POSIXErrorCode(rawValue: failure) ?? .EIO))
                } else {
                    continuation.resume()
                }
            }
        }
    }
}
