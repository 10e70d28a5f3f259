import AWSCore
import RelayFoundation

/// Runs `body` and cancels it after `limit`: a test of a deadline fails in bounded time when the
/// code under test would wait for ever.
///
/// - Throws: ``TestSupportError`` when `limit` passed first, else what `body` threw.
public func withTimeLimit<T: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withDeadline(
        .now + limit, orThrow: { TestSupportError("still running after \(limit); it would have waited for ever") },
        body)
}
