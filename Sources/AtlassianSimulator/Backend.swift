import AtlassianAdmin
import Logging
import RelayFoundation
import Synchronization

/// The simulator's database side: one connection of its own (``SimulatorDatabase``), used by one
/// request at a time, and the id blocks the products keep in memory (OFBiz's sequence banks for
/// Jira, Hibernate's hi/lo block for Confluence).
///
/// Like a product's connection pool it survives the database going away under it: a refresh
/// terminates its connection and renames the restored database into place, so a use that finds
/// the connection closed reconnects to the same location (now the new database) first, and
/// forgets its id blocks (they belonged to the old database). (A query sent on a connection the
/// server closed would wait for ever.) No use waits longer than ``timeout`` either: the request
/// fails with an `AtlassianError` of kind `timedOut` and the next use starts on a new connection.
final class DatabaseBackend: Sendable {
    /// How long one database use (connecting included) may take.
    static let timeout: Duration = .seconds(10)

    /// The tables a start requires (the settings); content tables are checked when used, so that
    /// a simulator running on a truncated restore answers errors instead of refusing to start.
    static func requiredTables(_ product: Product) -> [String] {
        switch product {
        case .jira: ["propertyentry", "propertystring", "propertynumber", "propertytext", "sequence_value_item"]
        case .confluence: ["bandana", "hibernate_unique_key"]
        }
    }

    /// Ids taken from the database but not used yet (per sequence name).
    struct IdBlock: Sendable {
        var next: Int64
        var end: Int64
    }

    let configuration: AtlassianSimulator.Configuration
    let logger: Logger
    private let database: Mutex<SimulatorDatabase?>
    let blocks = Mutex<[String: IdBlock]>([:])
    private let lock = AsyncSemaphore(1)

    private init(configuration: AtlassianSimulator.Configuration, database: SimulatorDatabase, logger: Logger) {
        self.configuration = configuration
        self.database = Mutex(database)
        self.logger = logger
    }

    static func open(_ configuration: AtlassianSimulator.Configuration, logger: Logger) async throws -> DatabaseBackend {
        let database = try await SimulatorDatabase.connect(configuration.database, logger: logger)
        do {
            let missing = try await database.missingTables(requiredTables(configuration.product))
            guard missing.isEmpty else {
                throw AtlassianError(
                    .invalidInput,
                    "\(configuration.database) is not a \(configuration.product.displayName) database: "
                        + "table(s) \(missing.joined(separator: ", ")) missing; check the database name (and schema)")
            }
        } catch {
            await database.close()
            throw error
        }
        return DatabaseBackend(configuration: configuration, database: database, logger: logger)
    }

    func close() async {
        await database.withLock({ $0.take() })?.close()
    }

    /// Runs `body` with an open connection, one use at a time.
    func use<T: Sendable>(_ body: @escaping @Sendable (SimulatorDatabase) async throws -> T) async throws -> T {
        try await lock.withPermit {
            let database = try await self.openDatabase()
            do {
                return try await Self.within(Self.timeout) { try await body(database) }
            } catch is TimedOut {
                // Whatever hangs keeps its connection; the next use gets a new one.
                self.database.withLock { $0 = nil }
                self.blocks.withLock { $0.removeAll() }
                Task { await database.close() }
                throw AtlassianError(
                    .timedOut,
                    "\(self.configuration.database) did not answer within \(Self.timeout); "
                        + "check that PostgreSQL is up and that nothing holds a lock on the product's tables")
            }
        }
    }

    /// The connection, reconnected first when the server closed it (as a refresh does).
    private func openDatabase() async throws -> SimulatorDatabase {
        if let open = database.withLock({ $0 }), open.isOpen { return open }
        if let lost = database.withLock({ $0.take() }) {
            logger.warning(
                "database connection lost; reconnecting", metadata: ["database": "\(configuration.database)"])
            await lost.close()
        }
        blocks.withLock { $0.removeAll() }
        let location = configuration.database
        let logger = self.logger
        let fresh = try await Self.within(Self.timeout) { try await SimulatorDatabase.connect(location, logger: logger) }
        database.withLock { $0 = fresh }
        return fresh
    }

    /// The next id of `name` from the block in memory, or `nil` when a new block must be taken.
    func takeCachedId(_ name: String) -> Int64? {
        blocks.withLock { blocks in
            guard var block = blocks[name], block.next < block.end else { return nil }
            let id = block.next
            block.next += 1
            blocks[name] = block
            return id
        }
    }

    /// Forgets every id block (after a rollback, which may have undone the taking of one).
    func forgetBlocks() { blocks.withLock { $0.removeAll() } }

    /// Keeps the rest of a new block (`first` is used by the caller).
    func keepBlock(_ name: String, first: Int64, end: Int64) {
        blocks.withLock { $0[name] = IdBlock(next: first + 1, end: end) }
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
            let timer = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                pending.resume(with: .failure(TimedOut()))
            }
            Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                pending.resume(with: result)
                timer.cancel()  // no sleeping timer left behind for every use that answered in time
            }
        }
    }
}

/// A continuation resumed by whichever of two tasks finishes first.
private final class PendingResult<T: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func resume(with result: Result<T, any Error>) { continuation.withLock { $0.take() }?.resume(with: result) }
}
