import AWSCore
import AtlasRelayTestSupport
import AtlassianAdmin
import Foundation
import S3Sync
import Testing

@testable import DataRefresh

/// Shared homes in content-addressed snapshots: a snapshot reads and uploads only what changed,
/// a restore fetches only what differs and ends byte for byte equal, retention keeps exactly the
/// contents kept snapshots name, and shards merge into one manifest with every path once.
struct IncrementalSnapshotTests {
    /// A PROD home, a DEV home and a snapshot bucket; no databases (the home steps need none).
    struct Homes {
        let root: String
        let prod: String
        let dev: String
        let s3: S3Client
        let location: SnapshotLocation
        // Never connected to: the home steps do not touch the database.
        let database = try! DatabaseLocation(url: "postgresql://nobody@127.0.0.1:9/none")

        init() async throws {
            root = try SyncEngineTestsSupport.temporaryDirectory()
            prod = root + "/prod"
            dev = root + "/dev"
            let aws = try Sandbox.s3AWSClient()
            s3 = S3Client(aws)
            location = SnapshotLocation(bucket: try await Sandbox.makeBucket(aws, prefix: "incr"), prefix: "nightly/")
        }

        func provider(keep: Int = 2) -> DataProvider {
            DataProvider(
                environment: "prod", sources: [.init(name: "jira", database: database, sharedHome: prod)],
                location: location, s3: s3, keep: keep)
        }

        var refresher: DataRefresher {
            DataRefresher(
                settings: EnvironmentSettings(environment: "dev"),
                targets: [
                    .init(name: "jira", database: database, sharedHome: dev, url: "http://127.0.0.1:9", credentials: nil)
                ], location: location, s3: s3, production: .init(databases: [], urls: []),
                workDirectory: root + "/work")
        }

        /// A snapshot of the PROD home as `provide` writes it, without the database.
        func snapshot(_ id: String, previous: SnapshotManifest?) async throws -> (SnapshotManifest, DataProvider.HomeSnapshot) {
            let provider = provider()
            let home = try await provider.snapshotHome(provider.sources[0], snapshot: id, previous: previous)
            let manifest = SnapshotManifest(
                id: id, sourceEnvironment: "prod",
                products: [
                    .init(
                        name: "jira", dumpKey: "jira/database.dump", dumpBytes: 0, dumpSHA256: "",
                        sharedHomeManifest: "jira/" + HomeManifest.fileName, sharedHomeManifestSHA256: home.manifestSHA256,
                        sharedHomeObjects: home.files, sharedHomeBytes: home.bytes)
                ], toolVersion: "test")
            try await provider.writeManifest(manifest)
            return (manifest, home)
        }

        func contents() async throws -> Set<String> {
            Set(try await s3.listAllObjects(bucket: location.bucket, prefix: location.contentPrefix).map {
                String($0.key.split(separator: "/").last!)
            })
        }

        func close() async {
            try? await Sandbox.deleteBucket(s3.aws, location.bucket)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    static func withHomes<T>(_ body: (Homes) async throws -> T) async throws -> T {
        try await withResource(Homes.init, cleanup: { await $0.close() }, body: body)
    }

    static func write(_ files: [String: String], under root: String) throws {
        for (path, text) in files {
            let file = root + "/" + path
            try FileManager.default.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        }
    }

    static func tree(_ root: String) throws -> [String: Data] {
        var result: [String: Data] = [:]
        guard let walk = FileManager.default.enumerator(atPath: root) else { return [:] }
        while let relative = walk.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                result[relative] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + relative))
            }
        }
        return result
    }

    static func inode(_ path: String) throws -> UInt64 {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? UInt64)
    }

    static let files: [String: String] = (0..<40).reduce(into: [:]) { files, index in
        files["data/attachments/PROJ/10000/\(10_000 + index)"] = "attachment \(index)"
    }.merging(["data/avatars/same-a.png": "same bytes", "data/avatars/same-b.png": "same bytes", "caches/x": "cache"]) {
        $1
    }

    @Test func aSecondSnapshotReadsAndStoresOnlyWhatChangedAndARestoreFetchesOnlyThat() async throws {
        try await Self.withHomes { homes in
            try Self.write(Self.files, under: homes.prod)
            try Self.write(["data/stale.txt": "DEV only", "data/attachments/PROJ/10000/10003": "edited in DEV"], under: homes.dev)

            let (first, firstHome) = try await homes.snapshot("20260101T000000Z", previous: nil)
            #expect(firstHome.files == 42, "caches/ is excluded")
            #expect(firstHome.hashed == 42 && firstHome.uploaded == 41, "two paths with the same bytes store them once")
            #expect(try await homes.contents().count == 41)

            try await homes.refresher.syncSharedHomes(first)
            var expected = try Self.tree(homes.prod)
            expected["caches/x"] = nil
            #expect(try Self.tree(homes.dev) == expected, "the restored home is the snapshot, byte for byte")
            let untouched = homes.dev + "/data/attachments/PROJ/10000/10005"
            let inode = try Self.inode(untouched)

            // One night: one attachment changed, one added, one removed.
            try Self.write(
                ["data/attachments/PROJ/10000/10001": "attachment 1, edited", "data/attachments/PROJ/10001/new": "new"],
                under: homes.prod)
            try FileManager.default.removeItem(atPath: homes.prod + "/data/attachments/PROJ/10000/10002")
            let (second, secondHome) = try await homes.snapshot("20260102T000000Z", previous: first)
            #expect(secondHome.files == 42)
            #expect(secondHome.hashed == 2, "only the changed and the new file are read")
            #expect(secondHome.uploaded == 2 && secondHome.uploadedBytes == Int64("attachment 1, edited".utf8.count + 3))
            #expect(try await homes.contents().count == 43, "the first snapshot's contents are all still named")

            try await homes.refresher.syncSharedHomes(second)
            expected = try Self.tree(homes.prod)
            expected["caches/x"] = nil
            #expect(try Self.tree(homes.dev) == expected)
            #expect(try Self.inode(untouched) == inode, "a file already in sync is not fetched again")
        }
    }

    @Test func retentionDeletesOnlyContentsNoKeptSnapshotNames() async throws {
        try await Self.withHomes { homes in
            try Self.write(["a": "one", "b": "two"], under: homes.prod)
            _ = try await homes.snapshot("20260101T000000Z", previous: nil)
            try await Task.sleep(for: .milliseconds(1100))  // S3 times are whole seconds
            let first = try await homes.location.manifest("20260101T000000Z", homes.s3)
            try Self.write(["a": "one, changed"], under: homes.prod)
            let (second, _) = try await homes.snapshot("20260102T000000Z", previous: first)
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await homes.contents().count == 3)

            try await homes.provider(keep: 1).prune()
            #expect(try await homes.location.snapshots(homes.s3).complete == [second.id])
            let reader = try HomeManifest.Reader(
                path: try await HomeManifest.download(
                    homes.s3, location: homes.location, snapshot: second.id, key: second.products[0].sharedHomeManifest,
                    into: homes.root + "/check"))
            let named = Set(try reader.nextLines()!.map(\.sha256))
            #expect(try await homes.contents() == named, "exactly what the kept snapshot names")
        }
    }

    @Test func shardsMergeIntoOneManifestWithEveryPathOnce() async throws {
        try await Self.withHomes { homes in
            try Self.write(Self.files, under: homes.prod)
            let provider = homes.provider()
            let id = "20260103T000000Z"
            // Three workers, as a CodeBuild batch runs them: each its own process in AWS.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<3 {
                    group.addTask {
                        try await provider.snapshotHomeShard(try Shard(index: index, count: 3), snapshot: id)
                    }
                }
                try await group.waitForAll()
            }
            let merged = try await provider.mergeHomeShards(provider.sources[0], snapshot: id, count: 3)
            #expect(merged.files == 42)
            let (whole, _) = try await homes.snapshot("20260104T000000Z", previous: nil)
            #expect(merged.manifestSHA256 == whole.products[0].sharedHomeManifestSHA256, "the same manifest as one worker's")

            // A missing shard, or a path a shard does not own, is refused.
            await #expect(throws: DataRefreshError.self) {
                _ = try await provider.mergeHomeShards(provider.sources[0], snapshot: id, count: 4)
            }
            // A file written after the workers walked is tomorrow's; an old one no part holds was missed.
            try Self.write(["data/late-arrival": "written after the workers walked"], under: homes.prod)
            #expect(try await provider.mergeHomeShards(provider.sources[0], snapshot: id, count: 3).files == 42)
            try Self.write(["data/missed": "old, and in no part"], under: homes.prod)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_577_836_800)], ofItemAtPath: homes.prod + "/data/missed")
            let error = await #expect(throws: DataRefreshError.self) {
                _ = try await provider.mergeHomeShards(provider.sources[0], snapshot: id, count: 3)
            }
            #expect(error?.kind == .mismatch)
        }
    }
}

/// Folders for these tests.
enum SyncEngineTestsSupport {
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("incr-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
