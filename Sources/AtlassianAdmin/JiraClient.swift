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

    /// How a reindex runs (the `type` of `POST /rest/api/2/reindex`).
    public enum ReindexType: String, Sendable, CaseIterable {
        /// Locks Jira while it rebuilds the whole index: users cannot work until it ends.
        case foreground = "FOREGROUND"
        /// Jira stays usable while the index is rebuilt in the background; slower.
        case background = "BACKGROUND"
        /// Background, unless Jira decides a full lock-and-rebuild is needed (Jira's default).
        case backgroundPreferred = "BACKGROUND_PREFERRED"
    }

    /// A reindex task, as Jira's `ReindexBean` describes it (`POST /rest/api/2/reindex`, `GET
    /// /rest/api/2/reindex/progress`). Jira sends no task id field: the id is the `taskId` query
    /// parameter of ``progressUrl`` (``taskId``).
    public struct ReindexProgress: Sendable, Equatable, Decodable {
        /// Where the task's progress page is, for example
        /// `/secure/admin/jira/IndexProgress.jspa?taskId=10100`.
        public let progressUrl: String?
        /// 0–100.
        public let currentProgress: Int?
        /// What it is doing, for example `Currently reindexing Change History`.
        public let currentSubTask: String?
        /// `FOREGROUND`, `BACKGROUND`, …
        public let type: String?
        /// When it was submitted, started and finished (ISO 8601; `finishTime` is absent or null
        /// while it runs).
        public let submittedTime: String?
        /// When it started.
        public let startTime: String?
        /// When it finished.
        public let finishTime: String?
        /// Whether it succeeded: `false` while it runs and when it failed.
        public let success: Bool?

        /// The task's id, from ``progressUrl``'s `taskId` parameter.
        public var taskId: Int? {
            guard let progressUrl, let query = URLComponents(string: progressUrl)?.queryItems else { return nil }
            return query.first { $0.name == "taskId" }?.value.flatMap { Int($0) }
        }

        /// Whether the task has ended (it has a finish time, or says it succeeded).
        public var isFinished: Bool { finishTime != nil || success == true }

        /// Whether it ended without success: the index is incomplete.
        public var failed: Bool { finishTime != nil && success != true }

        /// Creates a progress report (for tests and simulators).
        public init(
            progressUrl: String?, currentProgress: Int?, currentSubTask: String? = nil, type: String?,
            submittedTime: String? = nil, startTime: String? = nil, finishTime: String? = nil, success: Bool?
        ) {
            self.progressUrl = progressUrl
            self.currentProgress = currentProgress
            self.currentSubTask = currentSubTask
            self.type = type
            self.submittedTime = submittedTime
            self.startTime = startTime
            self.finishTime = finishTime
            self.success = success
        }
    }

    /// Starts a reindex of the whole instance (`POST /rest/api/2/reindex?type=…`, administrators
    /// only; Jira answers 202 with the new task). Poll it with ``reindexProgress(taskId:)``.
    ///
    /// - Parameter type: how it runs; Jira's default is ``ReindexType/backgroundPreferred``.
    /// - Returns: the task as Jira reports it at the start.
    public func reindex(type: ReindexType = .backgroundPreferred) async throws -> ReindexProgress {
        try await connection.call(.POST, "/rest/api/2/reindex?type=\(type.rawValue)", body: nil as String?)
    }

    /// A reindex task's progress (`GET /rest/api/2/reindex/progress?taskId=…`); nil `taskId`:
    /// the running task, or else the last one. Jira answers 404 when there is no such task.
    public func reindexProgress(taskId: Int?) async throws -> ReindexProgress {
        try await connection.call(
            .GET, "/rest/api/2/reindex/progress" + (taskId.map { "?taskId=\($0)" } ?? ""))
    }
}

/// A JSON value that is either one `T` or a list of them.
struct OneOrMany<T: Decodable>: Decodable {
    let items: [T]

    init(from decoder: any Decoder) throws {
        if let list = try? [T](from: decoder) { items = list } else { items = [try T(from: decoder)] }
    }
}
