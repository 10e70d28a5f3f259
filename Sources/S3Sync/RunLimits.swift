import AWSCore
import AWSSigning
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import RelayFoundation
import Synchronization

/// The two bounds of a run: requests in flight, and bytes held in buffers.
struct Limits: Sendable {
    let requests: AsyncSemaphore
    let memory: AsyncSemaphore
    /// Upload part buffers, recycled within the memory budget.
    let buffers: BufferPool

    init(_ configuration: SyncEngine.Configuration) {
        requests = AsyncSemaphore(configuration.concurrency)
        memory = AsyncSemaphore(Int(configuration.memoryLimit))
        buffers = BufferPool(limit: Int(configuration.memoryLimit))
    }

    /// Runs one request, holding `bytes` of the memory budget while it runs.
    func run<T: Sendable>(buffering bytes: Int64 = 0, _ body: @Sendable () async throws -> T) async throws -> T {
        try await memory.withPermit(Int(bytes)) {
            try await requests.withPermit(1) { try await body() }
        }
    }
}


/// Part buffers kept for reuse. A fresh 16 MiB buffer is a new mapping: 4,096 page faults and as
/// many zeroed pages, about a fifth of an upload's client CPU. Buffers are allocated only when
/// none is free, so the pool holds no more than the most parts ever in flight at once (and never
/// more than `limit` bytes).
final class BufferPool: Sendable {
    private let free = Mutex<(buffers: [ByteBuffer], bytes: Int)>(([], 0))
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// A free buffer, if there is one.
    func take() -> ByteBuffer? {
        free.withLock { free in
            guard let buffer = free.buffers.popLast() else { return nil }
            free.bytes -= buffer.capacity
            return buffer
        }
    }

    /// Keeps `buffer` for reuse once its part is done with it.
    func give(_ buffer: ByteBuffer) {
        free.withLock { free in
            guard free.bytes + buffer.capacity <= limit else { return }
            free.buffers.append(buffer)
            free.bytes += buffer.capacity
        }
    }
}
