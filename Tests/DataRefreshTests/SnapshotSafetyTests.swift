import AWSSigning
import AWSCore
import AtlasRelayTestSupport
import Crypto
import NIOCore
import Foundation
import RelayFoundation
import S3Sync
import Testing

@testable import DataRefresh

/// A snapshot of a missing, empty or shrunken shared home is never completed, and a refresh never
/// restores a snapshot that is empty or differs from its manifest: DEV's home is not wiped.
struct SnapshotSafetyTests {
    typealias World = DataRefreshTests.World

    static func provider(_ world: World, homes: [String: String]? = nil, share: Double = 0.5, allowEmpty: Bool = false)
        -> DataProvider
    {
        var provider = world.provider
        if let homes { provider.sources = provider.sources.map { var s = $0; s.sharedHome = homes[s.name] ?? s.sharedHome; return s } }
        provider.minimumShareOfPrevious = share
        provider.allowEmptySharedHome = allowEmpty
        return provider
    }

    static func kind(of body: () async throws -> Void) async -> DataRefreshError.Kind? {
        do {
            try await body()
            return nil
        } catch let error as DataRefreshError {
            return error.kind
        } catch {
            return nil
        }
    }

    @Test func aMissingOrEmptySharedHomeMakesNoSnapshot() async throws {
        try await DataRefreshTests.withWorld { world in
            let missing = Self.provider(world, homes: ["jira": world.root + "/prod-jira-TYPO"])
            #expect(await Self.kind { _ = try await missing.provide() } == .sourceMissing)

            let emptyHome = world.root + "/empty-home"
            try FileManager.default.createDirectory(atPath: emptyHome, withIntermediateDirectories: true)
            let empty = Self.provider(world, homes: ["confluence": emptyHome])
            #expect(await Self.kind { _ = try await empty.provide() } == .unexpectedlyEmpty)
            #expect(try await world.location.snapshots(world.s3).complete.isEmpty, "nothing was completed")
        }
    }

    @Test func aSharedHomeFarSmallerThanLastTimeMakesNoSnapshot() async throws {
        try await DataRefreshTests.withWorld { world in
            let home = try #require(world.prodHome["jira"])
            for index in 0..<4 {
                try Data("more \(index)".utf8).write(to: URL(fileURLWithPath: "\(home)/data/extra-\(index)"))
            }
            let first = try await world.provider.provide(now: Date(timeIntervalSinceNow: -60))
            #expect(first.products.first { $0.name == "jira" }?.sharedHomeObjects == 6)

            // Five of six files gone: a failed mount or a wrong path, not a night's deletions.
            for index in 0..<4 { try FileManager.default.removeItem(atPath: "\(home)/data/extra-\(index)") }
            try FileManager.default.removeItem(atPath: "\(home)/data/avatars/1.png")
            #expect(await Self.kind { _ = try await world.provider.provide() } == .unexpectedlyEmpty)
            #expect(try await world.location.snapshots(world.s3).complete == [first.id])

            // An operator who knows the data really went can say so for one run.
            let accepted = try await Self.provider(world, share: 0).provide()
            #expect(accepted.products.first { $0.name == "jira" }?.sharedHomeObjects == 1)
        }
    }

    @Test func aRefreshRefusesAnEmptySnapshotAndLeavesDEVAlone() async throws {
        try await DataRefreshTests.withWorld { world in
            let emptyHome = world.root + "/empty-home"
            try FileManager.default.createDirectory(atPath: emptyHome, withIntermediateDirectories: true)
            _ = try await Self.provider(world, homes: ["jira": emptyHome], allowEmpty: true).provide()

            let refresher = world.refresher()
            #expect(await Self.kind { _ = try await refresher.refresh() } == .unexpectedlyEmpty)
            #expect(world.stops.withLock { $0 } == 0, "nothing was stopped")
            let devHome = try #require(world.devHome["jira"])
            #expect(FileManager.default.fileExists(atPath: devHome + "/data/stale.txt"))
        }
    }

    @Test func aRefreshRefusesASnapshotThatNoLongerMatchesItsManifest() async throws {
        try await DataRefreshTests.withWorld { world in
            let manifest = try await world.provider.provide()
            let product = try #require(manifest.products.first { $0.name == "confluence" })
            // The home manifest loses a line after the snapshot was taken.
            let key = world.location.prefix(of: manifest.id) + product.sharedHomeManifest
            let original = try #require(try await world.s3.getObjectData(bucket: world.location.bucket, key: key))
            let shortened = String(decoding: original, as: UTF8.self).split(separator: "\n").dropFirst()
                .map { $0 + "\n" }.joined()
            _ = try await world.s3.putObject(bucket: world.location.bucket, key: key, data: ByteBuffer(string: shortened))

            let refresher = world.refresher()
            #expect(await Self.kind { _ = try await refresher.refresh() } == .mismatch)
            #expect(world.stops.withLock { $0 } == 0, "nothing was stopped")
            let devHome = try #require(world.devHome["confluence"])
            #expect(FileManager.default.fileExists(atPath: devHome + "/data/stale.txt"))
        }
    }
}

/// The `data-refresh` executable: secrets stay off the command line, refusals exit 2.
struct DataRefreshToolTests {
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (
        status: Int32, stderr: String
    ) {
        let output = try await ProcessRunner.run(
            BuiltProducts.path("data-refresh"), arguments, environment: environment, timeout: .seconds(120))
        return (output.status, String(decoding: output.stderr, as: UTF8.self))
    }

    @Test func aPasswordOnTheCommandLineIsRefusedAndAMissingHomeExitsTwo() async throws {
        let url = try Sandbox.postgresURL()
        let home = "/nonexistent/shared-home-\(UUID())"
        let common = ["provide", "--bucket", "snapshots-none", "--endpoint-url", try Sandbox.s3Endpoint()]

        let inline = try await Self.run(common + ["--jira-db", url, "--jira-home", home])
        #expect(inline.status == 2)
        #expect(!inline.stderr.contains("relay-sandbox"), "the password is not repeated")
        #expect(inline.stderr.contains("env:NAME"), "it says what to write instead")

        // Read from the environment, the URL is accepted; the missing home is refused before any dump.
        let fromEnvironment = try await Self.run(
            common + ["--jira-db", "env:JIRA_DB_URL", "--jira-home", home], environment: ["JIRA_DB_URL": url])
        #expect(fromEnvironment.status == 2, "\(fromEnvironment.stderr)")
        #expect(fromEnvironment.stderr.contains(home))
        #expect(!fromEnvironment.stderr.contains("relay-sandbox"))

        let usage = try await Self.run(["provide", "--no-such-option"])
        #expect(usage.status == 2)
    }

    @Test func aTargetHomeInsidePRODsHomeIsRefusedWithStatusTwo() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("prodhome-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let prodHome = root + "/prod-home"
        try FileManager.default.createDirectory(atPath: prodHome + "/data", withIntermediateDirectories: true)
        try Data("PROD".utf8).write(to: URL(fileURLWithPath: prodHome + "/data/attachment"))
        let settings = root + "/dev.yml"
        try Data("environment: dev\n".utf8).write(to: URL(fileURLWithPath: settings))
        let url = try Sandbox.postgresURL()
        let result = try await Self.run(
            [
                "refresh", "--bucket", "snapshots-none", "--endpoint-url", try Sandbox.s3Endpoint(), "--settings",
                settings, "--jira-db", "env:DEV_DB", "--jira-home", prodHome + "/data/../", "--jira-url",
                "http://127.0.0.1:9", "--prod-db", "env:PROD_DB", "--prod-home", prodHome,
            ], environment: ["DEV_DB": url + "_dev", "PROD_DB": url])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: prodHome + "/data/attachment"))
    }
}

/// Dumps come back in ranges, each well within the request deadline, and are checked whole.
struct DumpDownloadTests {
    @Test func aDumpLargerThanOneRangeComesBackWholeAndChecked() async throws {
        let s3 = S3Client(try Sandbox.s3AWSClient())
        try await withSandboxBucket(s3.aws, prefix: "dump") { bucket in
            let bytes = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            try await s3.putObject(bucket: bucket, key: "d.dump", data: .init(bytes: bytes))
            let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: file) }

            try await PostgresTools.download(
                s3, bucket: bucket, key: "d.dump", to: file, bytes: 10_000, sha256: digest, rangeSize: 999)
            #expect(FileManager.default.contents(atPath: file) == bytes)

            // The manifest says less than the object holds: refused, not truncated silently.
            await #expect {
                try await PostgresTools.download(
                    s3, bucket: bucket, key: "d.dump", to: file, bytes: 9_000, sha256: digest, rangeSize: 999)
            } throws: { ($0 as? DataRefreshError)?.kind == .mismatch }
        }
    }

    @Test func aListingThatRepeatsItsContinuationTokenEndsInAnError() async throws {
        // The server ends its loop after 50 pages: a client that trusted it returns (and fails
        // the test) instead of hanging, so no wall-clock limit is needed.
        let (outcome, requests) = try await TestHTTPServer.withLoopingS3Listing { server in
            let s3 = S3Client(server.s3AWSClient())
            do {
                _ = try await SnapshotLocation(bucket: "bucket").snapshots(s3)
                return (false, server.requests.count)
            } catch is DataRefreshError {
                return (true, server.requests.count)
            }
        }
        #expect(outcome, "a looping server is an error, not a listing that never ends")
        #expect(requests <= 2, "stopped at the first repeated token")
    }
}
