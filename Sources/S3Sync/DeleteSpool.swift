import Foundation

/// The keys a sync will delete, kept in a file rather than in memory (a wrong source can plan
/// millions), in key order, read back in batches once the transfers are done.
///
/// Each key is a 4-byte little-endian length and its UTF-8 bytes. Used by one task at a time.
final class DeleteSpool {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    /// Keys appended, and the bytes they take in the file.
    private(set) var count = 0
    private(set) var length: Int64 = 0

    /// Opens (or creates) the spool at `path`, keeping its first `keeping` bytes (`count` keys),
    /// as a resumed sync does: everything after them is planned again.
    init(path: String, keeping length: Int64 = 0, count: Int = 0) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LocalFile.failure("create", path) }
        guard ftruncate(descriptor, off_t(length)) == 0, lseek(descriptor, off_t(length), SEEK_SET) >= 0 else {
            let failure = LocalFile.failure("truncate", path)
            _ = systemClose(descriptor)
            throw failure
        }
        self.path = path
        self.descriptor = descriptor
        self.length = length
        self.count = count
    }

    private var closed = false

    deinit { close(removing: false) }

    /// Closes the file, and removes it when `removing`.
    func close(removing: Bool) {
        if !closed {
            try? flush()
            _ = systemClose(descriptor)
            closed = true
        }
        if removing { unlink(path) }
    }

    /// A spool in the temporary folder, for a sync without a checkpoint.
    static func temporary() throws -> DeleteSpool {
        let path = NSTemporaryDirectory() + "/s3sync-deletes-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).spool"
        return try DeleteSpool(path: path)
    }

    func append(_ key: SyncKey) throws {
        let bytes = Array(key.string.utf8)
        withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: bytes)
        count += 1
        length += Int64(4 + bytes.count)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes what is buffered, so ``length`` bytes are in the file.
    func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { throw LocalFile.failure("write", path) }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Every key, `batchSize` at a time, in the order appended.
    func forEachBatch(of batchSize: Int, _ body: ([SyncKey]) async throws -> Void) async throws {
        try flush()
        guard let reader = FileHandle(forReadingAtPath: path) else { throw LocalFile.failure("read", path) }
        defer { try? reader.close() }
        var pending = Data()
        var batch: [SyncKey] = []
        var read: Int64 = 0
        while read < length {
            let chunk = try reader.read(upToCount: Int(min(1 << 20, length - read))) ?? Data()
            guard !chunk.isEmpty else { break }
            read += Int64(chunk.count)
            pending.append(chunk)
            var start = pending.startIndex
            while pending.endIndex - start >= 4 {
                let size = pending[start..<start + 4].withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
                guard pending.endIndex - start - 4 >= size else { break }
                batch.append(SyncKey(String(decoding: pending[start + 4..<start + 4 + size], as: UTF8.self)))
                start += 4 + size
                if batch.count == batchSize {
                    try await body(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            pending = Data(pending[start...])
        }
        if !batch.isEmpty { try await body(batch) }
    }
}
