import AWSCore
import AtlasRelayTestSupport
import Foundation
import NIOCore
import Testing

@testable import S3Sync

#if canImport(Glibc)
    import Glibc
#endif

/// Interrupted syncs leave no open multipart upload on SeaweedFS: a cancelled run aborts the
/// uploads it has in flight, `s3sync` does so on SIGINT and SIGTERM, and the next run of a sync
/// aborts what an earlier, killed run left.
struct InterruptionTests {
    /// A file of `size` zero bytes (sparse, so it is written at once).
    static func bigFile(_ path: String, size: Int64) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)  // opening it below fails if it was not
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
    }

    /// A folder with one large file, `a-big.bin`, uploaded in many 5 MiB parts one at a time (so
    /// the upload is still running when the test interrupts it), and two small ones after it.
    static func slowUploadSource() throws -> String {
        let local = try SyncEngineTests.temporaryDirectory()
        try bigFile(local + "/a-big.bin", size: 400 << 20)
        try SyncEngineTests.write([("b.txt", 10), ("c.txt", 10)], under: local)
        return local
    }

    /// Waits until an upload is open under `prefix`; the run being interrupted is then mid-upload.
    static func openUpload(_ s3: S3Client, _ bucket: String, prefix: String) async throws -> S3Client.PendingUpload {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let upload = try await s3.listMultipartUploads(bucket: bucket, prefix: prefix).first { return upload }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("no multipart upload was opened under \(prefix) within 30 s")
    }

    /// SeaweedFS sends only NextUploadIdMarker on a truncated page, moto both markers.
    @Test(arguments: ["seaweedfs", "moto"])
    func listMultipartUploadsFollowsEveryPage(server: String) async throws {
        let s3 = server == "moto" ? S3Client(try Sandbox.motoAWSClient()) : try SyncEngineTests.s3()
        try await withSandboxBucket(s3.aws, prefix: "mpu") { bucket in
            var made: [String] = []
            for key in ["p/a.bin", "p/a.bin", "p/b.bin", "p/c d+e.bin"] {
                made.append(try await s3.createMultipartUpload(bucket: bucket, key: key))
            }
            let outside = try await s3.createMultipartUpload(bucket: bucket, key: "q/a.bin")
            let listed = try await s3.listMultipartUploads(bucket: bucket, prefix: "p/", maxUploads: 1)
            #expect(Set(listed.map(\.uploadId)) == Set(made))
            #expect(listed.count == made.count, "no page is read twice")
            #expect(listed.map(\.key).sorted() == ["p/a.bin", "p/a.bin", "p/b.bin", "p/c d+e.bin"])
            #expect(listed.allSatisfy { $0.initiated != nil })
            #expect(try await s3.listMultipartUploads(bucket: bucket, prefix: "q/").map(\.uploadId) == [outside])
        }
    }

    @Test func theNextRunAbortsTheStaleUploadOfAnInterruptedRun() async throws {
        let s3 = try SyncEngineTests.s3()
        try await S3ClientTests.withBucket(s3) { bucket in
            let local = try SyncEngineTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: local) }
            try SyncEngineTests.write([("big.bin", 12 << 20), ("small.txt", 10)], under: local)
            // What a killed run leaves: an upload of a key this sync writes, with a part sent.
            let stale = try await s3.createMultipartUpload(bucket: bucket, key: "dest/big.bin")
            _ = try await s3.uploadPart(
                bucket: bucket, key: "dest/big.bin", uploadId: stale, partNumber: 1,
                data: ByteBuffer(repeating: 1, count: 5 << 20))
            // Someone else's, of a key this sync does not write: left alone.
            let foreign = try await s3.createMultipartUpload(bucket: bucket, key: "dest/elsewhere.bin")
            try await Task.sleep(for: .milliseconds(1200))  // servers give Initiated to the second

            var configuration = SyncEngineTests.configuration()
            let young = try SyncEngine(
                source: .local(local), destination: .s3(bucket: bucket, prefix: "dest/"), destinationClient: s3,
                configuration: configuration)
            let kept = StaleUploads(engine: young, runStart: Date())
            await kept.abort(before: "big.bin")
            #expect(await kept.aborted == 0, "by default an upload must be an hour old to be stale")
            #expect(await kept.problem == nil)

            configuration.staleUploadAge = .zero
            let engine = try SyncEngine(
                source: .local(local), destination: .s3(bucket: bucket, prefix: "dest/"), destinationClient: s3,
                configuration: configuration)
            let later = StaleUploads(engine: engine, runStart: Date(timeIntervalSinceNow: -60))
            await later.abort(before: "big.bin")
            #expect(await later.aborted == 0, "an upload started after the run began is never stale")
            let summary = try await engine.sync()
            #expect(summary.abortedStaleUploads == 1)
            #expect(summary.staleUploadProblem == nil)
            #expect(summary.succeeded)
            #expect(summary.transferred == 2)
            let open = try await s3.listMultipartUploads(bucket: bucket, prefix: "dest/").map(\.uploadId)
            #expect(!open.contains(stale), "the interrupted run's upload is aborted")
            #expect(open == [foreign], "an upload of a key this sync does not write is not its own")
            #expect(try await s3.headObject(bucket: bucket, key: "dest/big.bin")?.size == 12 << 20)
        }
    }

    @Test func cancellingARunAbortsItsUploadInFlight() async throws {
        let s3 = try SyncEngineTests.s3()
        try await S3ClientTests.withBucket(s3) { bucket in
            let local = try Self.slowUploadSource()
            defer { try? FileManager.default.removeItem(atPath: local) }
            try await s3.putObject(bucket: bucket, key: "dest/gone.txt", data: ByteBuffer(string: "delete me"))
            let engine = try SyncEngine(
                source: .local(local), destination: .s3(bucket: bucket, prefix: "dest/"), destinationClient: s3,
                configuration: .init(
                    options: SyncOptions(delete: true), concurrency: 1, memoryLimit: 5 << 20,
                    multipartThreshold: 5 << 20, partSize: 5 << 20))
            let plan = try await engine.plan()
            let run = Task { try await engine.run(plan) }
            _ = try await Self.openUpload(s3, bucket, prefix: "dest/")
            run.cancel()
            let summary = try await withTimeLimit(.seconds(120)) { try await run.value }

            #expect(summary.cancelled)
            #expect(summary.interrupted == 1, "the large upload was cut short, not finished")
            #expect(summary.notAttempted == 2)
            #expect(summary.abortedUploads == 1)
            #expect(summary.uploadsLeftOpen.isEmpty)
            #expect(summary.deletionsWithheldBecause == .cancelled)
            #expect(!summary.succeeded)
            #expect(try await s3.listMultipartUploads(bucket: bucket, prefix: "dest/").isEmpty)
            #expect(try await s3.headObject(bucket: bucket, key: "dest/a-big.bin") == nil)
            #expect(
                try await s3.headObject(bucket: bucket, key: "dest/gone.txt") != nil, "no deletion after a cancel")
        }
    }

    /// `s3sync` uploading ``slowUploadSource()`` into `bucket`, one 5 MiB part at a time (with
    /// `arguments` and `environment` besides), once its upload is open; stdout is piped, stderr
    /// dropped.
    static func toolMidUpload(
        _ s3: S3Client, into bucket: String, from local: String, arguments: [String] = [],
        environment: [String: String] = [:]
    ) async throws -> (process: Process, stdout: Pipe) {
        let process = Process()
        process.executableURL = S3SyncToolTests.binary
        process.arguments =
            [
                local, "s3://\(bucket)/dest", "--json", "--concurrency", "1", "--part-size", "5MiB", "--memory-limit",
                "5MiB",
            ] + arguments
        process.environment = S3SyncToolTests.environment().merging(environment) { $1 }
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        _ = try await openUpload(s3, bucket, prefix: "dest/")
        return (process, stdout)
    }

    /// Waits up to 120 s for `process` to end (then terminates it), and returns its stdout.
    /// (A hang guard, not a measure: the whole suite on 2 cores has stretched 20 s waits past 40.)
    static func finish(_ process: Process, _ stdout: Pipe) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        return String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    @Test func anUploadThatCouldNotBeAbortedIsReportedAndTheNextRunAbortsIt() async throws {
        let direct = try SyncEngineTests.s3()
        let local = try Self.slowUploadSource()
        defer { try? FileManager.default.removeItem(atPath: local) }
        let port = try #require(URL(string: try Sandbox.s3Endpoint())?.port)
        try await S3ClientTests.withBucket(direct) { bucket in
            try await withFaultProxy(targetPort: port) { proxy in
                let engine = try SyncEngine(
                    source: .local(local), destination: .s3(bucket: bucket, prefix: "dest/"),
                    destinationClient: try FaultInjectionTests.client(through: proxy),
                    configuration: .init(
                        concurrency: 1, memoryLimit: 5 << 20, multipartThreshold: 5 << 20, partSize: 5 << 20,
                        staleUploadAge: .zero))
                let plan = try await engine.plan()
                let run = Task { try await engine.run(plan) }
                let open = try await Self.openUpload(direct, bucket, prefix: "dest/")
                proxy.cut(afterBytes: 0)  // the endpoint goes, so the abort fails
                run.cancel()
                let summary = try await withTimeLimit(.seconds(120)) { try await run.value }
                #expect(summary.cancelled)
                #expect(summary.abortedUploads == 0)
                #expect(
                    summary.uploadsLeftOpen == [
                        .init(bucket: bucket, key: "dest/a-big.bin", uploadId: open.uploadId)
                    ])
                #expect(!summary.succeeded)

                proxy.restore()
                try await Task.sleep(for: .milliseconds(1200))  // servers give Initiated to the second
                let next = try await engine.sync()
                #expect(next.abortedStaleUploads == 1)
                #expect(next.succeeded)
                #expect(try await direct.listMultipartUploads(bucket: bucket, prefix: "dest/").isEmpty)
            }
        }
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func theToolAbortsItsUploadOnASignal(signal: Int32, status: Int32) async throws {
        let s3 = try SyncEngineTests.s3()
        try await S3ClientTests.withBucket(s3) { bucket in
            let local = try Self.slowUploadSource()
            defer { try? FileManager.default.removeItem(atPath: local) }
            let (process, stdout) = try await Self.toolMidUpload(s3, into: bucket, from: local)
            kill(process.processIdentifier, signal)
            let output = try await Self.finish(process, stdout)

            #expect(process.terminationReason == .exit, "it exits, not dies of the signal")
            #expect(process.terminationStatus == status)
            #expect(try await s3.listMultipartUploads(bucket: bucket, prefix: "dest/").isEmpty)
            let summary = try S3SyncToolTests.json(output)
            #expect(summary["cancelled"] as? Bool == true)
            #expect(summary["aborted_uploads"] as? Int == 1)
            #expect(summary["succeeded"] as? Bool == false)
        }
    }

    @Test func aSecondSignalExitsAtOnce() async throws {
        let s3 = try SyncEngineTests.s3()
        let local = try Self.slowUploadSource()
        defer { try? FileManager.default.removeItem(atPath: local) }
        let port = try #require(URL(string: try Sandbox.s3Endpoint())?.port)
        try await S3ClientTests.withBucket(s3) { bucket in
            try await withFaultProxy(targetPort: port) { proxy in
                let (process, stdout) = try await Self.toolMidUpload(
                    s3, into: bucket, from: local, arguments: ["--endpoint-url", proxy.baseURL],
                    environment: ["AWS_MAX_ATTEMPTS": "50"])
                // The endpoint goes away: the abort the first signal starts keeps retrying (up to 10 s).
                proxy.cut(afterBytes: 0)
                kill(process.processIdentifier, SIGINT)
                try await Task.sleep(for: .seconds(1))
                #expect(process.isRunning, "the first signal waits for the aborts")
                kill(process.processIdentifier, SIGINT)
                let output = try await Self.finish(process, stdout)

                // No summary is the proof that it did not wait: after the aborts' retries the
                // first signal's path prints one. (A clock bound here failed on loaded cores.)
                #expect(output.isEmpty, "the second signal does not wait for the aborts")
                #expect(process.terminationReason == .exit)
                #expect(process.terminationStatus == 130)
                for upload in try await s3.listMultipartUploads(bucket: bucket, prefix: "dest/") {
                    try await s3.abortMultipartUpload(bucket: bucket, key: upload.key, uploadId: upload.uploadId)
                }
            }
        }
    }
}
