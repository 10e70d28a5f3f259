import AtlassianAdmin
import Foundation
import Logging
import PostgresNIO

/// The simulator's own connection to a product database: its own postgres-nio connection and
/// SQL, written from the products' schema (Jira 8's OFBiz tables, Confluence 6's Hibernate
/// tables), sharing no storage code with `AtlassianAdmin`'s settings stores, so that what it
/// serves is an independent reading of what a restore left in the database.
final class SimulatorDatabase: Sendable {
    let connection: PostgresConnection
    let location: DatabaseLocation
    let logger: Logger

    private init(connection: PostgresConnection, location: DatabaseLocation, logger: Logger) {
        self.connection = connection
        self.location = location
        self.logger = logger
    }

    var isOpen: Bool { !connection.isClosed }

    /// Connects with the location's TLS settings (libpq's `sslmode` and `sslrootcert`, through
    /// `DatabaseLocation.connectionConfiguration()`: the connection parameters are the one thing
    /// the simulator shares with the project, as a product shares its JDBC driver) and enters the
    /// location's schema.
    ///
    /// - Throws: `AtlassianError` of the kind `DatabaseLocation.connectionError(_:)` gives
    ///   (`unreachable`, `tlsRequired`, `untrustedCertificate`, …).
    static func connect(_ location: DatabaseLocation, logger: Logger) async throws -> SimulatorDatabase {
        let connection: PostgresConnection
        let configuration = try location.connectionConfiguration()
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw location.connectionError(error)
        }
        if let schema = location.schema {
            do {
                _ = try await connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \(schema)"), logger: logger)
            } catch {
                try? await connection.close()
                throw AtlassianError(.invalidInput, "cannot enter schema \(schema) of \(location)", underlying: error)
            }
        }
        return SimulatorDatabase(connection: connection, location: location, logger: logger)
    }

    /// The tables of `names` that do not exist (a truncated or wrong database).
    func missingTables(_ names: [String]) async throws -> [String] {
        var missing: [String] = []
        for name in names {
            let rows = try await connection.query("SELECT to_regclass(\(name))::text", logger: logger)
            for try await found in rows.decode(String?.self) where found == nil { missing.append(name) }
        }
        return missing
    }

    /// Runs `query` and returns its rows.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        var all: [PostgresRow] = []
        for try await row in try await connection.query(query, logger: logger) { all.append(row) }
        return all
    }

    /// Runs `query` for its effect.
    func run(_ query: PostgresQuery) async throws {
        _ = try await connection.query(query, logger: logger)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await run("BEGIN")
        do {
            let result = try await body()
            try await run("COMMIT")
            return result
        } catch {
            try? await run("ROLLBACK")
            throw error
        }
    }

    func close() async { try? await connection.close() }
}

/// A database answer the simulator cannot serve: a table or row the product needs is missing
/// (as after a truncated restore). Answered as a 500 naming what is missing.
struct BrokenDatabase: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
