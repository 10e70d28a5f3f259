import Crypto
import Foundation
import RelayFoundation
import S3Sync

/// The shared home of a snapshot: a manifest of every file, and each content not yet in the
/// content store uploaded once (``HomeManifest``).
extension DataProvider {
    /// What snapshotting one shared home did.
    public struct HomeSnapshot: Sendable, Equatable {
        /// Files recorded, and their bytes.
        public var files: Int
        public var bytes: Int64
        /// The manifest's SHA-256.
        public var manifestSHA256: String
        /// Files read and hashed (new or changed since the previous snapshot); the rest were
        /// taken from the previous manifest by size and time, unread.
        public var hashed: Int
        /// Contents uploaded (not yet in the store), and their bytes.
        public var uploaded: Int
        public var uploadedBytes: Int64
        /// Entries left alone because of their kind (links not followed, FIFOs, sockets), by path.
        public var skipped: [String]
    }

    /// How many files are hashed, and how many contents looked for in the store, at once.
    static let hashConcurrency = 8

    /// Walks `source`'s shared home in key order beside `previous`'s manifest of it, and writes
    /// the snapshot's manifest to `<snapshot>/<product>/shared-home.manifest`: a file whose size
    /// and time match its previous line keeps that line's SHA-256 unread; any other file is read
    /// and hashed, and its content uploaded when the store does not hold it yet.
    ///
    /// - Parameters:
    ///   - source: the product whose home is recorded.
    ///   - id: the snapshot's id.
    ///   - previous: the newest complete snapshot, whose manifest saves reading unchanged files.
    ///   - shard: only the paths this shard owns, for one worker of several
    ///     (``mergeHomeShards(_:snapshot:count:)`` writes the whole manifest from theirs); the
    ///     manifest is then `shared-home.manifest.shard-i-of-n`.
    /// - Throws: when a content cannot be uploaded; the snapshot then stays incomplete (its
    ///   manifest.json is never written), and a re-run uploads only what is still missing.
    public func snapshotHome(
        _ source: Source, snapshot id: String, previous: SnapshotManifest?, shard: Shard? = nil
    ) async throws -> HomeSnapshot {
        let work = NSTemporaryDirectory() + "/atlas-relay-snapshot-\(id)-\(source.name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work + "/new", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let before = try await previousHomeManifest(of: source.name, in: previous, into: work + "/previous")
        let name = HomeManifest.fileName + (shard.map { ".shard-\($0.index)-of-\($0.count)" } ?? "")
        let writer = try HomeManifest.Writer(path: work + "/new/" + name)
        let engine = try SyncEngine(
            source: .local(source.sharedHome), destination: .s3(bucket: location.bucket, prefix: location.contentPrefix),
            destinationClient: s3, configuration: .init(writeOptions: writeOptions))
        let merge = SortedMerge(
            LocalWalk(root: source.sharedHome, mustExist: true),
            try before.map { try HomeManifest.Reader(path: $0) } ?? ArrayListing([]))
        let filter = SyncFilter(source.excludes.map { .exclude($0) })
        var hashed = 0
        var skipped: [String] = []
        let summary = try await engine.run(decisions: {
            guard let pairs = try await merge.next() else { return nil }
            var lines: [HomeManifest.Line?] = []
            var unread: [(index: Int, entry: SyncEntry)] = []
            for (file, was) in pairs {
                guard let file, filter.includes(file.key), shard?.owns(file.key) ?? true else { continue }
                guard file.kind == .file else {
                    skipped.append(file.key.string)
                    continue
                }
                if let was, was.size == file.size, abs(was.lastModified.timeIntervalSince(file.lastModified)) < 1e-6,
                    let sha256 = was.checksums.first(where: { $0.algorithm == .sha256 })?.hex
                {
                    lines.append(
                        .init(
                            path: file.key, size: file.size,
                            modifiedNanoseconds: HomeManifest.Line.nanoseconds(file.lastModified), sha256: sha256))
                } else {
                    unread.append((lines.count, file))
                    lines.append(nil)
                }
            }
            hashed += unread.count
            let hashes = try await Self.hashes(of: unread.map(\.entry), under: source.sharedHome)
            var wanted: [String: SyncEntry] = [:]
            for ((index, file), sha256) in zip(unread, hashes) {
                // A file removed since the walk saw it is not in the snapshot.
                guard let sha256 else { continue }
                lines[index] = .init(
                    path: file.key, size: file.size,
                    modifiedNanoseconds: HomeManifest.Line.nanoseconds(file.lastModified), sha256: sha256)
                wanted[sha256] = wanted[sha256] ?? file
            }
            for line in lines.compactMap({ $0 }) { try writer.append(line) }
            let missing = try await missingContents(Array(wanted.keys))
            return missing.sorted().map { sha256 in
                let file = wanted[sha256]!
                return .transfer(
                    SyncPlan.Transfer(
                        entry: SyncEntry(
                            key: HomeManifest.contentKey(sha256), size: file.size, lastModified: file.lastModified,
                            checksums: [ContentChecksum(.sha256, hex: sha256)], sourceKey: file.key),
                        reason: .missing))
            }
        })
        guard summary.succeeded else {
            throw DataRefreshError(
                "the shared home of \(source.name) did not snapshot completely (\(summary.failures.count) failed, "
                    + "first: \(summary.failures.first.map { "\($0.key): \($0.message)" } ?? "none")); "
                    + "the snapshot \(id) stays incomplete, and a re-run uploads only what is still missing")
        }
        let sha256 = try writer.finish()
        try await upload(work + "/new", to: location.prefix(of: id) + source.name + "/")
        for path in skipped { logger.warning("not in the snapshot", metadata: ["product": "\(source.name)", "path": "\(path)", "reason": "not a regular file"]) }
        return HomeSnapshot(
            files: writer.count, bytes: writer.bytes, manifestSHA256: sha256, hashed: hashed,
            uploaded: summary.transferred, uploadedBytes: summary.transferredBytes, skipped: skipped)
    }

    /// The previous snapshot's manifest of `product`'s home, downloaded into `folder`, or `nil`
    /// when there is none (or it does not match its recorded SHA-256: then every file is read).
    func previousHomeManifest(of product: String, in previous: SnapshotManifest?, into folder: String) async throws
        -> String?
    {
        guard let previous, let data = previous.products.first(where: { $0.name == product }) else { return nil }
        let path = try await HomeManifest.download(
            s3, location: location, snapshot: previous.id, key: data.sharedHomeManifest, into: folder)
        guard try HomeManifest.sha256(ofFile: path) == data.sharedHomeManifestSHA256 else {
            logger.warning(
                "the previous snapshot's home manifest does not match its SHA-256; every file is read again",
                metadata: ["snapshot": "\(previous.id)", "product": "\(product)"])
            return nil
        }
        return path
    }

    /// The contents among `hashes` that the store does not hold.
    func missingContents(_ hashes: [String]) async throws -> [String] {
        try await withThrowingTaskGroup(of: String?.self) { group in
            var missing: [String] = []
            var pending = hashes.makeIterator()
            func addNext() -> Bool {
                guard let sha256 = pending.next() else { return false }
                group.addTask {
                    let key = location.contentPrefix + HomeManifest.contentKey(sha256).string
                    return try await s3.headObject(bucket: location.bucket, key: key) == nil ? sha256 : nil
                }
                return true
            }
            for _ in 0..<Self.hashConcurrency where addNext() {}
            while let result = try await group.next() {
                if let result { missing.append(result) }
                _ = addNext()
            }
            return missing
        }
    }

    /// The SHA-256 of each file (nil for one that is gone), `hashConcurrency` at once.
    static func hashes(of files: [SyncEntry], under root: String) async throws -> [String?] {
        try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            var result = [String?](repeating: nil, count: files.count)
            var pending = files.enumerated().makeIterator()
            func addNext() -> Bool {
                guard let (index, file) = pending.next() else { return false }
                let path = root + "/" + file.key.string
                group.addTask { (index, try await Blocking.run { try HomeManifest.sha256(ofFileIfPresent: path) }) }
                return true
            }
            for _ in 0..<hashConcurrency where addNext() {}
            while let (index, sha256) = try await group.next() {
                result[index] = sha256
                _ = addNext()
            }
            return result
        }
    }

    /// Uploads the files of `folder` below `prefix` in the snapshot bucket.
    func upload(_ folder: String, to prefix: String) async throws {
        let engine = try SyncEngine(
            source: .local(folder), destination: .s3(bucket: location.bucket, prefix: prefix), destinationClient: s3,
            configuration: .init(writeOptions: writeOptions))
        let summary = try await engine.sync()
        guard summary.succeeded else {
            throw DataRefreshError(
                "could not upload \(folder) to s3://\(location.bucket)/\(prefix): \(summary.failures.first.map { "\($0.key): \($0.message)" } ?? "incomplete")"
            )
        }
    }

    /// Deletes the contents no kept snapshot's manifest names, of those stored before the newest
    /// complete snapshot was written (younger ones may belong to a snapshot being taken).
    ///
    /// Each kept manifest is read once; what it names is held as 64-bit prefixes of the SHA-256
    /// (8 bytes a content: a collision only keeps an object one night longer).
    func pruneContents(keeping snapshots: [String]) async throws {
        guard let newest = snapshots.last else { return }
        guard
            let written = try await s3.headObject(
                bucket: location.bucket, key: location.prefix(of: newest) + SnapshotManifest.fileName)?.lastModified
        else { return }
        var referenced = Set<UInt64>()
        let work = NSTemporaryDirectory() + "/atlas-relay-prune-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: work) }
        for id in snapshots {
            let manifest = try await location.manifest(id, s3)
            for product in manifest.products {
                let path = try await HomeManifest.download(
                    s3, location: location, snapshot: id, key: product.sharedHomeManifest,
                    into: work + "/" + id + "/" + product.name)
                guard try HomeManifest.sha256(ofFile: path) == product.sharedHomeManifestSHA256 else {
                    throw DataRefreshError(
                        "the home manifest of \(product.name) in snapshot \(id) does not match its SHA-256; no content was pruned, as it cannot be known what the snapshot needs",
                        kind: .mismatch)
                }
                let reader = try HomeManifest.Reader(path: path)
                while let lines = try reader.nextLines() {
                    for line in lines { referenced.insert(HomeManifest.prefix64(line.sha256)) }
                }
            }
        }
        let store = location.contentPrefix + HomeManifest.contentSubfolder
        var token: String?
        var removed = 0
        repeat {
            let page = try await s3.listObjectsV2(bucket: location.bucket, prefix: store, continuationToken: token)
            let doomed = page.objects.filter { object in
                let sha256 = String(object.key.split(separator: "/").last ?? "")
                return sha256.count == 64 && !referenced.contains(HomeManifest.prefix64(sha256))
                    && object.lastModified < written
            }.map(\.key)
            if !doomed.isEmpty {
                let failures = try await s3.deleteObjects(bucket: location.bucket, keys: doomed)
                guard failures.isEmpty else {
                    throw DataRefreshError("could not remove unreferenced contents: \(failures.first!.message)")
                }
                removed += doomed.count
            }
            token = page.nextContinuationToken
        } while token != nil
        if removed > 0 { logger.info("unreferenced contents removed", metadata: ["objects": "\(removed)"]) }
    }
}

extension HomeManifest {
    /// Downloads snapshot `id`'s file at `key` (relative to the snapshot) into `folder`, which
    /// should be this download's own: a sync locks its destination folder, and a child process
    /// forked meanwhile elsewhere in the process can hold that lock a moment past the sync.
    ///
    /// - Returns: the local path.
    static func download(_ s3: S3Client, location: SnapshotLocation, snapshot id: String, key: String, into folder: String)
        async throws -> String
    {
        let name = String(key.split(separator: "/").last ?? "")
        let prefix = location.prefix(of: id) + String(key.dropLast(name.count))
        let engine = try SyncEngine(
            source: .s3(bucket: location.bucket, prefix: prefix), destination: .local(folder), sourceClient: s3,
            configuration: .init(options: SyncOptions(filter: SyncFilter([.exclude("*"), .include(name)]))))
        let summary = try await engine.sync()
        guard summary.succeeded, FileManager.default.fileExists(atPath: folder + "/" + name) else {
            throw DataRefreshError(
                "the home manifest s3://\(location.bucket)/\(prefix)\(name) of snapshot \(id) could not be downloaded (\(summary.failures.first?.message ?? "it is missing")); choose another snapshot",
                kind: .mismatch)
        }
        return folder + "/" + name
    }

    /// The SHA-256 of a file, hex.
    static func sha256(ofFile path: String) throws -> String {
        guard let sha256 = try sha256(ofFileIfPresent: path) else {
            throw DataRefreshError("\(path) is missing", kind: .failed)
        }
        return sha256
    }

    /// The SHA-256 of a file, hex, or nil when there is no such file.
    static func sha256(ofFileIfPresent path: String) throws -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hash.update(data: chunk) }
        return Hex.string(hash.finalize())
    }

    /// The first 64 bits of a hex SHA-256.
    static func prefix64(_ sha256: String) -> UInt64 { UInt64(sha256.prefix(16), radix: 16) ?? 0 }
}

/// Blocking file work off the cooperative threads (a hash of a large file takes seconds).
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
