import AtlassianAdmin
import Crypto
import Foundation
import NIOCore
import RelayFoundation
import S3Sync

/// `pg_dump` and `pg_restore`, the real tools, with credentials passed through the libpq
/// environment (never on a command line).
enum PostgresTools {
    /// The absolute path of `tool` on `PATH`.
    static func path(of tool: String) throws -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw DataRefreshError("\(tool) is not installed (apt install postgresql-client)")
    }

    /// Streams `pg_dump -Fc` of `database` into a multipart upload at `bucket/key`, never staged
    /// on disk. Parts grow as the dump does (``DumpPartSizing``), so a dump of any size up to
    /// about 12 TiB fits in S3's 10,000 parts; one part is in memory at a time, besides at most
    /// three 16 MiB chunks of `pg_dump`'s output.
    ///
    /// - Returns: the dump's size and SHA-256 (hex).
    static func dump(
        _ database: DatabaseLocation, to s3: S3Client, bucket: String, key: String,
        writeOptions: S3Client.WriteOptions
    ) async throws -> (bytes: Int64, sha256: String) {
        let dump = try StreamingProcess.start(
            try path(of: "pg_dump"), ["--format=custom", "--no-owner", "--no-privileges"],
            environment: database.libpqEnvironment, chunkSize: Int(DumpPartSizing.basePartSize))
        let uploadId: String
        do {
            uploadId = try await s3.createMultipartUpload(bucket: bucket, key: key, options: writeOptions)
        } catch {
            dump.terminate()
            throw error
        }
        var hash = SHA256()
        var bytes: Int64 = 0
        var parts: [S3Client.CompletedPart] = []
        var part = Data()
        func upload() async throws {
            guard parts.count < S3Client.maximumParts else {
                throw DataRefreshError(
                    "the dump of \(database) is larger than \(DumpPartSizing.capacity) bytes, the most 10,000 parts hold"
                )
            }
            parts.append(
                try await s3.uploadPart(
                    bucket: bucket, key: key, uploadId: uploadId, partNumber: parts.count + 1,
                    data: ByteBuffer(bytes: part)))
            part = Data()
        }
        do {
            for try await chunk in dump.chunks {
                defer { dump.consumed() }
                hash.update(data: chunk)
                bytes += Int64(chunk.count)
                part.append(chunk)
                if Int64(part.count) >= DumpPartSizing.partSize(partNumber: parts.count + 1) { try await upload() }
            }
            let exit = await dump.exit()
            guard exit.status == 0, bytes > 0 else {
                throw DataRefreshError("pg_dump of \(database) failed (exit \(exit.status)): \(exit.errorText)")
            }
            if !part.isEmpty { try await upload() }
            _ = try await s3.completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId, parts: parts)
        } catch {
            dump.terminate()
            try? await s3.abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadId)
            throw error
        }
        return (bytes, Hex.string(hash.finalize()))
    }

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

    /// Where `pg_restore` reads the dump from.
    enum RestoreSource {
        /// A downloaded dump, already checked against its SHA-256.
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
    ///   - jobs: `pg_restore --jobs` for a file; a stream is read in one pass (one job).
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

    /// The major version of the local `pg_restore` (`15` for `pg_restore (PostgreSQL) 15.18`).
    static func localRestoreMajor() async throws -> Int {
        let output = try await ProcessRunner.run(try path(of: "pg_restore"), ["--version"], timeout: .seconds(30))
        let text = String(decoding: output.stdout, as: UTF8.self)
        // "pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the first word that starts with a digit.
        guard let version = text.split(whereSeparator: \.isWhitespace).first(where: { $0.first?.isNumber == true }),
            let major = DumpHeader.major(of: String(version))
        else { throw DataRefreshError("cannot read pg_restore's version from '\(text)'") }
        return major
    }

    /// Refuses a dump the local `pg_restore` cannot read, from its first bytes: not a
    /// custom-format archive, written by a newer `pg_dump` major, or in an archive version
    /// `pg_restore` calls unsupported (it is asked, with `--list` on those bytes).
    ///
    /// - Returns: the dump's header.
    /// - Throws: ``DataRefreshError`` of kind ``DataRefreshError/Kind/unsupportedDump``.
    static func checkRestorable(_ prefix: Data, name: String, workDirectory: String) async throws -> DumpHeader {
        guard let header = DumpHeader.parse(prefix) else {
            throw DataRefreshError(
                "\(name) is not a pg_dump custom-format archive (no PGDMP header); nothing was changed. Take a new snapshot",
                kind: .unsupportedDump)
        }
        let local = try await localRestoreMajor()
        let made =
            "written by pg_dump \(header.dumpVersion ?? "?") from PostgreSQL \(header.serverVersion ?? "?") (archive format \(header.archiveVersionText))"
        let fix =
            "install \(header.dumpMajor.map { "the PostgreSQL \($0)" } ?? "a newer PostgreSQL") client (pg_restore) on this machine, or take the snapshot with a pg_dump no newer than \(local); nothing was changed"
        if let major = header.dumpMajor, major > local {
            throw DataRefreshError(
                "\(name) was \(made), newer than the local pg_restore \(local), which cannot read it: \(fix)",
                kind: .unsupportedDump)
        }
        let file = "\(workDirectory)/header-\(UUID().uuidString.prefix(8)).dump"
        try prefix.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let listed = try await ProcessRunner.run(try path(of: "pg_restore"), ["--list", file], timeout: .seconds(60))
        if listed.errorText.contains("unsupported version") {
            throw DataRefreshError(
                "\(name) was \(made); the local pg_restore \(local) says: \(listed.errorText.prefix(200)). Fix: \(fix)",
                kind: .unsupportedDump)
        }
        return header
    }

    /// Checks that `admin` can connect to its server (as libpq would, TLS included), may create
    /// databases, and that `owner` exists and `admin` may act as it.
    ///
    /// - Throws: ``DataRefreshError`` of kind ``DataRefreshError/Kind/databaseUnreachable`` or
    ///   ``DataRefreshError/Kind/databaseRole``, saying what to fix.
    static func checkAdmin(_ admin: DatabaseLocation, owner: String?) async throws {
        let server = admin.database("postgres")
        var environment = server.libpqEnvironment
        environment["PGCONNECT_TIMEOUT"] = environment["PGCONNECT_TIMEOUT"] ?? "15"
        let output = try await ProcessRunner.run(
            try path(of: "psql"),
            [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c",
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user",
            ], environment: environment, timeout: .seconds(60))
        guard output.status == 0 else { throw connectionProblem(output.errorText, server) }
        guard String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "t"
        else {
            throw DataRefreshError(
                "the role \(admin.user) on \(admin.host) may not create databases; connect as an admin role with CREATEDB (ALTER ROLE \(admin.user) CREATEDB). Nothing was changed",
                kind: .databaseRole)
        }
        guard let owner, owner != admin.user else { return }
        let role = try await sql(
            server,
            "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(literal(owner))) THEN 'missing' "
                + "WHEN pg_has_role(current_user, \(literal(owner)), 'MEMBER') THEN 'member' ELSE 'not member' END")
        switch role {
        case "missing":
            throw DataRefreshError(
                "the owner role \(owner) does not exist on \(admin.host); create it (CREATE ROLE \(owner) LOGIN PASSWORD …) or fix the target's owner. Nothing was changed",
                kind: .databaseRole)
        case "member": return
        default:
            throw DataRefreshError(
                "the admin role \(admin.user) may not act as the owner role \(owner) on \(admin.host), so it cannot give it the restored database; GRANT \(owner) TO \(admin.user). Nothing was changed",
                kind: .databaseRole)
        }
    }

    /// The kind and advice for a failed connection's error text.
    static func connectionProblem(_ text: String, _ location: DatabaseLocation) -> DataRefreshError {
        let lower = text.lowercased()
        let tail = "Nothing was changed. (\(text.prefix(300)))"
        if lower.contains("password authentication failed")
            || lower.contains("role \"") && lower.contains("does not exist")
        {
            return DataRefreshError(
                "the database server \(location.host):\(location.port) refused the role \(location.user): check the admin role and its password. \(tail)",
                kind: .databaseRole)
        }
        if lower.contains("no encryption") || lower.contains("ssl") || lower.contains("certificate") {
            return DataRefreshError(
                "the TLS connection to \(location.host):\(location.port) failed (sslmode \(location.tlsMode)): a server that requires TLS needs sslmode=require or stricter, and verify-ca/verify-full need sslrootcert naming the server's CA (for RDS, the RDS CA bundle). \(tail)",
                kind: .databaseUnreachable)
        }
        return DataRefreshError(
            "cannot connect to the database server \(location.host):\(location.port): check the host, the port, that it is running and that this machine may reach it. \(tail)",
            kind: .databaseUnreachable)
    }

    /// The product build recorded in a product database, and its version when the database has
    /// it: Jira's `jira.version.patched` and `jira.version` (in `propertystring`), Confluence's
    /// highest `confversion.buildnumber`. Nil when the database does not exist or holds no
    /// product tables (a new environment).
    static func productBuild(_ location: DatabaseLocation, product: Product) async throws -> (
        build: Int, version: String?
    )? {
        let exists = try await sql(
            location.database("postgres"), "SELECT 1 FROM pg_database WHERE datname = \(literal(location.database))")
        guard exists == "1" else { return nil }
        switch product {
        case .jira:
            guard
                try await sql(
                    location,
                    "SELECT to_regclass('propertyentry') IS NOT NULL AND to_regclass('propertystring') IS NOT NULL")
                    == "t"
            else { return nil }
            func property(_ key: String) async throws -> String {
                try await sql(
                    location,
                    "SELECT ps.propertyvalue FROM propertyentry pe JOIN propertystring ps ON ps.id = pe.id "
                        + "WHERE pe.property_key = \(literal(key)) ORDER BY pe.id DESC LIMIT 1")
            }
            guard let build = Int(try await property("jira.version.patched")) else { return nil }
            let version = try await property("jira.version")
            return (build, version.isEmpty ? nil : version)
        case .confluence:
            guard try await sql(location, "SELECT to_regclass('confversion') IS NOT NULL") == "t" else { return nil }
            guard let build = Int(try await sql(location, "SELECT max(buildnumber) FROM confversion")) else {
                return nil
            }
            return (build, nil)
        }
    }

    /// Runs one SQL statement with `psql` and returns its unaligned output.
    @discardableResult
    static func sql(_ location: DatabaseLocation, _ statement: String) async throws -> String {
        let output = try await ProcessRunner.run(
            try path(of: "psql"), ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement],
            environment: location.libpqEnvironment, timeout: .seconds(600))
        guard output.status == 0 else {
            throw DataRefreshError("\(statement.prefix(80)) on \(location) failed: \(output.errorText.prefix(300))")
        }
        return String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A SQL string literal.
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
