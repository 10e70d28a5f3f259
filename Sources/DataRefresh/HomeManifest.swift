import Crypto
import Foundation
import RelayFoundation
import S3Sync
import Synchronization

/// A shared home as a snapshot records it: one line per file, in key order, naming the
/// content-addressed object that holds the file's bytes.
///
/// A line is `<sha256>\t<size>\t<mtime in ns>\t<path>\n`, the path percent-encoded where it holds
/// `%`, a tab, a line break or another control character. The file's bytes live once in the
/// snapshot location's content store, at `content/sha256/<first two hex digits>/<sha256>`, however
/// many snapshots and paths hold them: a snapshot stores and moves only contents it has not seen.
public enum HomeManifest {
    /// The manifest's name in a product's folder of a snapshot.
    public static let fileName = "shared-home.manifest"
    /// The content store's folder below the snapshot location's prefix (never a snapshot id).
    public static let contentFolder = "content/"
    /// Where contents live below ``contentFolder``.
    static let contentSubfolder = "sha256/"

    /// One file.
    public struct Line: Sendable, Equatable {
        /// The path relative to the home.
        public var path: SyncKey
        /// Its size in bytes.
        public var size: Int64
        /// Its modification time in nanoseconds since 1970 (as the walk saw it).
        public var modifiedNanoseconds: Int64
        /// The SHA-256 of its bytes, lowercase hex.
        public var sha256: String

        /// The modification time as a date.
        public var modified: Date { Date(timeIntervalSince1970: Double(modifiedNanoseconds) / 1e9) }

        /// The nanoseconds a walk's date stands for.
        public static func nanoseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1e9).rounded()) }

        /// The content object's key below the content store (`<aa>/<sha256>`).
        public var contentKey: SyncKey { HomeManifest.contentKey(sha256) }

        /// The line as the manifest writes it, with its line break.
        var encoded: String {
            "\(sha256)\t\(size)\t\(modifiedNanoseconds)\t\(HomeManifest.escape(path.string))\n"
        }

        /// A manifest line (without its line break).
        init(decoding text: Substring) throws {
            let fields = text.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 4, fields[0].count == 64, fields[0].allSatisfy(\.isHexDigit),
                let size = Int64(fields[1]), size >= 0, let nanoseconds = Int64(fields[2]),
                let path = HomeManifest.unescape(fields[3]), !path.isEmpty
            else {
                throw DataRefreshError(
                    "a shared-home manifest line is not '<sha256>\\t<size>\\t<mtime ns>\\t<path>': '\(text.prefix(200))'; the manifest is damaged, so choose another snapshot",
                    kind: .mismatch)
            }
            self.init(path: SyncKey(path), size: size, modifiedNanoseconds: nanoseconds, sha256: String(fields[0]))
        }

        /// A line.
        public init(path: SyncKey, size: Int64, modifiedNanoseconds: Int64, sha256: String) {
            self.path = path
            self.size = size
            self.modifiedNanoseconds = modifiedNanoseconds
            self.sha256 = sha256
        }

        /// The line as a sync entry: the path, with the content object as its source.
        var entry: SyncEntry {
            SyncEntry(
                key: path, size: size, lastModified: modified, checksums: [ContentChecksum(.sha256, hex: sha256)],
                sourceKey: contentKey)
        }
    }

    /// The content object's key below the content store.
    static func contentKey(_ sha256: String) -> SyncKey {
        SyncKey(contentSubfolder + String(sha256.prefix(2)) + "/" + sha256)
    }

    static func escape(_ path: String) -> String {
        var result = [UInt8]()
        result.reserveCapacity(path.utf8.count)
        for byte in path.utf8 {
            if byte < 0x20 || byte == 0x7f || byte == UInt8(ascii: "%") {
                result += Array(String(format: "%%%02X", byte).utf8)
            } else {
                result.append(byte)  // multi-byte UTF-8 passes through unchanged
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    static func unescape(_ text: Substring) -> String? {
        var bytes = [UInt8]()
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard iterator.count >= 2, let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
            iterator = iterator.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes a manifest file line by line (lines must come in key order), hashing it as it goes.
    final class Writer {
        let path: String
        private let handle: FileHandle
        private var buffer = Data()
        private var hash = SHA256()
        private var last: SyncKey?
        /// Lines written, and the bytes of the files they name.
        private(set) var count = 0
        private(set) var bytes: Int64 = 0

        init(path: String) throws {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw DataRefreshError("cannot create \(path); check the work directory is writable", kind: .failed)
            }
            self.path = path
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        }

        func append(_ line: Line) throws {
            if let last, !(last < line.path) {
                throw DataRefreshError(
                    "shared-home manifest lines out of order ('\(line.path)' after '\(last)'); this is a bug in the snapshot walk",
                    kind: .mismatch)
            }
            last = line.path
            let data = Data(line.encoded.utf8)
            buffer.append(data)
            hash.update(data: data)
            count += 1
            bytes += line.size
            if buffer.count >= 1 << 20 { try flush() }
        }

        private func flush() throws {
            try handle.write(contentsOf: buffer)
            buffer.removeAll(keepingCapacity: true)
        }

        /// Closes the file; returns its SHA-256.
        func finish() throws -> String {
            try flush()
            try handle.close()
            return Hex.string(hash.finalize())
        }
    }

    /// Reads a manifest file as a sorted listing of its files, each with its content object as
    /// its source (``SyncEntry/sourceKey``) and its SHA-256 to check.
    final class Reader: SortedListing {
        private struct State {
            var pending: [UInt8] = []
            var offset = 0
            var done = false
            var last: SyncKey?
        }

        let path: String
        private let handle: FileHandle
        private let state = Mutex(State())

        init(path: String) throws {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw DataRefreshError("cannot read the shared-home manifest \(path)", kind: .failed)
            }
            self.path = path
            self.handle = handle
        }

        deinit { try? handle.close() }

        /// The next lines, about a thousand at a time, or `nil` at the end.
        func nextLines() throws -> [Line]? {
            try state.withLock { state in
                var lines: [Line] = []
                while lines.count < 1000 {
                    if let newline = state.pending[state.offset...].firstIndex(of: UInt8(ascii: "\n")) {
                        let text = String(decoding: state.pending[state.offset..<newline], as: UTF8.self)
                        state.offset = newline + 1
                        let line = try Line(decoding: Substring(text))
                        if let last = state.last, !(last < line.path) {
                            throw DataRefreshError(
                                "the shared-home manifest \(path) lists '\(line.path)' after '\(last)', out of order; it is damaged, so choose another snapshot",
                                kind: .mismatch)
                        }
                        state.last = line.path
                        lines.append(line)
                        continue
                    }
                    if state.done { break }
                    let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
                    state.pending.removeFirst(state.offset)
                    state.offset = 0
                    if chunk.isEmpty {
                        state.done = true
                        guard state.pending.isEmpty else {
                            throw DataRefreshError(
                                "the shared-home manifest \(path) ends in the middle of a line; it is truncated, so choose another snapshot",
                                kind: .mismatch)
                        }
                    } else {
                        state.pending += chunk
                    }
                }
                return lines.isEmpty ? nil : lines
            }
        }

        func next() async throws -> [SyncEntry]? {
            try nextLines()?.map(\.entry)
        }
    }
}
