import Crypto
import Foundation
import RelayFoundation
import NIOCore

/// The work of one planned entry: upload, download, server-side or streamed copy, delete.
extension SyncEngine {
    func transfer(_ entry: SyncEntry, limits: TransferLimits, state: RunState) async throws {
        switch (source, destination) {
        case (.s3, .local(let root)) where entry.kind == .folder:
            try await LocalFile.makeDirectory(root + "/" + entry.key.string)
        case (.local(let root), .s3(let bucket, let prefix)):
            let path = root + "/" + entry.contentKey.string
            try await upload(
                path: path, size: entry.size, bucket: bucket, key: prefix + entry.key.string, limits: limits,
                state: state)
            if entry.sourceKey != nil { try await checkUnchanged(path, entry, bucket: bucket, key: prefix + entry.key.string) }
        case (.s3(let bucket, let prefix), .local(let root)):
            try await download(
                bucket: bucket, key: prefix + entry.contentKey.string, entry: entry,
                path: root + "/" + entry.key.string, limits: limits, state: state)
        case (.s3(let sourceBucket, let sourcePrefix), .s3(let bucket, let prefix)):
            try await copy(
                sourceBucket: sourceBucket, sourceKey: sourcePrefix + entry.contentKey.string, size: entry.size,
                bucket: bucket,
                key: prefix + entry.key.string, limits: limits, state: state)
        case (.local, .local):
            preconditionFailure("rejected in init")
        }
    }

    /// The byte ranges of an object of `size` in parts of about `preferred` bytes (at most 10,000).
    func parts(of size: Int64, preferred: Int64) -> [ClosedRange<Int64>] {
        let part = S3Client.partSize(for: size, preferred: preferred)
        return stride(from: Int64(0), to: size, by: Int(part)).map { $0...min($0 + part, size) - 1 }
    }

    func upload(path: String, size: Int64, bucket: String, key: String, limits: TransferLimits, state: RunState)
        async throws
    {
        try await LocalFile.withReading(path) {
            try await upload(file: $0, size: size, bucket: bucket, key: key, limits: limits, state: state)
        }
    }

    func upload(file: LocalFile, size: Int64, bucket: String, key: String, limits: TransferLimits, state: RunState)
        async throws
    {
        let s3 = destinationClient!
        if size < configuration.multipartThreshold {
            try await limits.run(buffering: size) {
                let data = try await file.read(offset: 0, count: Int(size))
                try await s3.putObject(bucket: bucket, key: key, data: data, options: configuration.writeOptions)
            }
            await state.moved(size)
            return
        }
        try await multipartUpload(
            to: s3, bucket: bucket, key: key, size: size, buffered: true, limits: limits, state: state
        ) {
            uploadId, number, range in
            let data = try await file.read(offset: range.lowerBound, count: range.count, reusing: limits.buffers.take())
            let part = try await s3.uploadPart(
                bucket: bucket, key: key, uploadId: uploadId, partNumber: number, data: data)
            limits.buffers.give(data)
            return part
        }
    }

    /// A multipart upload of `size` bytes: `part` makes each part (in parallel, within `limits`),
    /// then the upload is completed; on any failure, and on cancellation, it is aborted (see
    /// ``abort(_:with:)``) once no part is in flight, before this returns. The upload is tracked
    /// in `state` while open. Its creation and completion are not cut short by a cancellation
    /// (``finishing(_:)``), so the upload id is always known and a complete upload is kept.
    func multipartUpload(
        to s3: S3Client, bucket: String, key: String, size: Int64, buffered: Bool, limits: TransferLimits, state: RunState,
        part:
            @escaping @Sendable (_ uploadId: String, _ number: Int, _ range: ClosedRange<Int64>) async throws
            -> S3Client.CompletedPart
    ) async throws {
        // Finished even when cancelled: a create cut short may still open the upload, unknown to us.
        let uploadId = try await Self.finishing {
            try await s3.createMultipartUpload(bucket: bucket, key: key, options: self.configuration.writeOptions)
        }
        let upload = SyncSummary.OpenUpload(bucket: bucket, key: key, uploadId: uploadId)
        await state.opened(upload)
        do {
            let completed = try await withThrowingTaskGroup(of: S3Client.CompletedPart.self) { group in
                for (index, range) in parts(of: size, preferred: configuration.partSize).enumerated() {
                    group.addTask {
                        let made = try await limits.run(buffering: buffered ? Int64(range.count) : 0) {
                            try await part(uploadId, index + 1, range)
                        }
                        await state.moved(Int64(range.count))
                        return made
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Once every part is there, finishing is better than aborting.
            try await Self.finishing {
                try await s3.completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId, parts: completed)
            }
            await state.closed(upload, aborted: false)
        } catch {
            if await Self.abort(upload, with: s3) { await state.closed(upload, aborted: true) }
            throw error
        }
    }

    func download(
        bucket: String, key: String, entry: SyncEntry, path: String, limits: TransferLimits, state: RunState
    ) async throws {
        let s3 = sourceClient!
        let file = try await LocalFile.createPartial(for: path)
        do {
            if entry.size <= configuration.rangeSize {
                try await limits.run(buffering: min(entry.size, DownloadReceiver.bufferLimit)) {
                    _ = try await s3.getObject(
                        bucket: bucket, key: key, receiver: DownloadReceiver(file: file, offset: 0, checking: key))
                }
                await state.moved(entry.size)
            } else {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for range in parts(of: entry.size, preferred: configuration.rangeSize) {
                        group.addTask {
                            try await limits.run(buffering: DownloadReceiver.bufferLimit) {
                                let received = try await s3.getObject(
                                    bucket: bucket, key: key, range: range,
                                    receiver: DownloadReceiver(file: file, offset: range.lowerBound))
                                guard received.end == range.upperBound + 1, received.head.size == entry.size else {
                                    throw SyncError.checksumMismatch(
                                        "s3://\(bucket)/\(key) changed or was cut short while downloading (range \(range), got \(received.end - range.lowerBound) bytes of an object now \(received.head.size) bytes); sync again"
                                    )
                                }
                            }
                            await state.moved(Int64(range.count))
                        }
                    }
                    try await group.waitForAll()
                }
            }
            if let expected = entry.checksums.first(where: { $0.algorithm == .sha256 }) {
                let actual = try await Self.sha256(file, size: entry.size)
                guard actual == expected.hex else {
                    throw SyncError.checksumMismatch(
                        "s3://\(bucket)/\(key) holds content with SHA-256 \(actual), not the \(expected.hex) its manifest records for \(entry.key); the object was changed or corrupted, so \(path) was not written"
                    )
                }
            }
            try await file.setModificationTime(entry.lastModified)
            if configuration.durableDownloads {
                try await file.syncAndClose()
            } else {
                await file.close()
            }
            try await LocalFile.commit(file.path, to: path)
        } catch {
            await file.close()
            try? await LocalFile.remove(file.path)
            throw error
        }
    }

    /// A file uploaded under a key other than its own (content-addressed) must not have changed
    /// while it was read: the object would hold content its key does not name. If it did, the
    /// object is deleted and the transfer fails.
    func checkUnchanged(_ path: String, _ entry: SyncEntry, bucket: String, key: String) async throws {
        let now = try await LocalFile.run { () -> (Int64, Date)? in
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return (
                Int64(info.st_size),
                Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
            )
        }
        guard let now, now.0 == entry.size, now.1 == entry.lastModified else {
            _ = try? await destinationClient!.deleteObjects(bucket: bucket, keys: [key])
            throw SyncError.checksumMismatch(
                "\(path) changed while it was uploaded as s3://\(bucket)/\(key); the object was removed, sync again to take the new content"
            )
        }
    }

    /// The SHA-256 of a file's first `size` bytes, as lowercase hex.
    static func sha256(_ file: LocalFile, size: Int64) async throws -> String {
        var hash = SHA256()
        try await forEachMegabyte(of: file, size: size) { hash.update(data: $0.readableBytesView) }
        return Hex.string(hash.finalize())
    }

    func copy(
        sourceBucket: String, sourceKey: String, size: Int64, bucket: String, key: String, limits: TransferLimits,
        state: RunState
    ) async throws {
        let from = sourceClient!
        let to = destinationClient!
        let serverSide = from.aws === to.aws
        let options = configuration.writeOptions
        if size < configuration.multipartThreshold {
            try await limits.run(buffering: serverSide ? 0 : size) {
                if serverSide {
                    try await from.copyObject(
                        sourceBucket: sourceBucket, sourceKey: sourceKey, bucket: bucket, key: key, options: options)
                } else {
                    let data = try await Self.readWhole(from, bucket: sourceBucket, key: sourceKey, range: nil)
                    try await to.putObject(bucket: bucket, key: key, data: data, options: options)
                }
            }
            await state.moved(size)
            return
        }
        try await multipartUpload(
            to: to, bucket: bucket, key: key, size: size, buffered: !serverSide, limits: limits, state: state
        ) { uploadId, number, range in
            if serverSide {
                return try await to.uploadPartCopy(
                    bucket: bucket, key: key, uploadId: uploadId, partNumber: number, sourceBucket: sourceBucket,
                    sourceKey: sourceKey, range: range)
            }
            let data = try await Self.readWhole(from, bucket: sourceBucket, key: sourceKey, range: range)
            return try await to.uploadPart(bucket: bucket, key: key, uploadId: uploadId, partNumber: number, data: data)
        }
    }

    static func readWhole(_ s3: S3Client, bucket: String, key: String, range: ClosedRange<Int64>?) async throws
        -> ByteBuffer
    {
        try await s3.getObject(bucket: bucket, key: key, range: range) { _, body in
            try await body.collect(upTo: Int(S3Client.maximumPartSize))
        }
    }

    func delete(_ entries: [SyncKey], into summary: inout SyncSummary) async {
        switch destination {
        case .s3(let bucket, let prefix):
            do {
                let failures = try await destinationClient!.deleteObjects(
                    bucket: bucket, keys: entries.map { prefix + $0.string })
                summary.deleted += entries.count - failures.count
                summary.failures += failures.map {
                    .init(
                        key: String($0.key.utf8.dropFirst(prefix.utf8.count)) ?? $0.key,
                        message: "delete failed: \($0.code) \($0.message)")
                }
            } catch {
                summary.failures += entries.map { .init(key: $0.string, message: "delete failed: \(error)") }
            }
        case .local(let root):
            for entry in entries {
                do {
                    try await LocalFile.remove(root + "/" + entry.string)
                    summary.deleted += 1
                } catch {
                    summary.failures.append(.init(key: entry.string, message: "\(error)"))
                }
            }
        }
    }
}
