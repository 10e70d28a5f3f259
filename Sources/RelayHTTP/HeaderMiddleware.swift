import RelayFoundation
/// Sets headers on every request that passes (replacing a header of the same name).
public struct HeaderMiddleware: HTTPMiddleware {
    /// The headers to set, in order.
    public let headers: [(name: String, value: String)]

    /// Creates a middleware that sets `headers`.
    public init(_ headers: [(name: String, value: String)]) {
        self.headers = headers
    }

    /// Sets `User-Agent: atlas-relay/<version>` (`AtlasRelayVersion.userAgent`).
    public static let userAgent = HeaderMiddleware([("User-Agent", AtlasRelayVersion.userAgent)])

    public func handle<Answer: TransportAnswer>(
        _ request: TransportRequest, context: TransportContext,
        next: (TransportRequest, TransportContext) async throws -> Answer
    ) async throws -> Answer {
        var request = request
        for header in headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        return try await next(request, context)
    }
}
