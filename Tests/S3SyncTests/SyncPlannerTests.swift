import Foundation
import Testing

@testable import S3Sync

struct SyncPlannerTests {
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)

    static func entry(
        _ key: String, _ size: Int64, _ offset: TimeInterval = 0, eTag: String? = nil, kind: SyncEntry.Kind = .file
    )
        -> SyncEntry
    {
        SyncEntry(key: SyncKey(key), size: size, lastModified: t0.addingTimeInterval(offset), eTag: eTag, kind: kind)
    }

    static func keys(_ transfers: [SyncPlan.Transfer]) -> [String] { transfers.map(\.entry.key.string) }

    @Test func newChangedAndUnchanged() {
        let source = [
            Self.entry("same.txt", 10), Self.entry("bigger.txt", 11), Self.entry("newer.txt", 10, 5),
            Self.entry("older.txt", 10, -5), Self.entry("new.txt", 1), Self.entry("subsecond.txt", 10, 0.7),
        ]
        let destination = [
            Self.entry("same.txt", 10), Self.entry("bigger.txt", 10), Self.entry("newer.txt", 10),
            Self.entry("older.txt", 10), Self.entry("subsecond.txt", 10), Self.entry("gone.txt", 3),
        ]
        let plan = SyncPlanner.plan(source: source, destination: destination, options: SyncOptions())
        #expect(Self.keys(plan.transfers) == ["bigger.txt", "new.txt", "newer.txt"])
        #expect(plan.transfers.map(\.reason) == [.sizeDiffers, .missing, .sourceNewer])
        #expect(plan.unchanged == 3)
        #expect(plan.deletes.isEmpty, "nothing is deleted without --delete")
        #expect(plan.transferBytes == 22)

        let deleting = SyncPlanner.plan(source: source, destination: destination, options: SyncOptions(delete: true))
        #expect(deleting.deletes.map(\.key) == ["gone.txt"])
    }

    @Test func compareModes() {
        let source = [Self.entry("a", 10, 100), Self.entry("b", 10, -100), Self.entry("c", 9)]
        let destination = [Self.entry("a", 10), Self.entry("b", 10), Self.entry("c", 10)]
        let sizeOnly = SyncPlanner.plan(
            source: source, destination: destination, options: SyncOptions(compare: .sizeOnly))
        #expect(Self.keys(sizeOnly.transfers) == ["c"])
        let exact = SyncPlanner.plan(
            source: source, destination: destination, options: SyncOptions(compare: .exactTimestamps))
        #expect(Self.keys(exact.transfers) == ["a", "b", "c"])
        #expect(exact.transfers.map(\.reason) == [.timestampDiffers, .timestampDiffers, .sizeDiffers])
    }

    @Test func checksumModeNeverTrustsMultipartETags() {
        let md5 = "9e107d9d372bb6826bd81d3542a419d6"
        var local = Self.entry("plain", 43)
        local.checksums = [ContentChecksum(.md5, hex: md5)]
        var localChanged = Self.entry("changed", 43)
        localChanged.checksums = [ContentChecksum(.md5, hex: "e4d909c290d0fb1ca068ffaddf22cbd0")]
        var localMultipart = Self.entry("multipart", 43)
        localMultipart.checksums = [ContentChecksum(.md5, hex: md5)]
        var localCRC = Self.entry("crc", 43)
        localCRC.checksums = [ContentChecksum(.crc32c, hex: "22620404")]
        var remoteCRC = Self.entry("crc", 43, 500, eTag: "d41d8cd98f00b204e9800998ecf8427e-2")
        remoteCRC.checksums = [ContentChecksum(.crc32c, hex: "22620404")]
        let destination = [
            Self.entry("plain", 43, 500, eTag: md5.uppercased()),
            Self.entry("changed", 43, -500, eTag: md5),
            Self.entry("multipart", 43, eTag: "\(md5)-3"),
            remoteCRC,
        ]
        let plan = SyncPlanner.plan(
            source: [local, localChanged, localMultipart, localCRC], destination: destination,
            options: SyncOptions(compare: .checksum))
        #expect(Self.keys(plan.transfers) == ["changed", "multipart"])
        #expect(plan.transfers.map(\.reason) == [.checksumDiffers, .checksumUnknown])
        #expect(plan.unchanged == 2)
    }

    @Test func awsCLIFilterOrderingLastMatchWins() {
        let filter = SyncFilter([.exclude("*"), .include("*.txt"), .exclude("logs/*")])
        #expect(filter.includes("a.txt"))
        #expect(filter.includes("deep/dir/b.txt"), "* crosses /")
        #expect(!filter.includes("a.jar"))
        #expect(!filter.includes("logs/x.txt"))
        let onlyCaches = SyncFilter([
            .exclude("caches/*"), .exclude("*.tmp"), .exclude("export/?.zip"), .exclude("[ab]*.log"),
        ])
        #expect(!onlyCaches.includes("caches/indexes/x"))
        #expect(onlyCaches.includes("data/caches/x"))
        #expect(!onlyCaches.includes("t/x.tmp"))
        #expect(!onlyCaches.includes("export/1.zip"))
        #expect(onlyCaches.includes("export/12.zip"))
        #expect(!onlyCaches.includes("b-1.log"))
        #expect(onlyCaches.includes("c-1.log"))
        #expect(SyncFilter([.exclude("[!a]*")]).includes("apple"))
        #expect(!SyncFilter([.exclude("[!a]*")]).includes("pear"))
        #expect(!SyncFilter([.exclude("weird[name")]).includes("weird[name"), "an unclosed [ is literal")
    }

    @Test func deleteNeverTouchesExcludedKeys() {
        let options = SyncOptions(delete: true, filter: SyncFilter([.exclude("keep/*")]))
        let plan = SyncPlanner.plan(
            source: [Self.entry("a", 1)],
            destination: [Self.entry("a", 1), Self.entry("keep/local-only", 1), Self.entry("stale", 1)],
            options: options)
        #expect(plan.deletes.map(\.key) == ["stale"])
        #expect(plan.filteredOut == 1)
    }

    @Test func keysAreBytes() {
        let composed = "caf\u{E9}.txt"
        let decomposed = "cafe\u{301}.txt"
        #expect(composed == decomposed, "Swift strings call these equal")
        #expect(SyncKey(composed) != SyncKey(decomposed))
        let long = String(repeating: "k", count: 1024)
        let keys = [composed, decomposed, "a b+c%20~d", "ключ/файл", long, "a/b", "a+b"]
        let plan = SyncPlanner.plan(
            source: keys.map { Self.entry($0, 1) }, destination: [Self.entry(decomposed, 1)],
            options: SyncOptions(delete: true))
        let expected: Set<SyncKey> = Set(keys.map { SyncKey($0) }).subtracting([SyncKey(decomposed)])
        let transferred: Set<SyncKey> = Set(plan.transfers.map { $0.entry.key })
        #expect(transferred == expected)
        #expect(transferred.contains(SyncKey(composed)))
        #expect(plan.unchanged == 1)
        #expect(plan.deletes.isEmpty)
        #expect(
            Self.keys(plan.transfers) == Self.keys(plan.transfers).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        )
    }

    @Test func symlinksAndSpecialFilesAreReportedNotSilentlySkipped() {
        let plan = SyncPlanner.plan(
            source: [
                Self.entry("link", 0, kind: .symlink), Self.entry("fifo", 0, kind: .special), Self.entry("file", 1),
            ],
            destination: [], options: SyncOptions(delete: true))
        #expect(Self.keys(plan.transfers) == ["file"])
        #expect(plan.skipped.map(\.reason) == [.special, .symlink])
    }

    @Test func shardsPartitionTheKeySpaceStably() throws {
        let keys = (0..<5000).map { SyncKey("attachments/\($0 % 97)/\($0).bin") }
        let shards = try (0..<4).map { try Shard(index: $0, count: 4) }
        for key in keys { #expect(shards.filter { $0.owns(key) }.count == 1) }
        let sizes = shards.map { shard in keys.filter(shard.owns).count }
        #expect(sizes.allSatisfy { $0 > 1000 && $0 < 1500 }, "roughly even: \(sizes)")
        // Stable across runs, machines and versions: FNV-1a 64 of the key's bytes modulo n
        // (values computed independently).
        #expect(try Shard(parsing: "2/4").owns("attachments/1/1.bin"))
        #expect(try Shard(parsing: "5/7").owns("attachments/1/1.bin"))
        #expect(try Shard(parsing: "3/4").owns("secure/attachments/10000/JIRA-1/123"))
        #expect(try Shard(parsing: "4/7").owns("secure/attachments/10000/JIRA-1/123"))
        #expect(throws: SyncError.self) { try Shard(parsing: "4/4") }
        #expect(throws: SyncError.self) { try Shard(parsing: "x") }

        let source = keys.prefix(200).map { SyncEntry(key: $0, size: 1, lastModified: Self.t0) }
        let total = try (0..<3).map { index in
            SyncPlanner.plan(
                source: Array(source), destination: [], options: SyncOptions(shard: try Shard(index: index, count: 3))
            )
            .transfers.count
        }.reduce(0, +)
        #expect(total == 200)
    }
}
