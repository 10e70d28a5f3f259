import AWSCore
import AtlasRelayTestSupport
import Foundation
import NIOCore
import Testing

@testable import S3Sync

/// Syncs at scale: both sides stream in key order (never listed whole), deletions are capped by
/// --max-delete, and an interrupted sync resumes from its checkpoint instead of relisting.
struct StreamingSyncTests {
    /// Names whose byte order differs from a naive path sort: `a.txt` sorts before `a/…`
    /// ('.' < '/'), `a0` after it ('0' > '/'), and UTF-8 after ASCII.
    static let awkward: [(String, Int)] = [
        ("a.txt", 1), ("a/b", 2), ("a/c/d", 3), ("a0", 4), ("b", 5), ("ü/x", 6), ("z/ä", 7), ("a/c.e", 8),
        ("a-b/c", 9),
    ]

    static func walk(_ root: String, after watermark: SyncKey? = nil, batchSize: Int = 2) async throws -> [String] {
        let walk = LocalWalk(root: root, symlinks: .follow, mustExist: true, after: watermark, batchSize: batchSize)
        var keys: [String] = []
        while let batch = try await walk.next() { keys += batch.map(\.key.string) }
        return keys
    }

    @Test func theLocalWalkYieldsKeysInS3sOrderAndResumesAfterAKey() async throws {
        let root = try SyncEngineTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try SyncEngineTests.write(Self.awkward, under: root)
        let sorted = Self.awkward.map { SyncKey($0.0) }.sorted().map(\.string)
        let walked = try await Self.walk(root)
        #expect(walked == sorted, "the walk is in byte order across folders")
        for (index, watermark) in sorted.enumerated() {
            #expect(try await Self.walk(root, after: SyncKey(watermark)) == Array(sorted[(index + 1)...]), "\(watermark)")
        }
        // A watermark between keys (one that names no file) resumes at the next key.
        let between = try await Self.walk(root, after: "a/c/")
        #expect(between == ["a/c/d", "a0", "b", "z/ä", "ü/x"], "'z' (0x7a) sorts before 'ü' (0xc3 0xbc)")
    }

    @Test func aListingOutOfKeyOrderIsAnErrorNotAWrongPlan() async throws {
        try await withTestServer { _ in
            .text(
                """
                <?xml version="1.0" encoding="UTF-8"?>
                <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>home/</Prefix>\
                <IsTruncated>false</IsTruncated>\
                <Contents><Key>home/b</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>1</Size></Contents>\
                <Contents><Key>home/a</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>1</Size></Contents>\
                </ListBucketResult>
                """, headers: [("Content-Type", "application/xml")])
        } body: { server in
            let s3 = SyncSafetyTests.client(for: server.baseURL)
            let local = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: local) }
            let engine = try SyncEngine(
                source: .s3(bucket: "bucket", prefix: "home/"), destination: .local(local), sourceClient: s3)
            await #expect {
                _ = try await engine.sync()
            } throws: { error in
                (error as? SyncError)?.kind == .malformedListing
            }
            #expect(try SyncEngineTests.files(under: local).isEmpty)
        }
    }

    @Test func maxDeleteWithholdsEveryDeletionOfARunThatWouldDeleteMore() async throws {
        let s3 = try SyncEngineTests.s3()
        try await S3ClientTests.withBucket(s3) { bucket in
            let local = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: local) }
            let all = (0..<10).map { ("f\($0)", 10) }
            try SyncEngineTests.write(all, under: local)
            let up = try SyncEngine(
                source: .local(local), destination: .s3(bucket: bucket, prefix: "home/"), destinationClient: s3)
            #expect(try await up.sync().succeeded)
            // The source loses 6 of its 10 files (a half-mounted volume, say).
            for index in 0..<6 { try FileManager.default.removeItem(atPath: local + "/f\(index)") }

            for limit in [DeleteLimit.count(5), .percent(50)] {
                let guarded = try SyncEngine(
                    source: .local(local), destination: .s3(bucket: bucket, prefix: "home/"), destinationClient: s3,
                    configuration: .init(options: SyncOptions(delete: true, maxDelete: limit)))
                let summary = try await guarded.sync()
                #expect(summary.deletionsWithheldBecause == .deleteLimit, "\(limit)")
                #expect(summary.deleted == 0)
                #expect(!summary.succeeded, "a withheld deletion is not a finished sync")
                #expect(try await s3.listAllObjects(bucket: bucket, prefix: "home/").count == 10)
            }
            let allowed = try SyncEngine(
                source: .local(local), destination: .s3(bucket: bucket, prefix: "home/"), destinationClient: s3,
                configuration: .init(options: SyncOptions(delete: true, maxDelete: .percent(60))))
            let summary = try await allowed.sync()
            #expect(summary.succeeded && summary.deleted == 6, "6 of 10 is within 60%")
            #expect(try await s3.listAllObjects(bucket: bucket, prefix: "home/").count == 4)
        }
    }

    @Test func deleteLimitsParseAndRefuseNonsense() throws {
        #expect(try DeleteLimit(parsing: "1000") == .count(1000))
        #expect(try DeleteLimit(parsing: "20%") == .percent(20))
        #expect(try DeleteLimit(parsing: " 2.5% ") == .percent(2.5))
        #expect(try DeleteLimit(parsing: "20% or 1000") == .percentOrCount(20, 1000))
        #expect(DeleteLimit.percentOrCount(20, 3).allows(3, of: 5) && !DeleteLimit.percentOrCount(20, 3).allows(4, of: 5))
        #expect(DeleteLimit.percentOrCount(20, 3).allows(200, of: 1000))
        for bad in ["", "-1", "120%", "lots", "5 %%"] {
            #expect(throws: SyncError.self) { try DeleteLimit(parsing: bad) }
        }
        #expect(DeleteLimit.percent(20).allows(20, of: 100) && !DeleteLimit.percent(20).allows(21, of: 100))
        #expect(DeleteLimit.count(0).allows(0, of: 5) && !DeleteLimit.count(0).allows(1, of: 5))
    }

    @Test func anInterruptedSyncResumesAfterItsCheckpointWithoutRelistingWhatWasDone() async throws {
        let s3 = try SyncEngineTests.s3()
        try await S3ClientTests.withBucket(s3) { bucket in
            let local = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: local) }
            let count = 3000
            try SyncEngineTests.write((0..<count).map { (String(format: "d%02d/f%05d", $0 % 30, $0), 64) }, under: local)
            // Keys this sync must delete: before and after wherever the first run stops.
            for key in ["d00/old", "d29/zz-old"] {
                _ = try await s3.putObject(bucket: bucket, key: "home/" + key, data: ByteBuffer(string: "old"))
            }
            let checkpoint = local + ".checkpoint"
            defer {
                try? FileManager.default.removeItem(atPath: checkpoint)
                try? FileManager.default.removeItem(atPath: checkpoint + ".deletes")
            }
            let configuration = SyncEngine.Configuration(
                options: SyncOptions(delete: true), concurrency: 4, checkpoint: checkpoint)
            let engine = try SyncEngine(
                source: .local(local), destination: .s3(bucket: bucket, prefix: "home/"), destinationClient: s3,
                configuration: configuration)

            let first = Task { try await engine.sync() }
            while try await s3.listObjectsV2(bucket: bucket, prefix: "home/", maxKeys: 1000).objects.count < 600 {
                try await Task.sleep(for: .milliseconds(20))
            }
            first.cancel()
            let stopped = try await first.value
            #expect(stopped.cancelled)
            #expect(stopped.deletionsWithheldBecause == .cancelled)
            let saved = try #require(
                try SyncCheckpoint.load(checkpoint, sync: SyncCheckpoint.identity(of: engine)),
                "a cancelled run leaves its checkpoint")
            let watermark = try #require(saved.after, "the first run got past some keys")
            let done = (0..<count).map { String(format: "d%02d/f%05d", $0 % 30, $0) }.filter {
                SyncKey($0) <= SyncKey(watermark)
            }.count
            #expect(done > 0 && done < count, "stopped part way: \(done) of \(count)")

            let resumed = try await engine.sync()
            #expect(resumed.succeeded, "\(resumed.failures)")
            #expect(
                resumed.transferred + resumed.unchanged == count - done,
                "the resumed run looks only at keys after the checkpoint")
            #expect(resumed.deleted == 2, "deletions spooled before the checkpoint are kept")
            let keys = try await s3.listAllObjects(bucket: bucket, prefix: "home/").map(\.key)
            #expect(keys.count == count && !keys.contains("home/d00/old") && !keys.contains("home/d29/zz-old"))
            #expect(!FileManager.default.fileExists(atPath: checkpoint), "a finished sync removes its checkpoint")
            #expect(!FileManager.default.fileExists(atPath: checkpoint + ".deletes"))

            // Another sync must not take this checkpoint for its own.
            try saved.save(checkpoint)
            let other = try SyncEngine(
                source: .local(local), destination: .s3(bucket: bucket, prefix: "elsewhere/"), destinationClient: s3,
                configuration: configuration)
            await #expect {
                _ = try await other.sync()
            } throws: { error in
                (error as? SyncError)?.kind == .invalidArgument
            }
        }
    }
}
