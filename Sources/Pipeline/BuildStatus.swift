import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// Posts a phase's outcome as a build status on its commit in Bitbucket Server / Data Center
/// (`POST /rest/build-status/1.0/commits/{commit}`), so reviewers see which commits passed
/// integration and UAT.
public struct BuildStatus: Sendable {
    /// The server's base URL.
    public var url: String
    /// An HTTP access token with repository read (sent as Bearer; never logged).
    var token: String

    /// Creates a poster.
    public init(url: String, token: String) {
        self.url = url
        self.token = token
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
    /// - Throws: ``PipelineError`` with the server's status and message.
    public func post(_ report: RunReport, link: String? = nil) async throws {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: "\(base)/rest/build-status/1.0/commits/\(report.commit)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        let failed = report.steps.filter { $0.outcome == .failed }.map(\.name)
        let body = Body(
            state: report.passed ? "SUCCESSFUL" : "FAILED", key: "atlas-relay-\(report.phase.rawValue)",
            name: "Atlas Relay \(report.phase.rawValue) (\(report.environment))", url: link ?? base,
            description: report.passed
                ? "passed in \(String(format: "%.0f", report.seconds)) s" : "failed: \(failed.joined(separator: ", "))")
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 64 << 10))
        guard (200..<300).contains(Int(response.status.code)) else {
            throw PipelineError(
                "Bitbucket refused the build status for \(report.commit.prefix(12)): HTTP \(response.status.code) \(text.prefix(300))"
            )
        }
    }
}
