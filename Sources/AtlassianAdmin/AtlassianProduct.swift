import AWSCore
import Foundation

/// An application link, as `GET /rest/applinks/1.0/listApplicationlinks` lists it.
public struct ApplicationLink: Sendable, Equatable, Decodable {
    /// The link's id (a UUID).
    public let id: String
    /// Its name, for example `Confluence`.
    public let name: String
    /// The linked application's type, for example `confluence` or `jira`.
    public let typeId: String
    /// The URL the link calls.
    public let rpcUrl: String
    /// The URL shown to users.
    public let displayUrl: String?
    /// Whether it is the primary link of its type.
    public let isPrimary: Bool
}

/// A health check's result (`GET /rest/troubleshooting/1.0/check/`).
public struct HealthCheck: Sendable, Equatable, Decodable {
    /// The check's name.
    public let name: String
    /// Whether it passed.
    public let isHealthy: Bool
    /// Why not, when it failed.
    public let failureReason: String?
    /// `critical`, `major`, `warning`, …
    public let severity: String?
}

/// What Jira and Confluence Data Center share: node status, application links and health checks.
public protocol AtlassianProduct: Sendable {
    /// The connection.
    var connection: AtlassianConnection { get }

    /// Creates a client on `connection`.
    init(connection: AtlassianConnection)
}

extension AtlassianProduct {
    /// Creates a client for `baseURL` with the package's shared HTTP client.
    ///
    /// - Throws: ``AtlassianError`` when `baseURL` is not an absolute http(s) URL.
    public init(baseURL: String, credentials: AtlassianCredentials?) throws {
        self.init(connection: try AtlassianConnection(baseURL: baseURL, credentials: credentials))
    }

    /// The node's state (`GET /status`).
    public func state() async throws -> NodeState { try await connection.state() }

    /// Polls `/status` until the node is `RUNNING`.
    public func waitUntilRunning(timeout: Duration, interval: Duration = .seconds(5)) async throws {
        try await connection.waitUntilRunning(timeout: timeout, interval: interval)
    }

    /// The application links.
    public func applicationLinks() async throws -> [ApplicationLink] {
        try await connection.call(.GET, "/rest/applinks/1.0/listApplicationlinks", as: ApplicationLinkList.self)
            .list.map(\.application)
    }

    /// Deletes an application link.
    public func deleteApplicationLink(id: String) async throws {
        _ = try await connection.call(
            .DELETE, "/rest/applinks/1.0/applicationlink/\(S3Path.encodeQueryComponent(id))",
            as: AtlassianConnection.Empty.self)
    }

    /// The health checks (administrators only). Accepts both shapes seen in the wild: a bare
    /// list, or `{"statuses": [...]}`.
    public func healthChecks() async throws -> [HealthCheck] {
        try await connection.call(.GET, "/rest/troubleshooting/1.0/check/", as: HealthReport.self).checks
    }
}

struct HealthReport: Decodable {
    let checks: [HealthCheck]

    init(from decoder: any Decoder) throws {
        if let list = try? [HealthCheck](from: decoder) {
            checks = list
        } else {
            struct Wrapped: Decodable { let statuses: [HealthCheck] }
            checks = try Wrapped(from: decoder).statuses
        }
    }
}

struct ApplicationLinkList: Decodable {
    struct Entry: Decodable { let application: ApplicationLink }
    let list: [Entry]
}
