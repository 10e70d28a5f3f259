import Foundation

/// One file or object in a listing, with the facts the planner compares.
public struct SyncEntry: Sendable, Equatable {
    /// What kind of thing a local entry is.
    public enum Kind: Sendable, Equatable {
        /// A regular file or an S3 object.
        case file
        /// A symbolic link the lister did not follow.
        case symlink
        /// A FIFO, socket or device: never transferred.
        case special
        /// An S3 console "folder" marker (a key ending in `/`): a folder to create in a local
        /// destination, an object like any other between two prefixes.
        case folder
    }

    /// The key relative to the sync root, `/`-separated.
    public let key: SyncKey
    /// The size in bytes.
    public let size: Int64
    /// Local modification time, or S3 `LastModified`.
    public let lastModified: Date
    /// The S3 ETag without quotes (an MD5 only for single-part, non-KMS uploads).
    public var eTag: String?
    /// Content checksums, when known.
    public var checksums: [ContentChecksum]
    /// The entry's kind.
    public var kind: Kind

    /// Creates an entry.
    public init(
        key: SyncKey, size: Int64, lastModified: Date, eTag: String? = nil, checksums: [ContentChecksum] = [],
        kind: Kind = .file
    ) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.eTag = eTag
        self.checksums = checksums
        self.kind = kind
    }

    /// The checksums this entry's content is known by: its own, and the MD5 its ETag is when the
    /// ETag is a plain MD5 (not a multipart `-N` ETag).
    public var knownChecksums: [ContentChecksum] {
        var known = checksums
        if let eTag, ContentChecksum.isPlainMD5ETag(eTag) {
            known.append(ContentChecksum(.md5, hex: eTag.lowercased()))
        }
        return known
    }
}

/// A content hash with its algorithm.
public struct ContentChecksum: Sendable, Hashable, CustomStringConvertible {
    /// Supported algorithms.
    public enum Algorithm: String, Sendable, Hashable {
        case md5 = "MD5"
        case crc32c = "CRC32C"
        case sha256 = "SHA256"
    }

    /// The algorithm.
    public let algorithm: Algorithm
    /// The value, lower-case hex.
    public let hex: String

    /// Creates a checksum.
    public init(_ algorithm: Algorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex.lowercased()
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }

    /// Whether an ETag is an MD5 of the content: 32 hex digits, no `-N` multipart suffix.
    public static func isPlainMD5ETag(_ eTag: String) -> Bool {
        eTag.utf8.count == 32
            && eTag.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) }
    }
}

/// How source and destination entries are compared.
public enum CompareMode: String, Sendable, Equatable, CaseIterable {
    /// The AWS CLI default: transfer when the sizes differ or the source is newer.
    case sizeAndTime
    /// `--size-only`: transfer only when the sizes differ.
    case sizeOnly
    /// `--exact-timestamps`: transfer when the sizes or the timestamps differ at all.
    case exactTimestamps
    /// `--checksum`: transfer when the content hashes differ; when no comparable hash is known
    /// for both sides, transfer (never assume equal).
    case checksum
}

/// A stable partition of the key space: shard `index` of `count` (from 0).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// This shard, `0..<count`.
    public let index: Int
    /// The number of shards.
    public let count: Int

    /// Creates a shard.
    ///
    /// - Throws: ``SyncError`` when `index` is not in `0..<count`.
    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw SyncError.invalidArgument(
                "shard \(index)/\(count) is impossible: use i/n with 0 ≤ i < n, for example 0/4")
        }
        self.index = index
        self.count = count
    }

    /// Parses `i/n`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw SyncError.invalidArgument("--shard '\(text)' is not i/n, for example 0/4")
        }
        try self.init(index: index, count: count)
    }

    /// Whether `key` belongs to this shard (FNV-1a of the key's bytes, the same on every machine).
    public func owns(_ key: SyncKey) -> Bool {
        Int(FNV1a.hash(key.string.utf8) % UInt64(count)) == index
    }

    public var description: String { "\(index)/\(count)" }
}

/// What the planner needs to know besides the two listings.
public struct SyncOptions: Sendable, Equatable {
    /// How entries are compared.
    public var compare: CompareMode
    /// Delete destination entries that the source does not have (never excluded ones).
    public var delete: Bool
    /// Include and exclude rules, applied to both sides.
    public var filter: SyncFilter
    /// Only this part of the key space, when set.
    public var shard: Shard?
    /// Let `delete` empty the destination when the source lists nothing. Off by default: an
    /// empty source beside a non-empty destination is far more often a mistyped path or a file
    /// system that failed to mount than a wish to delete everything (``SyncError/emptySource(_:)``).
    public var allowEmptySource: Bool

    /// Whether `key` is in this sync: the filter includes it and the shard, if any, owns it.
    public func covers(_ key: SyncKey) -> Bool {
        filter.includes(key) && (shard?.owns(key) ?? true)
    }

    /// Creates options.
    public init(
        compare: CompareMode = .sizeAndTime, delete: Bool = false, filter: SyncFilter = SyncFilter(),
        shard: Shard? = nil, allowEmptySource: Bool = false
    ) {
        self.allowEmptySource = allowEmptySource
        self.compare = compare
        self.delete = delete
        self.filter = filter
        self.shard = shard
    }
}

/// What to do, decided from two listings.
public struct SyncPlan: Sendable, Equatable {
    /// Why an entry is transferred.
    public enum Reason: String, Sendable, Equatable {
        case missing = "new"
        case sizeDiffers = "size differs"
        case sourceNewer = "source newer"
        case timestampDiffers = "timestamp differs"
        case checksumDiffers = "checksum differs"
        case checksumUnknown = "no comparable checksum"
    }

    /// Why an entry is left alone although it is in the source.
    public enum SkipReason: String, Sendable, Equatable {
        case symlink = "symbolic link not followed"
        case special = "not a regular file (FIFO, socket or device)"
    }

    /// An entry to transfer.
    public struct Transfer: Sendable, Equatable {
        /// The source entry.
        public let entry: SyncEntry
        /// Why.
        public let reason: Reason
    }

    /// Entries to transfer, in key order.
    public var transfers: [Transfer] = []
    /// Destination entries to delete, in key order.
    public var deletes: [SyncEntry] = []
    /// Source entries that are not transferred because of their kind (reported, never silent).
    public var skipped: [(entry: SyncEntry, reason: SkipReason)] = []
    /// Source entries refused because they cannot be placed below the destination (see
    /// ``SyncKey/unsafeReason``), with why: each is reported as a failure, never written.
    public var refused: [(entry: SyncEntry, reason: String)] = []
    /// Source entries already in sync.
    public var unchanged = 0
    /// Entries left out by the filter or the shard, on either side.
    public var filteredOut = 0

    /// The bytes the transfers will move.
    public var transferBytes: Int64 { transfers.reduce(0) { $0 + $1.entry.size } }

    /// Nothing to transfer and nothing to delete.
    public var isEmpty: Bool { transfers.isEmpty && deletes.isEmpty }

    public static func == (lhs: SyncPlan, rhs: SyncPlan) -> Bool {
        lhs.transfers == rhs.transfers && lhs.deletes == rhs.deletes && lhs.unchanged == rhs.unchanged
            && lhs.filteredOut == rhs.filteredOut
            && lhs.skipped.elementsEqual(rhs.skipped) { $0.entry == $1.entry && $0.reason == $1.reason }
            && lhs.refused.elementsEqual(rhs.refused) { $0.entry == $1.entry && $0.reason == $1.reason }
    }
}

/// Turns a source and a destination listing into a ``SyncPlan``. Pure: no I/O, no clock.
public enum SyncPlanner {
    /// Plans a sync.
    ///
    /// - Parameters:
    ///   - source: the source listing (keys relative to the source root).
    ///   - destination: the destination listing (keys relative to the destination root).
    ///   - options: compare mode, delete, filter, shard.
    /// - Returns: the transfers, deletions and skips, each in key order.
    public static func plan(source: [SyncEntry], destination: [SyncEntry], options: SyncOptions) -> SyncPlan {
        var plan = SyncPlan()
        func inScope(_ entry: SyncEntry) -> Bool {
            let kept = options.covers(entry.key)
            if !kept { plan.filteredOut += 1 }
            return kept
        }
        var existing: [SyncKey: SyncEntry] = [:]
        existing.reserveCapacity(destination.count)
        for entry in destination where inScope(entry) { existing[entry.key] = entry }

        var seen = Set<SyncKey>()
        seen.reserveCapacity(source.count)
        for entry in source.sorted(by: { $0.key < $1.key }) where inScope(entry) {
            seen.insert(entry.key)
            switch entry.kind {
            case .symlink:
                plan.skipped.append((entry, .symlink))
                continue
            case .special:
                plan.skipped.append((entry, .special))
                continue
            case .file, .folder:
                break
            }
            guard let target = existing[entry.key] else {
                plan.transfers.append(.init(entry: entry, reason: .missing))
                continue
            }
            if let reason = difference(entry, target, mode: options.compare) {
                plan.transfers.append(.init(entry: entry, reason: reason))
            } else {
                plan.unchanged += 1
            }
        }
        if options.delete {
            plan.deletes = existing.values.filter { !seen.contains($0.key) }.sorted { $0.key < $1.key }
        }
        return plan
    }

    /// Why `source` must be transferred over `destination`, or `nil` when they are in sync.
    static func difference(_ source: SyncEntry, _ destination: SyncEntry, mode: CompareMode) -> SyncPlan.Reason? {
        switch mode {
        case .sizeOnly:
            return source.size != destination.size ? .sizeDiffers : nil
        case .sizeAndTime:
            if source.size != destination.size { return .sizeDiffers }
            // S3 keeps whole seconds; compare at that precision.
            return wholeSeconds(source.lastModified) > wholeSeconds(destination.lastModified) ? .sourceNewer : nil
        case .exactTimestamps:
            if source.size != destination.size { return .sizeDiffers }
            return wholeSeconds(source.lastModified) != wholeSeconds(destination.lastModified) ? .timestampDiffers : nil
        case .checksum:
            if source.size != destination.size { return .sizeDiffers }
            let theirs = destination.knownChecksums
            for mine in source.knownChecksums {
                if let other = theirs.first(where: { $0.algorithm == mine.algorithm }) {
                    return other.hex == mine.hex ? nil : .checksumDiffers
                }
            }
            return .checksumUnknown
        }
    }

    static func wholeSeconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) }
}
