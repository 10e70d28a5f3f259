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

    /// Streams `pg_dump -Fc` of `database` into a multipart upload at `bucket/key`, one part in
    /// memory at a time besides the one being read, never staged on disk.
    ///
    /// - Returns: the dump's size and SHA-256 (hex).
    static func dump(
        _ database: DatabaseLocation, to s3: S3Client, bucket: String, key: String, partSize: Int = 16 << 20,
        writeOptions: S3Client.WriteOptions
    ) async throws -> (bytes: Int64, sha256: String) {
        let dump = try StreamingProcess.start(
            try path(of: "pg_dump"), ["--format=custom", "--no-owner", "--no-privileges"],
            environment: database.libpqEnvironment, chunkSize: max(partSize, Int(S3Client.minimumPartSize)))
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
        do {
            for try await chunk in dump.chunks {
                defer { dump.consumed() }
                hash.update(data: chunk)
                bytes += Int64(chunk.count)
                parts.append(
                    try await s3.uploadPart(
                        bucket: bucket, key: key, uploadId: uploadId, partNumber: parts.count + 1,
                        data: ByteBuffer(bytes: chunk)))
            }
            let exit = await dump.exit()
            guard exit.status == 0, !parts.isEmpty else {
                throw DataRefreshError("pg_dump of \(database) failed (exit \(exit.status)): \(exit.errorText)")
            }
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

    /// Restores the dump `file` into a fresh database next to `target`, then swaps it in: the
    /// old database is kept as `<name>_previous` until the next refresh, so a failed restore
    /// leaves the old one in place and usable.
    static func restore(_ file: String, into target: DatabaseLocation, jobs: Int = 2) async throws {
        let fresh = target.database + "_restore"
        let previous = target.database + "_previous"
        let admin = target.database("postgres")
        try await sql(admin, "DROP DATABASE IF EXISTS \(quoted(fresh))")
        try await sql(admin, "CREATE DATABASE \(quoted(fresh))")
        let output = try await ProcessRunner.run(
            try path(of: "pg_restore"),
            ["--no-owner", "--no-privileges", "--exit-on-error", "--jobs=\(max(1, jobs))", "--dbname=\(fresh)", file],
            environment: target.database(fresh).libpqEnvironment, timeout: .seconds(6 * 3600))
        guard output.status == 0 else {
            throw DataRefreshError(
                "pg_restore into \(fresh) failed (exit \(output.status)): \(output.errorText.prefix(500)); "
                    + "\(target.database) was not touched")
        }
        try await sql(admin, "DROP DATABASE IF EXISTS \(quoted(previous))")
        try await sql(
            admin,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(target.database)' AND pid <> pg_backend_pid()"
        )
        let exists = try await sql(admin, "SELECT 1 FROM pg_database WHERE datname = '\(target.database)'")
        if exists == "1" {
            try await sql(admin, "ALTER DATABASE \(quoted(target.database)) RENAME TO \(quoted(previous))")
        }
        try await sql(admin, "ALTER DATABASE \(quoted(fresh)) RENAME TO \(quoted(target.database))")
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

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
