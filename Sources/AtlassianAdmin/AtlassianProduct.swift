import Foundation
import RelayFoundation

/// An application link, as `GET /rest/applinks/1.0/listApplicationlinks` lists it.
public struct ApplicationLink: Sendable, Equatable, Codable {
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

    /// Creates a link description.
    public init(id: String, name: String, typeId: String, rpcUrl: String, displayUrl: String?, isPrimary: Bool) {
        self.id = id
        self.name = name
        self.typeId = typeId
        self.rpcUrl = rpcUrl
        self.displayUrl = displayUrl
        self.isPrimary = isPrimary
    }

    /// The same link pointing at `url` (both the RPC and the display URL).
    public func relocated(to url: String) -> ApplicationLink {
        ApplicationLink(id: id, name: name, typeId: typeId, rpcUrl: url, displayUrl: url, isPrimary: isPrimary)
    }
}

/// An application link's status (`GET /rest/applinks/3.0/status/{id}`).
public struct ApplicationLinkStatus: Sendable, Equatable, Codable {
    /// Why it does not work.
    public struct Problem: Sendable, Equatable, Codable {
        /// For example `NETWORK_ERROR` or `AUTHENTICATION`.
        public let category: String?
        /// For example `UNKNOWN_HOST`.
        public let type: String?

        /// Creates a problem.
        public init(category: String?, type: String?) {
            self.category = category
            self.type = type
        }
    }

    /// Whether the link works.
    public let working: Bool
    /// The problem when it does not.
    public let error: Problem?

    /// Creates a status.
    public init(working: Bool, error: Problem?) {
        self.working = working
        self.error = error
    }
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

    /// Where the product answers with its licence details.
    static var licencePath: String { get }

    /// Which product the client speaks to.
    static var product: Product { get }
}

/// A product licence's details (Jira: the application's licence; Confluence: the licence
/// details endpoint). Fields a product does not send are nil.
public struct LicenceDetails: Sendable, Equatable, Codable {
    /// Whether the licence is valid.
    public var valid: Bool?
    /// `Commercial`, `Evaluation`, `Developer`, …
    public var licenseType: String?
    /// Whether it is an evaluation licence.
    public var evaluation: Bool?
    /// The licence holder.
    public var organizationName: String?
    /// When it expires, in milliseconds since 1970 (nil for perpetual licences).
    public var expiryDate: Int64?
    /// Whether software maintenance has ended.
    public var maintenanceExpired: Bool?
    /// Whether it is a Data Center licence.
    public var dataCenter: Bool?
    /// The user tier.
    public var maximumNumberOfUsers: Int?

    /// Creates licence details.
    public init(
        valid: Bool?, licenseType: String?, evaluation: Bool? = nil, organizationName: String?, expiryDate: Int64?,
        maintenanceExpired: Bool?, dataCenter: Bool?, maximumNumberOfUsers: Int?
    ) {
        self.valid = valid
        self.licenseType = licenseType
        self.evaluation = evaluation
        self.organizationName = organizationName
        self.expiryDate = expiryDate
        self.maintenanceExpired = maintenanceExpired
        self.dataCenter = dataCenter
        self.maximumNumberOfUsers = maximumNumberOfUsers
    }

    /// Whether the licence is valid and not expired at `date`.
    public func isUsable(at date: Date = Date()) -> Bool {
        guard valid != false else { return false }
        guard let expiryDate else { return true }
        return Double(expiryDate) / 1000 > date.timeIntervalSince1970
    }
}

extension AtlassianProduct {
    /// Which product the client speaks to: `Self.product`, readable from an `any AtlassianProduct`.
    public var product: Product { Self.product }

    /// Creates a client for `baseURL` with the package's shared HTTP transport.
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

    /// Whether link `id` works (`GET /rest/applinks/3.0/status/{id}`): the remote answers and
    /// authentication is configured.
    public func applicationLinkStatus(id: String) async throws -> ApplicationLinkStatus {
        try await connection.call(.GET, "/rest/applinks/3.0/status/\(PercentEncoding.component(id))")
    }

    /// Deletes an application link.
    public func deleteApplicationLink(id: String) async throws {
        _ = try await connection.call(
            .DELETE, "/rest/applinks/1.0/applicationlink/\(PercentEncoding.component(id))",
            as: AtlassianConnection.Empty.self)
    }

    /// Updates an existing link's name, URLs and primary flag (`PUT
    /// /rest/applinks/1.0/applicationlink/{id}`). Creating a link needs the two-way trust
    /// handshake of the admin UI; after a clone, links exist and only need relocating.
    public func updateApplicationLink(_ link: ApplicationLink) async throws {
        _ = try await connection.call(
            .PUT, "/rest/applinks/1.0/applicationlink/\(PercentEncoding.component(link.id))", body: link,
            as: AtlassianConnection.Empty.self)
    }

    /// Points link `id` at `url` (`POST /rest/applinks/1.0/relocateApplicationlink/{id}`), without
    /// asking the other side first (`nowarning=true`), as after a clone where it may still be down.
    public func relocateApplicationLink(id: String, to url: String) async throws {
        _ = try await connection.call(
            .POST,
            "/rest/applinks/1.0/relocateApplicationlink/\(PercentEncoding.component(id))?newUrl=\(PercentEncoding.component(url))&nowarning=true",
            body: nil as String?, as: AtlassianConnection.Empty.self)
    }

    /// The licence's details (administrators only).
    public func licenceDetails() async throws -> LicenceDetails {
        try await connection.call(.GET, Self.licencePath)
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
