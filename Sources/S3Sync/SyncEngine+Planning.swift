import Crypto
import RelayFoundation

/// Listing both sides and planning: refusals, checksums for `--compare checksum`.
extension SyncEngine {
    /// Lists both sides and plans the sync, touching nothing (this is the dry run).
    ///
    /// With ``CompareMode/checksum``, entries present on both sides with equal sizes get their
    /// checksums first: local files are read and hashed (MD5 and CRC32C), S3 objects whose ETag
    /// is not an MD5 are asked for their stored checksums.
    ///
    /// Source keys that cannot be placed below the destination are refused (``SyncPlan/refused``);
    /// a local source that does not exist throws ``SyncError/Kind/sourceMissing``; with
    /// ``SyncOptions/delete``, a source that lists nothing beside a destination that has entries
    /// throws ``SyncError/Kind/emptySource`` unless ``SyncOptions/allowEmptySource`` is set.
    public func plan() async throws -> SyncPlan {
        async let sourceEntries = list(source, client: sourceClient, isSource: true)
        async let destinationEntries = list(destination, client: destinationClient, isSource: false)
        var sources = try await sourceEntries
        var destinations = try await destinationEntries
        let options = configuration.options
        var refused: [(entry: SyncEntry, reason: String)] = []
        sources.removeAll { entry in
            guard let reason = refusal(of: entry) else { return false }
            if options.covers(entry.key) { refused.append((entry, reason)) }
            return true
        }
        if configuration.options.compare == .checksum {
            let sizes = Dictionary(destinations.map { ($0.key, $0.size) }, uniquingKeysWith: { first, _ in first })
            let sourceSizes = Dictionary(sources.map { ($0.key, $0.size) }, uniquingKeysWith: { first, _ in first })
            sources = try await withChecksums(sources, at: source, client: sourceClient) { sizes[$0.key] == $0.size }
            destinations = try await withChecksums(destinations, at: destination, client: destinationClient) {
                sourceSizes[$0.key] == $0.size
            }
        }
        var plan = SyncPlanner.plan(source: sources, destination: destinations, options: options)
        plan.refused = refused
        let sourceCount = plan.transfers.count + plan.unchanged + plan.skipped.count + plan.refused.count
        if options.delete && !options.allowEmptySource && sourceCount == 0 && !plan.deletes.isEmpty {
            throw SyncError.emptySource(
                "the source \(source) lists nothing, so --delete would remove all \(plan.deletes.count) entries of \(destination); check the source (a wrong path, an unmounted file system), or allow it explicitly (--allow-empty-source)"
            )
        }
        if case .local(let root) = destination {
            // A folder marker whose folder exists is in sync.
            let folders = plan.transfers.map(\.entry).filter { $0.kind == .folder }
            if !folders.isEmpty {
                let existing = try await LocalFile.run {
                    Set(folders.filter { LocalFile.isDirectory(root + "/" + $0.key.string) }.map(\.key))
                }
                plan.transfers.removeAll { $0.entry.kind == .folder && existing.contains($0.entry.key) }
                plan.unchanged += existing.count
            }
        }
        return plan
    }

    /// Why a source entry cannot be synced to this destination, or `nil`.
    func refusal(of entry: SyncEntry) -> String? {
        if let reason = entry.key.unsafeReason {
            return
                "refused: the key \(describe(entry.key)) cannot be placed below \(destination): \(reason); rename the object or exclude it"
        }
        if case .local = destination, entry.kind == .folder, entry.size > 0 {
            return
                "refused: \(describe(entry.key)) ends in '/' but holds \(entry.size) bytes, so it cannot be a local file; rename the object or exclude it"
        }
        return nil
    }

    /// A key as the source names it, with control characters escaped so a hostile key cannot
    /// rewrite the terminal or the log.
    func describe(_ key: SyncKey) -> String {
        let full: String
        switch source {
        case .local(let root): full = root + "/" + key.string
        case .s3(let bucket, let prefix): full = "s3://\(bucket)/\(prefix)\(key.string)"
        }
        return "'"
            + full.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? $0.escaped(asASCII: true) : String($0) }
            .joined() + "'"
    }

    /// Adds checksums to the entries `needed` selects, `concurrency` at a time.
    func withChecksums(
        _ entries: [SyncEntry], at location: SyncLocation, client: S3Client?, needed: (SyncEntry) -> Bool
    ) async throws -> [SyncEntry] {
        let indices = entries.indices.filter { entries[$0].kind == .file && needed(entries[$0]) }
        var result = entries
        let limits = TransferLimits(configuration)
        try await withThrowingTaskGroup(of: (Int, [ContentChecksum]).self) { group in
            for index in indices {
                let entry = entries[index]
                group.addTask {
                    try await limits.run {
                        switch location {
                        case .local(let root):
                            return (index, try await Self.hashFile(root + "/" + entry.key.string, size: entry.size))
                        case .s3(let bucket, let prefix):
                            if entry.eTag.map(ContentChecksum.isPlainMD5ETag) == true { return (index, []) }
                            let head = try await client!.headObject(bucket: bucket, key: prefix + entry.key.string)
                            return (index, head?.checksums ?? [])
                        }
                    }
                }
            }
            for try await (index, checksums) in group { result[index].checksums += checksums }
        }
        return result
    }

    /// MD5 and CRC32C of a local file, read in 1 MiB pieces.
    static func hashFile(_ path: String, size: Int64) async throws -> [ContentChecksum] {
        try await LocalFile.withReading(path) { try await hash($0, size: size) }
    }

    static func hash(_ file: LocalFile, size: Int64) async throws -> [ContentChecksum] {
        var md5 = Insecure.MD5()
        var crc = CRC32C()
        var offset: Int64 = 0
        while offset < size {
            let count = Int(min(1 << 20, size - offset))
            let buffer = try await file.read(offset: offset, count: count)
            md5.update(data: buffer.readableBytesView)
            crc.update(buffer.readableBytesView)
            offset += Int64(count)
        }
        return [
            ContentChecksum(.md5, hex: Hex.string(md5.finalize())),
            ContentChecksum(.crc32c, hex: crc.hex),
        ]
    }

    /// Lists one side; a local source must exist, a local destination may not yet.
    func list(_ location: SyncLocation, client: S3Client?, isSource: Bool) async throws -> [SyncEntry] {
        switch location {
        case .local(let path):
            return try await LocalLister.list(root: path, symlinks: configuration.symlinks, mustExist: isSource)
        case .s3(let bucket, let prefix):
            guard let client else { throw SyncError.invalidArgument("an S3 side needs an S3 client") }
            // Each page gives up after giveUpAfter, but never under 5 s, so a slow page on a busy
            // server is not taken for an unreachable one.
            return try await client.listAllObjects(
                bucket: bucket, prefix: prefix, giveUpAfter: max(configuration.giveUpAfter, .seconds(5))
            ).map { object in
                guard let key = SyncKey.relative(object.key, below: prefix) else {
                    throw SyncError.malformedListing(
                        "listing s3://\(bucket)/\(prefix) returned the key '\(object.key)', which is outside that prefix; the server (or a proxy) is not answering the request that was made, so nothing was synced"
                    )
                }
                return SyncEntry(
                    key: key, size: object.size, lastModified: object.lastModified, eTag: object.eTag,
                    kind: key.isFolderMarker ? .folder : .file)
            }
        }
    }
}
