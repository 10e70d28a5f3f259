import NIOCore
import Synchronization

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
