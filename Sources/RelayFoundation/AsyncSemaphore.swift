/// A weighted semaphore for tasks: bounds requests in flight, or bytes held in buffers.
///
/// Waiters are served in order, so a large request is not starved by a stream of small ones.
package actor AsyncSemaphore {
    private let capacity: Int
    private var available: Int
    private var waiters: [(amount: Int, continuation: CheckedContinuation<Void, Never>)] = []

    package init(_ capacity: Int) {
        self.capacity = max(1, capacity)
        self.available = self.capacity
    }

    /// Takes `amount` (at most the capacity), waiting until it is free.
    package func acquire(_ amount: Int = 1) async {
        let amount = min(max(amount, 0), capacity)
        if waiters.isEmpty && available >= amount {
            available -= amount
            return
        }
        await withCheckedContinuation { waiters.append((amount, $0)) }
    }

    /// Returns `amount` and wakes the waiters it now satisfies, in order.
    package func release(_ amount: Int = 1) {
        available += min(max(amount, 0), capacity)
        while let first = waiters.first, first.amount <= available {
            available -= first.amount
            waiters.removeFirst().continuation.resume()
        }
    }

    /// Runs `body` holding `amount`.
    package func withPermit<T: Sendable>(_ amount: Int = 1, _ body: @Sendable () async throws -> T) async rethrows -> T
    {
        await acquire(amount)
        defer { release(amount) }
        return try await body()
    }
}
