import Logging
import RelayFoundation

/// Logs each exchange once it answered or failed: operation, method, URL with its secrets
/// redacted (`URLRedaction`), status or error, attempt and elapsed time. Headers and bodies,
/// where credentials travel, are never logged.
public struct LoggingMiddleware: HTTPMiddleware {
    /// The level of the lines.
    public let level: Logger.Level

    /// Creates a middleware logging at `level` (debug by default).
    public init(level: Logger.Level = .debug) {
        self.level = level
    }

    public func handle<Answer: TransportAnswer>(
        _ request: TransportRequest, context: TransportContext,
        next: (TransportRequest, TransportContext) async throws -> Answer
    ) async throws -> Answer {
        // Redacting the URL runs two regular expressions: not for every request of a sync when
        // the line would be dropped anyway.
        guard context.logger.logLevel <= level else { return try await next(request, context) }
        let started = ContinuousClock.now
        var metadata: Logger.Metadata = [
            "operation": "\(context.operation)", "method": "\(request.method.rawValue)",
            "url": "\(URLRedaction.redact(request.url))", "attempt": "\(context.attempt)",
        ]
        do {
            let answer = try await next(request, context)
            metadata["status"] = "\(answer.status.code)"
            metadata["elapsed"] = "\(ContinuousClock.now - started)"
            context.logger.log(level: level, "http request", metadata: metadata)
            return answer
        } catch {
            metadata["error"] = "\(URLRedaction.redact(String(describing: error).prefix(200).description))"
            metadata["elapsed"] = "\(ContinuousClock.now - started)"
            context.logger.log(level: level, "http request failed", metadata: metadata)
            throw error
        }
    }
}
