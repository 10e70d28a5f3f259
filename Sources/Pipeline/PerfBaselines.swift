import AppTesting
import Foundation
import NIOCore
import S3Sync
import StackDeploy

/// The load runs kept beside each release in a deploy bucket, the baselines of later runs:
/// `releases/<commit>/perf/<started>-<passed|failed>.json.gz`, each an archived ``PerfResult``
/// (every action's histogram and the timeline, gzip-compressed JSON).
struct PerfBaselines {
    /// The bucket the runs are kept in (UAT's).
    let bucket: DeployBucket

    /// A stored run.
    struct Stored {
        /// Its key in the bucket.
        let key: String
        /// The commit it measured.
        let commit: String
        /// The run.
        let result: PerfResult
    }

    static func prefix(_ commit: String) -> String { "releases/\(commit)/perf/" }

    /// Keeps `result`, the run of `commit`, and says whether its gates passed.
    ///
    /// - Returns: the key it was written to.
    @discardableResult
    func store(_ result: PerfResult, commit: String, passed: Bool) async throws -> String {
        let stamp = result.started.formatted(
            Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day().time(includingFractionalSeconds: false)
                .timeSeparator(.omitted).dateSeparator(.omitted))
        let key = Self.prefix(commit) + "\(stamp)-\(passed ? "passed" : "failed").json.gz"
        try await bucket.s3.putObject(
            bucket: bucket.bucket, key: key, data: ByteBuffer(data: try result.archived()),
            options: .init(contentType: "application/gzip"))
        return key
    }

    /// The latest run of `commit` whose gates passed, or nil when there is none.
    ///
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/damagedBaseline`` when the stored
    ///   run cannot be read; S3 errors as they come.
    func latestPassed(of commit: String) async throws -> Stored? {
        let objects = try await bucket.s3.listAllObjects(bucket: bucket.bucket, prefix: Self.prefix(commit))
        guard let latest = objects.map(\.key).filter({ $0.hasSuffix("-passed.json.gz") }).max() else { return nil }
        guard let data = try await bucket.s3.getObjectData(bucket: bucket.bucket, key: latest) else { return nil }
        do {
            return Stored(key: latest, commit: commit, result: try PerfResult(archive: data))
        } catch {
            throw PipelineError(
                "the baseline \(bucket.location)/\(latest) is damaged (\(error)); delete it to use the run before it, "
                    + "or name another commit in tests.perf.baseline", kind: .damagedBaseline)
        }
    }
}
