import AtlassianAdmin
import Logging
import RelayFoundation
import Synchronization

/// The simulator's database side: one store (one connection, writes in transactions), used by one
/// request at a time.
///
/// Like a product's connection pool it survives the database going away under it: a refresh
/// terminates its connection and renames the restored database into place, so a use that finds
/// the connection closed reconnects to the same location (now the new database) first. (A query
/// sent on a connection the server closed would wait for ever.) No use waits longer than
/// ``timeout`` either: the request fails with an `AtlassianError` of kind `timedOut` and the next use starts on
/// a new connection.
final class Backend: Sendable {
    /// The stores of one connection; only the product's is set.
    struct Stores: Sendable {
        let jira: JiraSettingsStore?
        let confluence: ConfluenceSettingsStore?

        var isOpen: Bool { jira?.isOpen ?? confluence?.isOpen ?? false }

        func close() async {
            await jira?.close()
            await confluence?.close()
        }
    }

    /// How long one database use (connecting included) may take.
    static let timeout: Duration = .seconds(10)

    let configuration: AtlassianSimulator.Configuration
    let logger: Logger
    private let stores: Mutex<Stores?>
    private let lock = AsyncSemaphore(1)

    private init(configuration: AtlassianSimulator.Configuration, stores: Stores, logger: Logger) {
        self.configuration = configuration
        self.stores = Mutex(stores)
        self.logger = logger
    }

    static func open(_ configuration: AtlassianSimulator.Configuration, logger: Logger) async throws -> Backend {
        Backend(configuration: configuration, stores: try await connect(configuration, logger: logger), logger: logger)
    }

    static func connect(_ configuration: AtlassianSimulator.Configuration, logger: Logger) async throws -> Stores {
        switch configuration.product {
        case .jira:
            Stores(jira: try await JiraSettingsStore.open(configuration.database, logger: logger), confluence: nil)
        case .confluence:
            Stores(
                jira: nil, confluence: try await ConfluenceSettingsStore.open(configuration.database, logger: logger))
        }
    }

    func close() async {
        await stores.withLock({ $0.take() })?.close()
    }

    /// Runs `body` with open stores, one use at a time.
    private func use<T: Sendable>(_ body: @escaping @Sendable (Stores) async throws -> T) async throws -> T {
        try await lock.withPermit {
            let stores = try await self.openStores()
            do {
                return try await Self.within(Self.timeout) { try await body(stores) }
            } catch is TimedOut {
                // Whatever hangs keeps its connection; the next use gets a new one.
                self.stores.withLock { $0 = nil }
                Task { await stores.close() }
                throw AtlassianError(
                    .timedOut,
                    "\(self.configuration.database) did not answer within \(Self.timeout); "
                        + "check that PostgreSQL is up and that nothing holds a lock on the settings tables")
            }
        }
    }

    /// The stores, reconnected first when the server closed their connection (as a refresh does).
    private func openStores() async throws -> Stores {
        if let open = stores.withLock({ $0 }), open.isOpen { return open }
        if let lost = stores.withLock({ $0.take() }) {
            logger.warning(
                "database connection lost; reconnecting", metadata: ["database": "\(configuration.database)"])
            await lost.close()
        }
        let fresh = try await Self.within(Self.timeout) {
            try await Self.connect(self.configuration, logger: self.logger)
        }
        stores.withLock { $0 = fresh }
        return fresh
    }

    private struct TimedOut: Error {}

    /// Runs `body` in a task of its own and returns its result, or throws ``TimedOut`` after
    /// `limit` without waiting for it: a PostgresNIO query on a dead connection ignores
    /// cancellation, so only leaving it behind bounds the wait.
    private static func within<T: Sendable>(
        _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let pending = PendingResult<T>()
        return try await withCheckedThrowingContinuation { continuation in
            pending.continuation.withLock { $0 = continuation }
            Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                pending.resume(with: result)
            }
            Task {
                try? await Task.sleep(for: limit)
                pending.resume(with: .failure(TimedOut()))
            }
        }
    }

    /// Runs `body` with the Jira store, one database use at a time.
    func jira<T: Sendable>(_ body: @escaping @Sendable (JiraSettingsStore) async throws -> T) async throws -> T {
        try await use { try await body($0.jira!) }
    }

    /// Runs `body` with the Confluence store, one database use at a time.
    func confluence<T: Sendable>(_ body: @escaping @Sendable (ConfluenceSettingsStore) async throws -> T) async throws
        -> T
    {
        try await use { try await body($0.confluence!) }
    }

    func applicationLinks() async throws -> [ApplicationLink] {
        try await use { stores in
            if let jira = stores.jira { return try await jira.applicationLinks() }
            return try await stores.confluence!.applicationLinks()
        }
    }

    func saveApplicationLink(_ link: ApplicationLink) async throws {
        try await use { stores in
            if let jira = stores.jira {
                try await jira.saveApplicationLink(link)
            } else {
                try await stores.confluence!.saveApplicationLink(link)
            }
        }
    }

    func deleteApplicationLink(id: String) async throws -> Bool {
        try await use { stores in
            if let jira = stores.jira { return try await jira.deleteApplicationLink(id: id) }
            return try await stores.confluence!.deleteApplicationLink(id: id)
        }
    }
}

/// A continuation resumed by whichever of two tasks finishes first.
private final class PendingResult<T: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func resume(with result: Result<T, any Error>) { continuation.withLock { $0.take() }?.resume(with: result) }
}
