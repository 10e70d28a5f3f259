import AWSCore
import AWSSigning
import Benchmark
import Foundation
import S3Sync

/// local→S3 and S3→local syncs of 2000 × 16 KiB and 8 × 64 MiB against the sandbox's SeaweedFS.
/// Each iteration syncs into a fresh prefix or folder, so every iteration is a full transfer.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .peakMemoryResident, .throughput],
        timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(120), maxIterations: 5)

    for set in DataSet.all {
        Benchmark("upload \(set.name)") { benchmark in
            let fixture = try await Fixture.shared()
            let root = try set.materialise()
            for iteration in benchmark.scaledIterations {
                let engine = try SyncEngine(
                    source: .local(root), destination: .s3(bucket: fixture.bucket, prefix: "up-\(UUID().uuidString)-\(iteration)/"),
                    destinationClient: fixture.s3)
                benchmark.startMeasurement()
                let summary = try await engine.sync()
                benchmark.stopMeasurement()
                precondition(summary.succeeded && summary.transferred == set.count, "upload failed: \(summary.failures.prefix(3))")
            }
        }

        Benchmark("download \(set.name)") { benchmark in
            let fixture = try await Fixture.shared()
            let seed = try await fixture.seed(set)
            for _ in benchmark.scaledIterations {
                let target = NSTemporaryDirectory() + "relay-bench-down-\(UUID().uuidString)"
                let engine = try SyncEngine(
                    source: .s3(bucket: fixture.bucket, prefix: seed), destination: .local(target), sourceClient: fixture.s3)
                benchmark.startMeasurement()
                let summary = try await engine.sync()
                benchmark.stopMeasurement()
                try? FileManager.default.removeItem(atPath: target)
                precondition(summary.succeeded && summary.transferred == set.count, "download failed: \(summary.failures.prefix(3))")
            }
        }
    }
}

struct DataSet: Sendable {
    let name: String
    let count: Int
    let size: Int

    static let all = [DataSet(name: "2000 x 16 KiB", count: 2000, size: 16 << 10), DataSet(name: "8 x 64 MiB", count: 8, size: 64 << 20)]

    /// Writes the files once under the temporary folder and returns their root.
    func materialise() throws -> String {
        let root = NSTemporaryDirectory() + "relay-bench-\(count)x\(size)"
        let marker = root + ".complete"
        if FileManager.default.fileExists(atPath: marker) { return root }
        try? FileManager.default.removeItem(atPath: root)
        var generator = SystemRandomNumberGenerator()
        for index in 0..<count {
            let folder = root + "/dir\(index % 20)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let bytes = (0..<size / 8).map { _ in generator.next() as UInt64 }
            try bytes.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: folder + "/file\(index).bin")) }
        }
        FileManager.default.createFile(atPath: marker, contents: nil)
        return root
    }
}

/// The client, bucket and seeded download sources, made once per process.
actor Fixture {
    let s3: S3Client
    let bucket: String
    private var seeded: [String: String] = [:]
    /// Made once, on first use, and shared by all benchmarks.
    private static let instance = Task { try await Fixture() }

    init() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["AWS_ENDPOINT_URL_S3"] else {
            fatalError("AWS_ENDPOINT_URL_S3 is not set: run ../scripts/services.sh start and . ../.sandbox/env first")
        }
        s3 = S3Client(
            AWSClient(
                region: environment["AWS_REGION"] ?? "us-east-1", credentialProvider: .default(environment: environment),
                endpoints: EndpointResolver(environment: ["AWS_ENDPOINT_URL_S3": endpoint])))
        bucket = "bench-\(Int(Date().timeIntervalSince1970))"
        _ = try await s3.aws.execute(AWSRequest(service: .s3, operation: "CreateBucket", method: .PUT, path: "/", bucket: bucket))
    }

    static func shared() async throws -> Fixture { try await instance.value }

    func seed(_ set: DataSet) async throws -> String {
        if let prefix = seeded[set.name] { return prefix }
        let prefix = "seed-\(set.count)x\(set.size)/"
        let summary = try await SyncEngine(
            source: .local(try set.materialise()), destination: .s3(bucket: bucket, prefix: prefix), destinationClient: s3
        ).sync()
        precondition(summary.succeeded)
        seeded[set.name] = prefix
        return prefix
    }
}
