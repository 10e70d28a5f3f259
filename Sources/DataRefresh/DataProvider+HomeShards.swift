import Foundation
import NIOCore
import NIOFoundationCompat
import S3Sync

/// A shared home snapshotted by several workers (a CodeBuild batch): each walks the whole home
/// but hashes and uploads only the paths its ``Shard`` owns and writes a part manifest; one merge
/// step checks that every path was handled exactly once and writes the manifest.
extension DataProvider {
    /// What one worker wrote beside its part manifest, for the merge.
    struct ShardRecord: Codable, Equatable {
        var shard: String
        /// When the worker began walking: files changed later may rightly be missing.
        var started: Date
        var files: Int
        var bytes: Int64
        var sha256: String
        var hashed: Int
        var uploaded: Int
        var uploadedBytes: Int64
    }

    static func partName(_ shard: Shard) -> String {
        HomeManifest.fileName + ".shard-\(shard.index)-of-\(shard.count)"
    }

    /// One worker's share of snapshot `id`'s shared homes (`data-refresh provide --home-shard i/n`).
    ///
    /// - Returns: what it recorded, product by product.
    @discardableResult
    public func snapshotHomeShard(_ shard: Shard, snapshot id: String) async throws -> [HomeSnapshot] {
        let previous = try await previousManifest()
        var results: [HomeSnapshot] = []
        for source in sources {
            let started = Date()
            let home = try await snapshotHome(source, snapshot: id, previous: previous, shard: shard)
            let record = ShardRecord(
                shard: "\(shard)", started: started, files: home.files, bytes: home.bytes,
                sha256: home.manifestSHA256, hashed: home.hashed, uploaded: home.uploaded,
                uploadedBytes: home.uploadedBytes)
            _ = try await s3.putObject(
                bucket: location.bucket, key: location.prefix(of: id) + source.name + "/" + Self.partName(shard) + ".json",
                data: ByteBuffer(data: try JSONEncoder().encode(record)), options: writeOptions)
            logger.info(
                "shared-home shard recorded",
                metadata: [
                    "product": "\(source.name)", "shard": "\(shard)", "files": "\(home.files)",
                    "uploaded": "\(home.uploaded)",
                ])
            results.append(home)
        }
        return results
    }

    /// Merges the `count` part manifests of `source`'s home in snapshot `id` into its manifest.
    ///
    /// Refuses (``DataRefreshError/Kind/mismatch``) a shard that did not finish or whose part
    /// does not match its record, a path in a part its shard does not own, and a file in the home
    /// that no part holds although it is older than the workers' start (a worker missed it).
    /// Files written or removed since the workers walked are left to the next snapshot, as in a
    /// snapshot by one worker.
    public func mergeHomeShards(_ source: Source, snapshot id: String, count: Int) async throws -> HomeSnapshot {
        let folder = NSTemporaryDirectory() + "/atlas-relay-merge-\(id)-\(source.name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/merged", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let base = location.prefix(of: id) + source.name + "/"
        let records = try await shardRecords(of: source, snapshot: id, count: count)
        var readers: [(shard: Shard, reader: HomeManifest.Reader)] = []
        for (index, record) in records.enumerated() {
            let shard = try Shard(index: index, count: count)
            let path = try await HomeManifest.download(
                s3, location: location, snapshot: id, key: source.name + "/" + Self.partName(shard),
                into: folder + "/parts/\(index)")
            guard try HomeManifest.sha256(ofFile: path) == record.sha256 else {
                throw DataRefreshError(
                    "the part manifest of shard \(shard) of \(source.name) in snapshot \(id) does not match its record; run that worker again, then the merge",
                    kind: .mismatch)
            }
            readers.append((shard, try HomeManifest.Reader(path: path)))
        }
        let writer = try HomeManifest.Writer(path: folder + "/merged/" + HomeManifest.fileName)
        let filter = SyncFilter(source.excludes.map { .exclude($0) })
        var heads: [[HomeManifest.Line]] = try readers.map { try $0.reader.nextLines() ?? [] }
        while true {
            var smallest: Int?
            for index in heads.indices where !heads[index].isEmpty {
                if smallest.map({ heads[index][0].path < heads[$0][0].path }) ?? true { smallest = index }
            }
            guard let index = smallest else { break }
            let line = heads[index].removeFirst()
            if heads[index].isEmpty { heads[index] = try readers[index].reader.nextLines() ?? [] }
            guard readers[index].shard.owns(line.path), filter.includes(line.path) else {
                throw DataRefreshError(
                    "the part manifest of shard \(readers[index].shard) of \(source.name) holds '\(line.path)', which is not that shard's (or is excluded); the workers did not run the same configuration, so nothing was merged",
                    kind: .mismatch)
            }
            // Writer refuses a path twice (out of order), so no path is in two parts.
            try writer.append(line)
        }
        let sha256 = try writer.finish()
        try await checkCoverage(
            of: source, by: writer.path, since: records.map(\.started).min() ?? Date(), snapshot: id)
        try await upload(folder + "/merged", to: base)
        return HomeSnapshot(
            files: writer.count, bytes: writer.bytes, manifestSHA256: sha256, hashed: records.reduce(0) { $0 + $1.hashed },
            uploaded: records.reduce(0) { $0 + $1.uploaded },
            uploadedBytes: records.reduce(0) { $0 + $1.uploadedBytes }, skipped: [])
    }

    /// The records of the `count` workers of `source`'s home in snapshot `id`.
    ///
    /// - Throws: ``DataRefreshError/Kind/mismatch`` for a worker that did not finish.
    func shardRecords(of source: Source, snapshot id: String, count: Int) async throws -> [ShardRecord] {
        let base = location.prefix(of: id) + source.name + "/"
        var records: [ShardRecord] = []
        for index in 0..<count {
            let shard = try Shard(index: index, count: count)
            guard
                let data = try await s3.getObjectData(bucket: location.bucket, key: base + Self.partName(shard) + ".json"),
                let record = try? JSONDecoder().decode(ShardRecord.self, from: data)
            else {
                throw DataRefreshError(
                    "shard \(shard) of the shared home of \(source.name) in snapshot \(id) did not finish (no record at s3://\(location.bucket)/\(base)\(Self.partName(shard)).json); run that worker again, then the merge",
                    kind: .mismatch)
            }
            records.append(record)
        }
        return records
    }

    /// Every regular file of the home older than `started` must be in the merged manifest.
    func checkCoverage(of source: Source, by manifest: String, since started: Date, snapshot id: String) async throws {
        let filter = SyncFilter(source.excludes.map { .exclude($0) })
        let merge = SortedMerge(LocalWalk(root: source.sharedHome, mustExist: true), try HomeManifest.Reader(path: manifest))
        while let pairs = try await merge.next() {
            for case (let file?, nil) in pairs where file.kind == .file && filter.includes(file.key) {
                if file.lastModified < started {
                    throw DataRefreshError(
                        "\(source.sharedHome)/\(file.key) is in no shard's part manifest of snapshot \(id), though it is older than the workers' start; a worker missed it (a different mount or configuration?), so the snapshot stays incomplete",
                        kind: .mismatch)
                }
            }
        }
    }
}
