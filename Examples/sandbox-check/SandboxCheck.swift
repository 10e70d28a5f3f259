import AWSCore
import ArgumentParser
import Crypto
import Foundation
import Logging
import NIOCore
import RelayFoundation

/// `make demo` until the pipeline phases exist: proves the foundation against the local sandbox.
///
/// Resolves credentials through the default chain, asks STS who they are, assumes a role in a
/// second (DEV) account and checks the new identity, then streams a generated file into S3 with
/// chunk-signed aws-chunked upload and reads it back, verifying its SHA-256.
@main
struct SandboxCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox-check",
        abstract: "Round-trip STS and S3 through the local sandbox (or any AWS endpoint set in the environment).")

    @Option(help: "Role to assume in the second account.")
    var roleArn = "arn:aws:iam::222222222222:role/atlas-relay-dev-deployer"

    @Option(help: "Bucket for the S3 round trip (created if missing).")
    var bucket = "atlas-relay-sandbox"

    @Option(help: "MiB to upload.")
    var mebibytes = 32

    func run() async throws {
        var logger = Logger(label: "sandbox-check")
        logger.logLevel = .info
        let environment = ProcessInfo.processInfo.environment
        let region = RegionResolver.region(environment: environment) ?? "us-east-1"
        let aws = AWSClient(region: region, credentialProvider: .default(environment: environment), logger: logger)

        let sts = STSClient(aws)
        let me = try await sts.getCallerIdentity()
        print("✔ STS GetCallerIdentity   account \(me.account)  \(me.arn)")

        let role = CachingCredentialProvider.assumeRole(
            AssumeRoleSettings(roleArn: roleArn, sessionName: "sandbox-check"), source: aws.credentialProvider,
            region: region)
        let dev = try await STSClient(AWSClient(region: region, credentialProvider: role)).getCallerIdentity()
        print("✔ STS AssumeRole          account \(dev.account)  \(dev.arn)")

        try await createBucketIfMissing(aws)
        let size = mebibytes << 20
        let key = "sandbox-check/\(Int(Date().timeIntervalSince1970)).bin"
        let started = ContinuousClock.now
        _ = try await aws.execute(
            AWSRequest(
                service: .s3, operation: "PutObject", method: .PUT, path: "/" + S3Path.encodeKey(key),
                body: .stream(length: Int64(size), signing: .chunked(chunkSize: 1 << 20)) { Self.pattern(size: size) },
                bucket: bucket))
        let uploaded = ContinuousClock.now - started

        let readStarted = ContinuousClock.now
        let (received, digest) = try await aws.execute(
            AWSRequest(service: .s3, operation: "GetObject", path: "/" + S3Path.encodeKey(key), bucket: bucket)
        ) { response in
            var hasher = SHA256()
            var count = 0
            for try await buffer in response.body {
                hasher.update(data: buffer.readableBytesView)
                count += buffer.readableBytes
            }
            return (count, hasher.finalize())
        }
        let downloaded = ContinuousClock.now - readStarted
        var expected = SHA256()
        for try await buffer in Self.pattern(size: size) { expected.update(data: buffer.readableBytesView) }
        guard received == size, digest == expected.finalize() else {
            throw ValidationError("the object read back differs from what was written (\(received) of \(size) bytes)")
        }
        print(
            "✔ S3 chunk-signed PUT     \(mebibytes) MiB to s3://\(bucket)/\(key) at \(Self.rate(size, uploaded))")
        print("✔ S3 streamed GET         \(mebibytes) MiB, SHA-256 verified, at \(Self.rate(size, downloaded))")
        print("The sandbox works: credentials, STS, role assumption and signed streaming S3 transfers.")
    }

    func createBucketIfMissing(_ aws: AWSClient) async throws {
        do {
            _ = try await aws.execute(
                AWSRequest(service: .s3, operation: "HeadBucket", method: .HEAD, path: "/", bucket: bucket))
        } catch let error as AWSServiceError where error.statusCode == 404 {
            _ = try await aws.execute(
                AWSRequest(service: .s3, operation: "CreateBucket", method: .PUT, path: "/", bucket: bucket))
        }
    }

    /// A deterministic pattern in 1 MiB buffers (each filled with a byte derived from its index), generated on demand.
    static func pattern(size: Int) -> Pattern { Pattern(size: size) }

    struct Pattern: AsyncSequence, Sendable {
        let size: Int
        struct AsyncIterator: AsyncIteratorProtocol {
            let size: Int
            var produced = 0
            mutating func next() async throws -> ByteBuffer? {
                guard produced < size else { return nil }
                let count = Swift.min(1 << 20, size - produced)
                let buffer = ByteBuffer(repeating: UInt8(truncatingIfNeeded: produced >> 20 &* 37), count: count)
                produced += count
                return buffer
            }
        }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(size: size) }
    }

    static func rate(_ bytes: Int, _ duration: Duration) -> String {
        String(format: "%.1f MiB/s", Double(bytes) / 1_048_576 / max(duration.seconds, 0.000_001))
    }
}
