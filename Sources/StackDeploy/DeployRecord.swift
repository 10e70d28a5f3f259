import Foundation
import NIOCore
import S3Sync

/// What was deployed into an environment, when and by which run: written by a deployer that
/// succeeded, into the environment's deploy bucket, as `deployed/current.json` and
/// `deployed/history/<time>-<commit>.json`. The history answers "which commit ran here before?"
/// for a rollback; pass records (`passed/<phase>/<commit>.json`) answer "which commits passed?".
public struct DeployRecord: Codable, Sendable, Equatable {
    /// The commit deployed.
    public let commit: String
    /// The phase that deployed it (`nightly`, `uat`, `go-live`).
    public let phase: String
    /// The environment.
    public let environment: String
    /// `cold` or `hot`.
    public let deployer: String
    /// When the deploy finished.
    public let deployedAt: Date
    /// The run: CodeBuild's build id, or the machine and process of a local run.
    public let run: String
    /// A link to the run, when there is one.
    public let link: String?

    /// Creates a record.
    public init(
        commit: String, phase: String, environment: String, deployer: String, deployedAt: Date = Date(), run: String,
        link: String? = nil
    ) {
        self.commit = commit
        self.phase = phase
        self.environment = environment
        self.deployer = deployer
        self.deployedAt = deployedAt
        self.run = run
        self.link = link
    }

    static let currentKey = "deployed/current.json"
    static let historyPrefix = "deployed/history/"

    /// Writes the record into `bucket`: the history entry first, then `current.json`.
    public func write(to bucket: DeployBucket) async throws {
        let data = ByteBuffer(bytes: try CodeReleaser.encoder.encode(self))
        // Milliseconds, so that deploys within one second still sort in the order they happened.
        let stamp = deployedAt.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            .replacingOccurrences(of: ":", with: "")
        for key in [Self.historyPrefix + "\(stamp)-\(commit).json", Self.currentKey] {
            try await bucket.s3.putObject(
                bucket: bucket.bucket, key: key, data: data, options: .init(contentType: "application/json"))
        }
    }

    /// What `bucket`'s environment runs now, nil before its first recorded deploy.
    public static func current(in bucket: DeployBucket) async throws -> DeployRecord? {
        guard let data = try await bucket.s3.getObjectData(bucket: bucket.bucket, key: currentKey) else { return nil }
        return try CodeReleaser.decoder.decode(DeployRecord.self, from: data)
    }

    /// The deploys recorded in `bucket`, newest first (at most `limit`).
    public static func history(in bucket: DeployBucket, limit: Int = 20) async throws -> [DeployRecord] {
        let keys = try await bucket.s3.listAllObjects(bucket: bucket.bucket, prefix: historyPrefix)
            .map(\.key).sorted(by: >).prefix(limit)
        var records: [DeployRecord] = []
        for key in keys {
            guard let data = try await bucket.s3.getObjectData(bucket: bucket.bucket, key: key) else { continue }
            records.append(try CodeReleaser.decoder.decode(DeployRecord.self, from: data))
        }
        return records
    }

    /// The commits that passed `phase` in `bucket`, newest first, with when they passed (the
    /// records' write times).
    public static func passes(of phase: String, in bucket: DeployBucket) async throws -> [(commit: String, at: Date)] {
        let prefix = "passed/\(phase)/"
        return try await bucket.s3.listAllObjects(bucket: bucket.bucket, prefix: prefix)
            .compactMap { object -> (commit: String, at: Date)? in
                let name = object.key.dropFirst(prefix.count)
                guard name.hasSuffix(".json") else { return nil }
                return (String(name.dropLast(5)), object.lastModified)
            }
            .sorted { $0.at > $1.at }
    }
}
