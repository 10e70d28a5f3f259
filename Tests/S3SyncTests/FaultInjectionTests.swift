import AWSCore
import AtlasRelayTestSupport
import Foundation
import Testing

@testable import S3Sync

/// The connection to SeaweedFS dies mid-upload and mid-download (a proxy drops every connection
/// and refuses new ones); the interrupted sync reports what it did not do, and re-running it after
/// the "restart" completes with nothing lost and no partial file under a final name.
struct FaultInjectionTests {
    static func client(through proxy: FaultProxy) throws -> S3Client {
        S3Client(
            AWSClient(
                region: "us-east-1",
                credentialProvider: .static(
                    accessKeyId: try Sandbox.value("AWS_ACCESS_KEY_ID"),
                    secretAccessKey: try Sandbox.value("AWS_SECRET_ACCESS_KEY")),
                endpoints: EndpointResolver(environment: ["AWS_ENDPOINT_URL_S3": proxy.baseURL]),
                retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(20))))
    }

    static let tree: [(String, Int)] =
        (0..<120).map { ("files/\($0 % 7)/f\($0).bin", 40_000 + $0) } + [
            ("big/one.bin", Int(SyncEngineTests.threshold) * 2 + 777),
            ("big/two.bin", Int(SyncEngineTests.threshold) + 5),
        ]

    static var configuration: SyncEngine.Configuration {
        .init(
            concurrency: 6, multipartThreshold: SyncEngineTests.threshold, partSize: SyncEngineTests.threshold,
            rangeSize: SyncEngineTests.threshold, giveUpAfter: .milliseconds(500), durableDownloads: true)  // the flushing path, under faults
    }

    @Test func interruptedSyncsResumeToACompleteCopy() async throws {
        let s3Port = try #require(URL(string: try Sandbox.s3Endpoint())?.port)
        try await withFaultProxy(targetPort: s3Port) { proxy in
            let s3 = try Self.client(through: proxy)
            let direct = try S3ClientTests.client()
            try await S3ClientTests.withBucket(direct) { bucket in
                try await Self.interruptAndResume(proxy: proxy, s3: s3, direct: direct, bucket: bucket)
            }
        }
    }

    /// The body of ``interruptedSyncsResumeToACompleteCopy()``: `s3` goes through `proxy`,
    /// `direct` does not.
    static func interruptAndResume(proxy: FaultProxy, s3: S3Client, direct: S3Client, bucket: String) async throws {
        let local = try SyncEngineTests.temporaryDirectory()
        let restored = try SyncEngineTests.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: local)
            try? FileManager.default.removeItem(atPath: restored)
        }
        try SyncEngineTests.write(Self.tree, under: local)
        let expected = Dictionary(uniqueKeysWithValues: Self.tree.map { ($0.0, SyncEngineTests.content($0.0, $0.1)) })
        let totalBytes = Self.tree.reduce(0) { $0 + $1.1 }

        // Upload, killed a third of the way through.
        let up = try SyncEngine(
            source: .local(local), destination: .s3(bucket: bucket, prefix: "home/"), destinationClient: s3,
            configuration: Self.configuration)
        proxy.cut(afterBytes: totalBytes / 3)
        let interrupted = try await up.sync()
        #expect(!interrupted.succeeded)
        #expect(interrupted.failures.count + interrupted.notAttempted > 0)
        #expect(interrupted.transferred < Self.tree.count)
        // Whatever arrived is whole: S3 never shows a partial object.
        for (key, data) in try await SyncEngineTests.objects(direct, bucket, prefix: "home/") {
            #expect(data == expected[key], "\(key)")
        }

        proxy.restore()
        let resumed = try await up.sync()
        #expect(resumed.succeeded, "\(resumed.failures)")
        // An upload whose answer was lost in the cut may have landed; the re-run then finds it in sync.
        #expect(resumed.transferred + interrupted.transferred <= Self.tree.count)
        #expect(resumed.transferred >= Self.tree.count - interrupted.transferred - interrupted.failures.count)
        #expect(try await up.plan().isEmpty)
        #expect(try await SyncEngineTests.objects(direct, bucket, prefix: "home/") == expected)

        // Download, killed halfway.
        let down = try SyncEngine(
            source: .s3(bucket: bucket, prefix: "home/"), destination: .local(restored), sourceClient: s3,
            configuration: Self.configuration)
        proxy.cut(afterBytes: totalBytes / 2)
        let cutDown = try await down.sync()
        #expect(!cutDown.succeeded)
        // No partial file under a final name: every file there is complete.
        for (key, data) in try SyncEngineTests.files(under: restored) where !key.contains(LocalFile.partialPrefix) {
            #expect(data == expected[key], "\(key) is under its final name but incomplete")
        }

        proxy.restore()
        let completed = try await down.sync()
        #expect(completed.succeeded, "\(completed.failures)")
        let files = try SyncEngineTests.files(under: restored)
        #expect(files == expected, "complete, and no partial files left behind")
        #expect(try await down.plan().isEmpty)
    }
}
