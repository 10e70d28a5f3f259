import AWSCore
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import RelayFoundation
import Synchronization

/// Writes a download's body into a local file from an offset, as it arrives on the connection's
/// event loop: the network's reads are gathered into `pwritev` calls of about 1 MiB (no copy) on
/// NIO's thread pool, with one write in flight while the next megabyte gathers; beyond that,
/// reading pauses. So a download holds at most ``bufferLimit`` bytes and costs a task switch per
/// megabyte instead of one per network read. Given a key, it checks a whole object's body against
/// its head (``DownloadCheck``).
final class DownloadReceiver: AWSBodyReceiver {
    /// What arrived: the object's head and the file offset after the last byte written.
    struct Received: Sendable {
        let head: S3Client.ObjectHead
        let end: Int64
    }

    private struct State {
        var head: S3Client.ObjectHead?
        var check: DownloadCheck?
        var offset: Int64
        var pending: [ByteBuffer] = []
        var pendingBytes = 0
        var lastWrite: EventLoopFuture<Void>?
    }

    static let chunk = 1 << 20
    /// The most bytes one download holds: a megabyte being written and one gathered.
    static let bufferLimit = Int64(2 * chunk)

    let file: LocalFile
    private let start: Int64
    private let checkedKey: String?
    private let state: Mutex<State>

    /// - Parameters:
    ///   - offset: where the body's first byte goes.
    ///   - checkedKey: the key, to check a whole object's body; `nil` for a byte range.
    init(file: LocalFile, offset: Int64, checking checkedKey: String? = nil) {
        self.file = file
        start = offset
        self.checkedKey = checkedKey
        state = Mutex(State(offset: offset))
    }

    func receiveHead(_ head: HTTPResponseHead, on eventLoop: any EventLoop) throws {
        let objectHead = S3Client.ObjectHead(headers: head.headers)
        let check = checkedKey.map { DownloadCheck(key: $0, head: objectHead) }
        state.withLock { state in
            state.head = objectHead
            state.check = check
        }
    }

    func receive(_ buffer: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let file = self.file
        return state.withLock { state in
            state.check?.update(buffer)
            state.pending.append(buffer)
            state.pendingBytes += buffer.readableBytes
            guard state.pendingBytes >= Self.chunk else { return eventLoop.makeSucceededVoidFuture() }
            let (batch, offset) = (state.pending, state.offset)
            state.offset += Int64(state.pendingBytes)
            state.pending.removeAll(keepingCapacity: true)
            state.pendingBytes = 0
            let previous = state.lastWrite ?? eventLoop.makeSucceededVoidFuture()
            state.lastWrite = previous.flatMap {
                NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { try file.write(batch, at: offset) }
            }
            return previous
        }
    }

    func finish() async throws -> Received {
        let (batch, offset, lastWrite, check, head) = state.withLock { state in
            defer {
                state.offset += Int64(state.pendingBytes)
                state.pending = []
                state.pendingBytes = 0
                state.lastWrite = nil
            }
            return (state.pending, state.offset, state.lastWrite, state.check, state.head)
        }
        try await lastWrite?.get()
        let file = self.file
        if !batch.isEmpty { try await LocalFile.run { try file.write(batch, at: offset) } }
        guard let head else { throw SyncError.localIO("\(file.path): the download ended without an answer") }
        let end = offset + Int64(batch.reduce(0) { $0 + $1.readableBytes })
        try check?.verify(received: end - start)
        return Received(head: head, end: end)
    }

    func abandon() async {
        let lastWrite = state.withLock { $0.lastWrite }
        _ = try? await lastWrite?.get()
    }
}

/// The checks a whole-object download can make, chosen from its head before the body arrives:
/// the size always, CRC32C when the server stored one, MD5 when the ETag is the content's MD5
/// (a single-part, non-KMS object). Only the hashes that can be checked are computed.
struct DownloadCheck {
    let key: String
    let head: S3Client.ObjectHead
    private var crc: CRC32C?
    private var md5: Insecure.MD5?

    init(key: String, head: S3Client.ObjectHead) {
        self.key = key
        self.head = head
        if head.checksums.contains(where: { $0.algorithm == .crc32c }) { crc = CRC32C() }
        let isKMS = head.serverSideEncryption?.hasPrefix("aws:kms") ?? false
        if !isKMS && ContentChecksum.isPlainMD5ETag(head.eTag) { md5 = Insecure.MD5() }
    }

    mutating func update(_ buffer: ByteBuffer) {
        crc?.update(buffer.readableBytesView)
        md5?.update(data: buffer.readableBytesView)
    }

    func verify(received: Int64) throws {
        guard received == head.size else {
            throw SyncError.checksumMismatch(
                "\(key): received \(received) bytes, the server announced \(head.size); sync again")
        }
        if let crc, let sent = head.checksums.first(where: { $0.algorithm == .crc32c }), sent.hex != crc.hex {
            throw SyncError.checksumMismatch(
                "\(key): CRC32C of the received data is \(crc.hex), the server said \(sent.hex); the data was damaged in transit"
            )
        }
        if let md5 {
            let hex = Hex.string(md5.finalize())
            if head.eTag.lowercased() != hex {
                throw SyncError.checksumMismatch(
                    "\(key): MD5 of the received data is \(hex), its ETag is \(head.eTag); the data was damaged in transit"
                )
            }
        }
    }
}
