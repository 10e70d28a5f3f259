/// One piece of cross-cutting request work in an ``HTTPTransport``: it may change the request,
/// call `next` (the rest of the chain and the exchange) zero or more times, and inspect or
/// replace the answer or the error.
///
/// Middleware must be `Sendable` and keep no per-request state in itself; what one exchange needs
/// travels in the ``TransportContext``.
///
/// ```swift
/// struct Bearer: HTTPMiddleware {
///     let token: String
///     func handle<Answer: TransportAnswer>(
///         _ request: TransportRequest, context: TransportContext,
///         next: (TransportRequest, TransportContext) async throws -> Answer
///     ) async throws -> Answer {
///         var request = request
///         request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
///         return try await next(request, context)
///     }
/// }
/// ```
public protocol HTTPMiddleware: Sendable {
    /// Handles one exchange.
    ///
    /// - Parameters:
    ///   - request: the request as the middleware before this one left it.
    ///   - context: the exchange's name, deadline, attempt and logger.
    ///   - next: sends the request on through the rest of the chain.
    /// - Returns: the answer, as `next` returned it or changed.
    func handle<Answer: TransportAnswer>(
        _ request: TransportRequest, context: TransportContext,
        next: (TransportRequest, TransportContext) async throws -> Answer
    ) async throws -> Answer
}
