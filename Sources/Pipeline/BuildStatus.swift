import Foundation
import NIOCore
import NIOFoundationCompat
import RelayFoundation
import RelayHTTP

/// Posts a phase's outcome as a build status on its commit in Bitbucket Server / Data Center
/// (`POST /rest/build-status/1.0/commits/{commit}`), so reviewers see which commits passed
/// integration and UAT.
///
/// The token travels in the `Authorization` header only, never in the URL, so the transport's
/// request log never shows it.
public struct BuildStatus: Sendable {
    /// The server's base URL.
    public var url: String
    /// An HTTP access token with repository read (sent as Bearer; never logged).
    var token: String
    /// The transport the status goes through.
    public var transport: HTTPTransport
    /// How long the whole exchange may take.
    public var timeout: Duration

    /// Creates a poster.
    ///
    /// - Parameters:
    ///   - url: the server's base URL (a trailing `/` is fine).
    ///   - token: an HTTP access token; sent as `Authorization: Bearer`.
    ///   - transport: the transport; `HTTPTransport.shared` by default.
    ///   - timeout: the deadline of the exchange, head and body; 30 s by default.
    public init(url: String, token: String, transport: HTTPTransport = .shared, timeout: Duration = .seconds(30)) {
        self.url = url
        self.token = token
        self.transport = transport
        self.timeout = timeout
    }

    struct Body: Encodable {
        let state: String
        let key: String
        let name: String
        let url: String
        let description: String
    }

    /// Posts `report`: SUCCESSFUL or FAILED under the key `atlas-relay-<phase>`.
    ///
    /// - Parameters:
    ///   - report: the phase's report: its commit, phase, environment and outcome.
    ///   - link: where the status links to; the server's base URL by default.
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/buildStatusRejected`` with the
    ///   server's status and message; the transport's errors when the server cannot be reached
    ///   or does not answer within ``timeout``.
    public func post(_ report: RunReport, link: String? = nil) async throws {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        let failed = report.steps.filter { $0.outcome == .failed }.map(\.name)
        let body = Body(
            state: report.passed ? "SUCCESSFUL" : "FAILED", key: "atlas-relay-\(report.phase.rawValue)",
            name: "Atlas Relay \(report.phase.rawValue) (\(report.environment))", url: link ?? base,
            description: report.passed
                ? "passed in \(String(format: "%.0f", report.seconds)) s" : "failed: \(failed.joined(separator: ", "))")
        var request = TransportRequest(
            url: "\(base)/rest/build-status/1.0/commits/\(report.commit)", method: .POST)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        let answer = try await transport.collect(
            request, context: TransportContext(operation: "bitbucket POST build-status", timeout: timeout),
            upTo: 64 << 10)
        guard (200..<300).contains(Int(answer.status.code)) else {
            throw PipelineError(
                "Bitbucket refused the build status for \(report.commit.prefix(12)): HTTP \(answer.status.code) "
                    + "\(String(buffer: answer.body).prefix(300))",
                kind: .buildStatusRejected)
        }
    }
}
