import AtlassianAdmin
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A small Jira or Confluence Data Center stand-in for tests and the sandbox: a real HTTP server
/// that speaks the REST subset of `AtlassianAdmin` and App-Tester with the documented shapes
/// (status codes, JSON fields, error bodies, Basic and Bearer auth), serving a real product
/// database — a Jira 8 or Confluence 6 schema, as a restore leaves it — through SQL of its own.
///
/// It is an independent oracle: it shares no storage code with the project's settings stores,
/// and keeps nothing in memory but id blocks and reindex tasks. Settings, application links,
/// issues, comments, pages, attachments and users are read from and written to the product's
/// own tables (and Confluence's attachment bytes to its shared home), so whatever a refresh left
/// in the database is what REST shows, and a broken restore makes requests fail.
///
/// ```swift
/// let jira = try await AtlassianSimulator.start(.init(product: .jira, database: location))
/// jira.setMode(.starting(polls: 3))   // /status says STARTING three times, then RUNNING
/// let client = try JiraClient(baseURL: jira.baseURL, credentials: .token(AtlassianSimulator.User.admin.token))
/// ```
public final class AtlassianSimulator: Sendable {

    /// A user it accepts.
    public struct User: Sendable {
        /// The user name.
        public var name: String
        /// The password for Basic auth.
        public var password: String
        /// The personal access token for Bearer auth.
        public var token: String
        /// Whether the user is a system administrator.
        public var isAdmin: Bool

        /// Creates a user.
        public init(name: String, password: String, token: String, isAdmin: Bool) {
            self.name = name
            self.password = password
            self.token = token
            self.isAdmin = isAdmin
        }

        /// The default administrator (`admin` / `admin`, token `simulator-admin-token`).
        public static let admin = User(name: "admin", password: "admin", token: "simulator-admin-token", isAdmin: true)
        /// A user without admin rights (`viewer` / `viewer`, token `simulator-viewer-token`).
        public static let viewer = User(
            name: "viewer", password: "viewer", token: "simulator-viewer-token", isAdmin: false)
    }

    /// What it is started with.
    public struct Configuration: Sendable {
        /// The product.
        public var product: Product
        /// Its database: a Jira 8 / Confluence 6 schema (for example a restored dump).
        public var database: DatabaseLocation
        /// The sandbox's own accounts, accepted besides the database's `cwd_user` users (checked
        /// first; a name they do not match with its password falls through to the database).
        /// `[]`: only database users (and no Bearer tokens).
        public var users: [User]
        /// The version to report when the database records none. Jira's comes from the database
        /// (`jira.version`); Confluence records only its build number (`confversion`), so its
        /// version is this (default `unknown`).
        public var version: String?
        /// The licence it reports.
        public var licence: LicenceDetails
        /// Confluence's shared home, where attachment bytes live (`attachments/ver003/…`); nil:
        /// attachment uploads and downloads answer 500.
        public var sharedHome: URL?
        /// How many progress polls a Jira reindex takes to finish (at least 1).
        public var reindexPolls: Int

        /// Creates a configuration with a valid Data Center licence.
        public init(
            product: Product, database: DatabaseLocation, users: [User] = [.admin, .viewer], version: String? = nil,
            licence: LicenceDetails? = nil, sharedHome: URL? = nil, reindexPolls: Int = 3
        ) {
            self.product = product
            self.database = database
            self.users = users
            self.version = version
            self.sharedHome = sharedHome
            self.reindexPolls = max(1, reindexPolls)
            self.licence =
                licence
                ?? LicenceDetails(
                    valid: true, licenseType: "Commercial", evaluation: false, organizationName: "Atlas Relay Sandbox",
                    expiryDate: 4_102_444_800_000, maintenanceExpired: false, dataCenter: true,
                    maximumNumberOfUsers: 500)
        }
    }

    /// What `/status` answers (and whether the REST API serves).
    public enum Mode: Sendable, Equatable {
        /// 200 RUNNING; the REST API serves.
        case running
        /// 200 STARTING for the next `polls` status requests, then RUNNING; REST answers 503 meanwhile.
        case starting(polls: Int)
        /// 503 MAINTENANCE, on REST too.
        case maintenance
        /// 500 ERROR.
        case error
    }

    /// A request it received (credentials included: assert on them, never print them).
    public struct Request: Sendable {
        /// The method, for example `GET`.
        public let method: String
        /// The path.
        public let path: String
        /// The query, without `?`.
        public let query: String
        /// The `Authorization` header.
        public let authorization: String?
        /// The body.
        public let body: Data
        /// The status it answered.
        public let status: Int
    }

    /// A scripted failure: requests whose path starts with `pathPrefix` get `status`.
    public struct Failure: Sendable {
        /// The path prefix, for example `/rest/api/2/serverInfo`.
        public var pathPrefix: String
        /// The status to answer.
        public var status: Int
        /// Extra delay before answering.
        public var delay: Duration

        /// Creates a failure.
        public init(pathPrefix: String, status: Int, delay: Duration = .zero) {
            self.pathPrefix = pathPrefix
            self.status = status
            self.delay = delay
        }
    }

    /// A Jira reindex task (kept in memory, as Jira keeps its task manager's tasks).
    struct ReindexTask: Sendable {
        let id: Int
        let type: String
        let submitted: Date
        var polls = 0
        var fault: String?
        var finished: Date?
    }

    struct State {
        var mode = Mode.running
        var failures: [Failure] = []
        var requests: [Request] = []
        var reindexTasks: [ReindexTask] = []
        var reindexFault: String?
        var indexLag: Duration = .zero
        /// Issues created under an index lag, by id, and when the index shows them.
        var unindexed: [Int64: ContinuousClock.Instant] = [:]
    }

    /// The configuration.
    public let configuration: Configuration
    /// The port it listens on.
    public let port: Int
    let state: Mutex<State>
    let backend: DatabaseBackend
    private let task: Mutex<(Task<Void, any Error>, ServiceGroup)?>

    /// `http://<host>:<port>`.
    public let baseURL: String

    /// The requests received so far, in order.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// Sets what `/status` answers.
    public func setMode(_ mode: Mode) { state.withLock { $0.mode = mode } }

    /// Makes requests under `failure.pathPrefix` fail (the newest matching failure wins).
    public func fail(_ failure: Failure) { state.withLock { $0.failures.append(failure) } }

    /// Removes every scripted failure.
    public func clearFailures() { state.withLock { $0.failures.removeAll() } }

    /// Makes Jira's search miss each issue created from now on until `lag` after its creation
    /// was answered, as a Data Center cluster's node does until the index replication from the
    /// node that wrote it reaches it.
    public func setIndexLag(_ lag: Duration) { state.withLock { $0.indexLag = lag } }

    /// Makes the Jira reindexes started from now on fail with `message` (an index error, as
    /// Jira reports one: the task finishes with `success` false); nil: they succeed again.
    public func setReindexFault(_ message: String?) { state.withLock { $0.reindexFault = message } }

    private init(configuration: Configuration, port: Int, host: String, backend: DatabaseBackend) {
        self.configuration = configuration
        self.port = port
        self.baseURL = "http://\(host):\(port)"
        self.state = Mutex(State())
        self.backend = backend
        self.task = Mutex(nil)
    }

    /// Opens the database and starts serving on `host:port` (0: any free port).
    ///
    /// Only the settings tables are required to start (Jira `propertyentry` and its value
    /// tables and `sequence_value_item`, Confluence `bandana` and `hibernate_unique_key`); a
    /// missing content table makes the requests that need it answer 500 naming it.
    ///
    /// - Throws: `AtlassianError` of kind `unreachable` when the database is unreachable or the
    ///   port cannot be bound, `invalidInput` when the database is not this product's.
    public static func start(
        _ configuration: Configuration, host: String = "127.0.0.1", port: Int = 0,
        logger: Logger = Logger(label: "atlas-relay.simulator")
    ) async throws -> AtlassianSimulator {
        let backend = try await DatabaseBackend.open(configuration, logger: logger)
        let (bound, continuation) = AsyncStream<Int>.makeStream()
        let box = Mutex<AtlassianSimulator?>(nil)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            guard let simulator = box.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return try await simulator.respond(to: request)
        }
        var serverLogger = logger
        serverLogger.logLevel = .warning
        let application = Application(
            responder: responder,
            // A fixed port is a restart (as after a refresh) and must bind while old connections
            // linger; an ephemeral one must never collide with a stopped server's connections.
            configuration: .init(address: .hostname(host, port: port), reuseAddress: port != 0),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: serverLogger)
        let group = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [], logger: serverLogger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var port = 0
        for await value in bound { port = value }
        guard port > 0 else {
            task.cancel()
            await backend.close()
            throw AtlassianError(
                .unreachable, "the \(configuration.product) simulator could not listen on \(host):\(port)")
        }
        let simulator = AtlassianSimulator(configuration: configuration, port: port, host: host, backend: backend)
        simulator.task.withLock { $0 = (task, group) }
        box.withLock { $0 = simulator }
        return simulator
    }

    /// How long ``stop()`` lets requests in flight finish before it cancels them.
    public static let stopGracePeriod: Duration = .seconds(3)

    /// Stops serving and closes the database connection.
    ///
    /// Requests in flight get ``stopGracePeriod`` to finish; then the server is cancelled, so a
    /// request stuck on the database cannot keep the simulator alive.
    public func stop() async {
        guard let (task, group) = self.task.withLock({ $0.take() }) else { return }
        await group.triggerGracefulShutdown()
        let cancel = Task {
            try await Task.sleep(for: Self.stopGracePeriod)
            task.cancel()
        }
        _ = try? await task.value
        cancel.cancel()
        await backend.close()
    }
}
