import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The files in one folder that a program has just finished writing: Linux inotify's
/// `IN_CLOSE_WRITE`, which fires when a file opened for writing is closed.
///
/// Where inotify is missing (not Linux), ``closed(waitingUpTo:)`` reports nothing, and the
/// caller's final sweep of the folder finds every file instead.
final class ClosedFileWatch: @unchecked Sendable {
    private let descriptor: Int32
    /// Set when events were lost (the kernel's queue overflowed): only a sweep of the folder is
    /// then complete.
    private(set) var overflowed = false

    /// Starts watching `directory` (which must exist).
    init(_ directory: String) throws {
        #if os(Linux)
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else {
            throw DataRefreshError("cannot watch \(directory) (inotify_init1: errno \(errno)); raise fs.inotify.max_user_instances")
        }
        guard inotify_add_watch(descriptor, directory, UInt32(IN_CLOSE_WRITE)) >= 0 else {
            let code = errno
            close(descriptor)
            throw DataRefreshError("cannot watch \(directory) (inotify_add_watch: errno \(code)); raise fs.inotify.max_user_watches")
        }
        #else
        descriptor = -1
        #endif
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// The names of the files closed after writing since the last call, waiting up to `timeout`
    /// for the first one (on a thread outside the cooperative pool).
    func closed(waitingUpTo timeout: Duration) async throws -> [String] {
        guard descriptor >= 0 else {
            try await Task.sleep(for: timeout)
            return []
        }
        let (names, lost) = try await Blocking.run { [descriptor] in
            try Self.read(descriptor, timeoutMilliseconds: Int32(timeout.seconds * 1000))
        }
        if lost { overflowed = true }
        return names
    }

    /// Waits for events on `descriptor` and parses them: `struct inotify_event` is `wd`, `mask`,
    /// `cookie`, `len` (four 32-bit integers), then `len` bytes of NUL-padded name.
    private static func read(_ descriptor: Int32, timeoutMilliseconds: Int32) throws -> ([String], Bool) {
        #if os(Linux)
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, timeoutMilliseconds)
        guard ready > 0 else { return ([], false) }
        var names: [String] = []
        var lost = false
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { break }
                throw DataRefreshError("reading the file watch failed (errno \(errno))")
            }
            guard count > 0 else { break }
            var offset = 0
            while offset + 16 <= count {
                func word(_ at: Int) -> UInt32 {
                    buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
                }
                let mask = word(offset + 4)
                let length = Int(word(offset + 12))
                let name = buffer[(offset + 16)..<min(offset + 16 + length, count)].prefix { $0 != 0 }
                if mask & UInt32(IN_Q_OVERFLOW) != 0 { lost = true }
                if mask & UInt32(IN_CLOSE_WRITE) != 0, !name.isEmpty { names.append(String(decoding: name, as: UTF8.self)) }
                offset += 16 + length
            }
        }
        return (names, lost)
        #else
        return ([], false)
        #endif
    }
}
