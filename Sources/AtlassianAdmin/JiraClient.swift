import Foundation
import RelayFoundation

/// Jira Data Center's admin REST API, typed.
///
/// ```swift
/// let jira = try JiraClient(baseURL: "https://jira.dev.example.com", credentials: .token(pat))
/// try await jira.waitUntilRunning(timeout: .seconds(600))
/// try await jira.setApplicationProperty("jira.title", to: "Jira (DEV)")
/// ```
public struct JiraClient: AtlassianProduct {
    /// The connection.
    public let connection: AtlassianConnection

    /// Creates a client.
    public init(connection: AtlassianConnection) { self.connection = connection }

    /// ``Product/jira``.
    public static let product = Product.jira

    /// Where the licence details are.
    public static let licencePath = "/rest/plugins/applications/1.0/installed/jira-software/license"

    /// `GET /rest/api/2/serverInfo`.
    public struct ServerInfo: Sendable, Equatable, Decodable {
        /// The configured base URL.
        public let baseUrl: String
        /// The version, for example `10.3.4`.
        public let version: String
        /// The build number.
        public let buildNumber: Int
        /// The site title.
        public let serverTitle: String?
        /// `Server` or `Cloud`; absent on old versions.
        public let deploymentType: String?
    }

    /// The server's identity and version.
    public func serverInfo() async throws -> ServerInfo {
        try await connection.call(.GET, "/rest/api/2/serverInfo")
    }

    /// `GET /rest/api/2/myself`.
    public struct User: Sendable, Equatable, Decodable {
        /// The user name.
        public let name: String
        /// The display name.
        public let displayName: String?
        /// The e-mail address.
        public let emailAddress: String?
    }

    /// The signed-in user (a cheap check that the credentials work).
    public func myself() async throws -> User {
        try await connection.call(.GET, "/rest/api/2/myself")
    }

    /// An application property (`/rest/api/2/application-properties`).
    public struct ApplicationProperty: Sendable, Equatable, Decodable {
        /// The key, for example `jira.title`.
        public let key: String
        /// The value.
        public let value: String
        /// The property's type, for example `string`.
        public let type: String?
    }

    /// The application properties an administrator can see.
    public func applicationProperties() async throws -> [ApplicationProperty] {
        try await connection.call(.GET, "/rest/api/2/application-properties", as: OneOrMany<ApplicationProperty>.self)
            .items
    }

    /// One application property, or nil when Jira has none of that key. (Jira's documentation
    /// promises one object here and shows a list in its example; both are read.)
    public func applicationProperty(_ key: String) async throws -> ApplicationProperty? {
        do {
            return try await connection.call(
                .GET, "/rest/api/2/application-properties?key=\(PercentEncoding.component(key))",
                as: OneOrMany<ApplicationProperty>.self
            ).items.first { $0.key == key }
        } catch let error as AtlassianError where error.status == 404 {
            return nil
        }
    }

    /// Sets an application property (only keys Jira marks editable).
    public func setApplicationProperty(_ key: String, to value: String) async throws {
        struct Body: Encodable {
            let id: String
            let value: String
        }
        _ = try await connection.call(
            .PUT, "/rest/api/2/application-properties/\(PercentEncoding.component(key))",
            body: Body(id: key, value: value),
            as: AtlassianConnection.Empty.self)
    }

    /// Sets the base URL (`PUT /rest/api/2/settings/baseUrl`, whose body is a bare JSON string).
    public func setBaseURL(_ url: String) async throws {
        _ = try await connection.call(
            .PUT, "/rest/api/2/settings/baseUrl", body: url, as: AtlassianConnection.Empty.self)
    }

    /// A cluster node (`GET /rest/api/2/cluster/nodes`).
    public struct ClusterNode: Sendable, Equatable, Decodable {
        /// The node id.
        public let nodeId: String
        /// `ACTIVE`, `PASSIVE`, `OFFLINE`, …
        public let state: String
        /// Whether it is the node that answered.
        public let local: Bool?
        /// Its IP address.
        public let ip: String?
    }

    /// The cluster's nodes.
    public func clusterNodes() async throws -> [ClusterNode] {
        try await connection.call(.GET, "/rest/api/2/cluster/nodes")
    }

    /// How a reindex runs.
    public enum ReindexType: String, Sendable {
        /// Locks Jira while it runs.
        case foreground = "FOREGROUND"
        /// Jira stays usable; slower.
        case background = "BACKGROUND"
        /// Background, unless a full lock-and-rebuild is needed.
        case backgroundPreferred = "BACKGROUND_PREFERRED"
    }

    /// A reindex task (`/rest/api/2/reindex`).
    public struct ReindexProgress: Sendable, Equatable, Decodable {
        /// The task id, for ``reindexProgress(taskId:)``.
        public let currentTaskId: Int?
        /// 0–100.
        public let currentProgress: Int?
        /// Whether it finished.
        public let success: Bool?
        /// The task's type.
        public let type: String?
    }

    /// Starts a reindex.
    public func startReindex(_ type: ReindexType = .backgroundPreferred) async throws -> ReindexProgress {
        try await connection.call(.POST, "/rest/api/2/reindex?type=\(type.rawValue)", body: nil as String?)
    }

    /// A reindex task's progress.
    public func reindexProgress(taskId: Int) async throws -> ReindexProgress {
        try await connection.call(.GET, "/rest/api/2/reindex/progress?taskId=\(taskId)")
    }
}

/// A JSON value that is either one `T` or a list of them.
struct OneOrMany<T: Decodable>: Decodable {
    let items: [T]

    init(from decoder: any Decoder) throws {
        if let list = try? [T](from: decoder) { items = list } else { items = [try T(from: decoder)] }
    }
}
