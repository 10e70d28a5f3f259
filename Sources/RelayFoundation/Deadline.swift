/// Runs `operation` and cancels it at `deadline`, throwing `expired()` then.
///
/// The overall deadline of an HTTP exchange: AsyncHTTPClient's own deadline covers a request
/// until the response head, and its read timeout restarts with every byte, so a server that
/// drips a body keeps a plain reader waiting for ever. Cancelling the task that reads a
/// response body cancels the request (the connection is closed), so whatever `operation` does
/// after cancellation (a body that ends early, say) is never mistaken for an answer: once the
/// deadline has passed only `expired()` is thrown.
///
/// - Parameters:
///   - deadline: when `operation` must have finished.
///   - expired: the error to throw at the deadline.
///   - operation: the work; it runs in a child task and must honour cancellation.
/// - Returns: what `operation` returned in time.
/// - Throws: `expired()` at the deadline, else what `operation` threw.
package func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant, orThrow expired: @escaping @Sendable () -> any Error,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: DeadlineOutcome<T>.self) { group in
        group.addTask { .finished(try await operation()) }
        group.addTask {
            try await Task.sleep(until: deadline, clock: .continuous)
            return .expired
        }
        defer { group.cancelAll() }
        switch try await group.next() {
        case .finished(let value)?: return value
        case .expired?, nil: throw expired()
        }
    }
}

/// ``withDeadline(_:orThrow:_:)`` for a closure that is neither escaping nor `Sendable`.
///
/// The caller is suspended until `operation` finishes or is cancelled, so nothing `operation`
/// captured is used by two tasks at once.
package func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant, orThrow expired: @escaping @Sendable () -> any Error,
    running operation: () async throws -> T
) async throws -> T {
    try await withoutActuallyEscaping(operation) { escapable in
        nonisolated(unsafe) let operation = escapable
        return try await withDeadline(deadline, orThrow: expired) { try await operation() }
    }
}

/// Which of ``withDeadline(_:orThrow:_:)``'s two tasks finished first.
private enum DeadlineOutcome<T: Sendable>: Sendable {
    case finished(T)
    case expired
}
