import AtlassianAdmin
import Foundation
import Logging
import RelayFoundation
import S3Sync
import Synchronization

// Dumping a database to S3: one custom-format stream, or a directory-format dump by N workers.

extension PostgresTools {
    /// Streams `pg_dump -Fc` of `database` into `bucket/key` (``DumpUpload``), never staged on
    /// disk: a dump of any size up to about 12 TiB fits in S3's 10,000 parts; one part is in
    /// memory at a time, besides at most three 16 MiB chunks of `pg_dump`'s output.
    ///
    /// - Returns: the dump's size and SHA-256 (hex).
    static func dump(
        _ database: DatabaseLocation, to s3: S3Client, bucket: String, key: String,
        writeOptions: S3Client.WriteOptions
    ) async throws -> (bytes: Int64, sha256: String) {
        let dump = try StreamingProcess.start(
            try path(of: "pg_dump"), ["--format=custom", "--no-owner", "--no-privileges"],
            environment: database.libpqEnvironment, chunkSize: Int(DumpPartSizing.basePartSize))
        var upload = DumpUpload(s3, bucket: bucket, key: key, options: writeOptions, what: "the dump of \(database)")
        do {
            for try await chunk in dump.chunks {
                defer { dump.consumed() }
                try await upload.append(chunk)
            }
            let exit = await dump.exit()
            guard exit.status == 0, upload.bytes > 0 else {
                throw DataRefreshError("pg_dump of \(database) failed (exit \(exit.status)): \(exit.errorText)")
            }
            return try await upload.finish()
        } catch {
            dump.terminate()
            await upload.abort()
            throw error
        }
    }

    /// Dumps `database` with `pg_dump --format=directory --jobs=<jobs>` into a folder in
    /// `workDirectory` and uploads it to `prefix` (ending in `/`) as it is written: each table's
    /// data file as soon as `pg_dump` closes it (``ClosedFileWatch``), `jobs` at a time, then
    /// removed, so the folder holds only the files being written; the other files (large objects,
    /// `blobs.toc`) once `pg_dump` has ended, and `toc.dat`, the archive's index, last.
    ///
    /// A failed upload stops `pg_dump`, and a failed `pg_dump` stops the uploads; either way the
    /// folder is removed and the error thrown (the snapshot then stays incomplete).
    ///
    /// - Returns: every file uploaded, in name order.
    static func dumpDirectory(
        _ database: DatabaseLocation, jobs: Int, workDirectory: String, to s3: S3Client, bucket: String,
        prefix: String, writeOptions: S3Client.WriteOptions, logger: Logger
    ) async throws -> [DumpFile] {
        let folder = "\(workDirectory)/dump-\(database.database)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let watch = try ClosedFileWatch(folder)
        let run = DirectoryDumpRun()
        let permits = AsyncSemaphore(max(1, jobs))
        let executable = try path(of: "pg_dump")
        let arguments = [
            "--format=directory", "--jobs=\(max(1, jobs))", "--no-owner", "--no-privileges", "--file=\(folder)",
        ]
        @Sendable func upload(_ name: String) async throws -> DumpFile {
            let file = try await uploadFile(
                folder + "/" + name, to: s3, bucket: bucket, key: prefix + name, writeOptions: writeOptions,
                what: "\(name) of the dump of \(database)")
            run.uploaded.withLock {
                $0.files += 1
                $0.bytes += file.bytes
            }
            return file
        }
        let started = ContinuousClock.now
        var files: [DumpFile] = []
        try await withThrowingTaskGroup(of: DumpFile?.self) { group in
            group.addTask {
                let output = try await ProcessRunner.run(
                    executable, arguments, environment: database.libpqEnvironment, timeout: .seconds(24 * 3600))
                run.exit.withLock { $0 = output }
                return nil
            }
            var streamed = Set<String>()
            var reported = ContinuousClock.now
            while true {
                let exited = run.exit.withLock { $0 != nil }
                if let failure = run.failure.withLock({ $0 }) { throw failure }
                for name in try await watch.closed(waitingUpTo: .milliseconds(250))
                where isTableData(name) && streamed.insert(name).inserted {
                    group.addTask {
                        do {
                            let file = try await permits.withPermit { try await upload(name) }
                            try FileManager.default.removeItem(atPath: folder + "/" + name)
                            return file
                        } catch {
                            run.failure.withLock { $0 = $0 ?? error }
                            throw error
                        }
                    }
                }
                if ContinuousClock.now - reported >= .seconds(30) {
                    reported = ContinuousClock.now
                    let (count, bytes) = run.uploaded.withLock { ($0.files, $0.bytes) }
                    let seconds = max(0.001, (ContinuousClock.now - started).seconds)
                    logger.info(
                        "dumping database",
                        metadata: [
                            "database": "\(database)", "files": "\(count)", "bytes": "\(bytes)",
                            "MBps": "\(String(format: "%.1f", Double(bytes) / seconds / 1e6))",
                        ])
                }
                if exited { break }
            }
            let output = run.exit.withLock { $0 }!
            guard output.status == 0 else {
                throw DataRefreshError(
                    "pg_dump --format=directory of \(database) failed (exit \(output.status)): \(output.errorText)")
            }
            for try await file in group { if let file { files.append(file) } }
            // What is left: files whose close was missed (a lost event) and the rest, toc.dat last.
            let left = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            guard left.contains("toc.dat") else {
                throw DataRefreshError("pg_dump of \(database) ended without writing toc.dat; no dump was recorded")
            }
            for name in left where name != "toc.dat" {
                group.addTask { try await permits.withPermit { try await upload(name) } }
            }
            for try await file in group { if let file { files.append(file) } }
            files.append(try await upload("toc.dat"))
        }
        logger.info(
            "database dumped in parallel",
            metadata: [
                "database": "\(database)", "jobs": "\(jobs)", "files": "\(files.count)",
                "bytes": "\(files.reduce(0) { $0 + $1.bytes })",
                "seconds": "\(String(format: "%.1f", (ContinuousClock.now - started).seconds))",
                "missedCloses": "\(watch.overflowed)",
            ])
        return files.sorted { $0.name < $1.name }
    }

    /// Whether `name` is a table's data file in a directory-format dump (`<dump id>.dat`, with a
    /// compression suffix): `pg_dump` writes each once, in one go, so it is complete when closed.
    static func isTableData(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let id = parts.first, !id.isEmpty, id.allSatisfy(\.isNumber),
            parts[1] == "dat"
        else { return false }
        return parts.count == 2 || ["gz", "lz4", "zst"].contains(parts[2])
    }

    /// Uploads the file at `path` to `bucket/key` in 16 MiB reads (``DumpUpload``).
    static func uploadFile(
        _ path: String, to s3: S3Client, bucket: String, key: String, writeOptions: S3Client.WriteOptions,
        what: String
    ) async throws -> DumpFile {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataRefreshError("cannot read \(path), part of a dump being written; check the work directory")
        }
        defer { try? handle.close() }
        var upload = DumpUpload(s3, bucket: bucket, key: key, options: writeOptions, what: what)
        do {
            while let chunk = try await Blocking.run({ try handle.read(upToCount: Int(DumpPartSizing.basePartSize)) }),
                !chunk.isEmpty
            {
                try await upload.append(chunk)
            }
            let (bytes, sha256) = try await upload.finish()
            return DumpFile(name: String(path.split(separator: "/").last ?? ""), bytes: bytes, sha256: sha256)
        } catch {
            await upload.abort()
            throw error
        }
    }
}

/// What a directory dump's parts share: `pg_dump`'s exit, the first failed upload, the progress.
private final class DirectoryDumpRun: Sendable {
    let exit = Mutex<ProcessRunner.Output?>(nil)
    let failure = Mutex<(any Error)?>(nil)
    let uploaded = Mutex<(files: Int, bytes: Int64)>((0, 0))
}
