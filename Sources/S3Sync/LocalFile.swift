import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `close(2)`, named apart from ``LocalFile/close()``.
func systemClose(_ descriptor: Int32) -> Int32 { close(descriptor) }

/// An open local file; every system call runs on NIO's blocking-I/O thread pool, never on the
/// cooperative pool.
struct LocalFile: Sendable {
    let descriptor: Int32
    let path: String

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    static func failure(_ action: String, _ path: String, _ code: Int32 = errno) -> SyncError {
        .localIO(
            "cannot \(action) \(path): \(String(cString: strerror(code)))",
            underlying: POSIXErrorCode(rawValue: code).map { POSIXError($0) })
    }

    /// Opens `path` for reading.
    static func openForReading(_ path: String) async throws -> LocalFile {
        try await run {
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw failure("open", path) }
            return LocalFile(descriptor: descriptor, path: path)
        }
    }

    /// Opens `path` for reading, runs `body`, and closes the file whatever happens.
    static func withReading<T: Sendable>(_ path: String, _ body: (LocalFile) async throws -> T) async throws -> T {
        let file = try await openForReading(path)
        do {
            let result = try await body(file)
            await file.close()
            return result
        } catch {
            await file.close()
            throw error
        }
    }

    /// Creates (or truncates) the partial file for `finalPath`, creating parent folders.
    static func createPartial(for finalPath: String) async throws -> LocalFile {
        let partial = partialPath(for: finalPath)
        return try await run {
            try FileManager.default.createDirectory(
                atPath: (finalPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let descriptor = open(partial, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw failure("create", partial) }
            return LocalFile(descriptor: descriptor, path: partial)
        }
    }

    /// Downloads are written to `.relay-partial-<hash>` beside the final name and renamed into
    /// place only when complete, so a final name never holds a partial file. The name is
    /// deterministic, so a re-run overwrites what an interrupted run left.
    static let partialPrefix = ".relay-partial-"

    static func partialPath(for finalPath: String) -> String {
        let name = (finalPath as NSString).lastPathComponent
        return ((finalPath as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent(partialPrefix + String(FNV1a.hash(name.utf8), radix: 16))
    }

    /// Reads `count` bytes at `offset`, into `recycled` when given (its storage is reused when
    /// nothing else holds it).
    func read(offset: Int64, count: Int, reusing recycled: consuming ByteBuffer? = nil) async throws -> ByteBuffer {
        let descriptor = self.descriptor
        let path = self.path
        let slot = BufferSlot(consume recycled)
        return try await Self.run {
            var buffer = slot.take() ?? ByteBufferAllocator().buffer(capacity: count)
            buffer.clear(minimumCapacity: count)
            var done = 0
            while done < count {
                let result = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { pointer in
                    pread(descriptor, pointer.baseAddress, count - done, off_t(offset) + off_t(done))
                }
                if result < 0 {
                    if errno == EINTR { continue }
                    throw Self.failure("read", path)
                }
                if result == 0 {
                    throw SyncError.localIO(
                        "\(path) shrank while being read (expected \(count) bytes at \(offset)); is something writing to it?"
                    )
                }
                done += result
            }
            return buffer
        }
    }

    /// Writes `buffers`, one after another, at `offset`: one `pwritev` call, without copying them
    /// together first. Blocks: call it on a thread pool.
    func write(_ buffers: [ByteBuffer], at offset: Int64) throws {
        var pending = buffers.filter { $0.readableBytes > 0 }
        var position = off_t(offset)
        while !pending.isEmpty {
            let batch = pending.prefix(1024)  // IOV_MAX on Linux and macOS
            let result = Self.withIOVectors(Array(batch)) { pwritev(descriptor, $0, Int32($1), position) }
            if result < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", path)
            }
            position += off_t(result)
            var left = result
            while left > 0, let first = pending.first {  // drop what was written, keep the rest
                let taken = min(left, first.readableBytes)
                left -= taken
                if taken == first.readableBytes {
                    pending.removeFirst()
                } else {
                    pending[0].moveReaderIndex(forwardBy: taken)
                }
            }
        }
    }

    /// Calls `body` with an `iovec` array over the readable bytes of `buffers`.
    private static func withIOVectors<T>(
        _ buffers: [ByteBuffer], _ body: (UnsafePointer<iovec>, Int) -> T
    ) -> T {
        var vectors: [iovec] = []
        vectors.reserveCapacity(buffers.count)
        func gather(_ index: Int) -> T {
            guard index < buffers.count else { return body(vectors, vectors.count) }
            return buffers[index].withUnsafeReadableBytes { pointer in
                vectors.append(
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: pointer.baseAddress), iov_len: pointer.count))
                return gather(index + 1)
            }
        }
        return gather(0)
    }

    /// Sets the modification (and access) time.
    func setModificationTime(_ date: Date) async throws {
        let descriptor = self.descriptor
        let path = self.path
        try await Self.run {
            let seconds = date.timeIntervalSince1970.rounded(.down)
            let nanos = Int((date.timeIntervalSince1970 - seconds) * 1e9)
            var times = [
                timespec(tv_sec: Int(seconds), tv_nsec: nanos), timespec(tv_sec: Int(seconds), tv_nsec: nanos),
            ]
            guard futimens(descriptor, &times) == 0 else { throw Self.failure("set the time of", path) }
        }
    }

    /// Flushes to disk and closes.
    func syncAndClose() async throws {
        let descriptor = self.descriptor
        let path = self.path
        try await Self.run {
            defer { _ = systemClose(descriptor) }
            guard fsync(descriptor) == 0 else { throw Self.failure("flush", path) }
        }
    }

    /// Closes without flushing.
    func close() async {
        let descriptor = self.descriptor
        _ = try? await Self.run { _ = systemClose(descriptor) }
    }

    /// Moves the finished partial file onto its final name.
    static func commit(_ partial: String, to finalPath: String) async throws {
        try await run {
            guard rename(partial, finalPath) == 0 else { throw failure("rename \(partial) to", finalPath) }
        }
    }

    /// Whether `path` is a folder (following links). Blocks: call it on a thread pool.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// Creates the folder `path` and its parents, as the AWS CLI does for a folder marker.
    static func makeDirectory(_ path: String) async throws {
        try await run {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw SyncError.localIO(
                    "cannot create the folder \(path): \(error.localizedDescription)", underlying: error)
            }
        }
    }

    /// Removes a file, ignoring a missing one.
    static func remove(_ path: String) async throws {
        try await run {
            guard unlink(path) == 0 || errno == ENOENT else { throw failure("delete", path) }
        }
    }
}

/// Hands a buffer to the thread pool without keeping a reference behind, so the pool thread holds
/// the only one and can write into the storage in place.
private final class BufferSlot: @unchecked Sendable {
    private var buffer: ByteBuffer?

    init(_ buffer: consuming ByteBuffer?) {
        self.buffer = buffer
    }

    /// The buffer, leaving the slot empty; called once, by the one thread that uses it.
    func take() -> ByteBuffer? {
        defer { buffer = nil }
        return buffer
    }
}
