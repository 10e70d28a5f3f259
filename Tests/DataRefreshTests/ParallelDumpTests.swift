import AWSCore
import AtlasRelayTestSupport
import Crypto
import RelayFoundation
import AtlassianAdmin
import Foundation
import S3Sync
import Testing

@testable import DataRefresh

/// Directory-format dumps by several `pg_dump` jobs, streamed to S3 file by file, and their
/// restore with `pg_restore --jobs`: against the real Jira and Confluence databases in the
/// sandbox's PostgreSQL (TLS) and SeaweedFS.
struct ParallelDumpTests {
    @Test func aDirectoryDumpByTwoJobsIsUploadedFileByFileAndRestoresTheSameData() async throws {
        try await DataRefreshTests.withWorld { world in
            let work = world.root + "/dump-work"
            let manifest = try await world.provider(dump: .init(format: .directory, jobs: 2, workDirectory: work))
                .provide()
            for product in manifest.products {
                #expect(product.format == .directory && product.dumpKey == "\(product.name)/database/")
                let files = try #require(product.dumpFiles)
                // One file per table with data (the real databases have dozens), and the index.
                #expect(files.contains { $0.name == "toc.dat" })
                #expect(files.filter { PostgresTools.isTableData($0.name) }.count > 20)
                #expect(product.dumpBytes == files.reduce(0) { $0 + $1.bytes })
                #expect(product.dumpSHA256 == DumpFile.digest(of: files))
                // What S3 holds is what the snapshot records, byte for byte.
                let prefix = world.location.prefix(of: manifest.id) + product.dumpKey
                let stored = try await world.s3.listAllObjects(bucket: world.location.bucket, prefix: prefix)
                #expect(Set(stored.map { String($0.key.dropFirst(prefix.count)) }) == Set(files.map(\.name)))
                let toc = try #require(files.first { $0.name == "toc.dat" })
                let data = try #require(try await world.s3.getObjectData(bucket: world.location.bucket, key: prefix + "toc.dat"))
                #expect(Int64(data.count) == toc.bytes && Hex.string(SHA256.hash(data: data)) == toc.sha256)
                #expect(DumpHeader.parse(data)?.dumpMajor != nil)
            }
            // Nothing is left behind in the work directory.
            #expect(try FileManager.default.contentsOfDirectory(atPath: work).isEmpty)

            // A directory dump cannot be streamed: refused before anything is stopped.
            let streaming = world.refresher(restore: .init(jobs: 1, transfer: .stream))
            let refusal = try await #require(throws: DataRefreshError.self) { try await streaming.refresh() }
            #expect(refusal.kind == .unsupportedDump)
            #expect(world.stops.withLock { $0 } == 0)

            let restored = try await world.refresher().refresh()
            #expect(restored.id == manifest.id)
            let jira = try #require(world.dev["jira"])
            let confluence = try #require(world.dev["confluence"])
            #expect(try await PostgresTools.sql(jira, "SELECT count(*) FROM jiraissue") == "25")
            #expect(try await PostgresTools.sql(jira, "SELECT to_regclass('relay_marker') IS NULL") == "t")
            #expect(try await PostgresTools.sql(confluence, "SELECT title FROM content WHERE contentid = 360467") == "Test 123")
            #expect(
                try await PostgresTools.sql(
                    jira, "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public'")
                    == "jira")
        }
    }

    @Test func aFailedUploadStopsPgDumpAndLeavesNoFiles() async throws {
        let database = try DatabaseLocation(url: try await Sandbox.makeProductDatabase(.jira, prefix: "dumpfail"))
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("dumpfail-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let admin = try Sandbox.s3AWSClient()
        let bucket = try await Sandbox.makeBucket(admin, prefix: "dumpfail")
        defer { try? FileManager.default.removeItem(atPath: work) }
        // The read-only identity: the first file's upload is refused, and that must end the dump.
        let reader = S3Client(try Sandbox.s3AWSClient(reader: true))
        let error = try await #require(throws: AWSServiceError.self) {
            try await PostgresTools.dumpDirectory(
                database, jobs: 2, workDirectory: work, to: reader, bucket: bucket, prefix: "x/", writeOptions: .init(),
                logger: .init(label: "test"))
        }
        #expect(error.statusCode == 403)
        // pg_dump was stopped (its workers name the folder on their command line), the folder removed.
        // (SIGTERM is sent at once; the processes take a moment to go.)
        var left: ProcessRunner.Output
        let deadline = ContinuousClock.now + .seconds(10)
        repeat {
            left = try await ProcessRunner.run("/usr/bin/pgrep", ["-f", "dump-\(database.database)-"], timeout: .seconds(10))
            if left.status == 1 { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        #expect(left.status == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work).isEmpty)
        #expect(try await S3Client(admin).listAllObjects(bucket: bucket).isEmpty)
        await Sandbox.dropDatabase(database.database)
        try? await Sandbox.deleteBucket(admin, bucket)
    }

    @Test func theWatchReportsAFileOnlyOnceItIsClosed() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let watch = try ClosedFileWatch(folder)
        let handle = try #require(
            FileManager.default.createFile(atPath: folder + "/1.dat.gz", contents: nil)
                ? FileHandle(forWritingAtPath: folder + "/1.dat.gz") : nil)
        // createFile itself writes and closes once; drain that.
        _ = try await watch.closed(waitingUpTo: .milliseconds(200))
        try handle.write(contentsOf: Data(repeating: 7, count: 1 << 16))
        #expect(try await watch.closed(waitingUpTo: .milliseconds(200)).isEmpty)
        try handle.close()
        #expect(try await watch.closed(waitingUpTo: .seconds(2)) == ["1.dat.gz"])
    }

    @Test func onlyTableDataFilesAreStreamedBeforeTheDumpEnds() {
        for name in ["3456.dat", "3456.dat.gz", "12.dat.lz4", "7.dat.zst"] { #expect(PostgresTools.isTableData(name)) }
        for name in ["toc.dat", "blobs.toc", "blob_16384.dat", "3456.dat.tmp", ".dat", "12.gz", "x12.dat"] {
            #expect(!PostgresTools.isTableData(name))
        }
    }

    @Test func theDigestOfADirectoryDumpNamesEveryFile() {
        let files = [DumpFile(name: "toc.dat", bytes: 10, sha256: "aa"), DumpFile(name: "1.dat.gz", bytes: 5, sha256: "bb")]
        #expect(DumpFile.digest(of: files) == DumpFile.digest(of: files.reversed()))
        var changed = files
        changed[1].bytes = 6
        #expect(DumpFile.digest(of: changed) != DumpFile.digest(of: files))
        #expect(DumpFile.digest(of: [files[0]]) != DumpFile.digest(of: files))
    }
}
