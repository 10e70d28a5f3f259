import Logging
import NIOSSL
import PostgresNIO

/// An open connection to a product database, with the checks and transactions the stores share.
final class ProductDatabase: Sendable {
    let connection: PostgresConnection
    let location: DatabaseLocation
    let logger: Logger

    private init(connection: PostgresConnection, location: DatabaseLocation, logger: Logger) {
        self.connection = connection
        self.location = location
        self.logger = logger
    }

    /// Connects, enters the schema, and checks that `tables` exist.
    static func open(_ location: DatabaseLocation, product: Product, tables: [String], logger: Logger) async throws
        -> ProductDatabase
    {
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw AtlassianError(
                .unreachable,
                "cannot connect to \(location): \(String(reflecting: error).prefix(300)); check the host, port, user and password",
                underlying: error)
        }
        let database = ProductDatabase(connection: connection, location: location, logger: logger)
        do {
            if let schema = location.schema {
                _ = try await connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \(schema)"), logger: logger)
            }
            var missing: [String] = []
            for table in tables {
                let rows = try await connection.query("SELECT to_regclass(\(table))::text", logger: logger)
                for try await found in rows.decode(String?.self) where found == nil { missing.append(table) }
            }
            guard missing.isEmpty else {
                throw AtlassianError(
                    .invalidInput,
                    "\(location) is not a \(product.displayName) database: table(s) \(missing.joined(separator: ", ")) missing; "
                        + "check the database name (and schema)")
            }
        } catch {
            try? await connection.close()
            throw error
        }
        return database
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        _ = try await connection.query("BEGIN", logger: logger)
        do {
            let result = try await body(connection)
            _ = try await connection.query("COMMIT", logger: logger)
            return result
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    func close() async { try? await connection.close() }
}
