import RelayFoundation

/// The two bounds of a run: requests in flight, and bytes held in buffers.
struct TransferLimits: Sendable {
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
