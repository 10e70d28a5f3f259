import Logging
import PostgresNIO

/// Jira's application properties in its database (`propertyentry` with `propertystring`,
/// `propertynumber` or `propertytext`), for when Jira is down: after a restore, before the
/// first start.
public final class JiraSettingsStore: Sendable {
    /// A property's value, in the table its type keeps it in.
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        /// `propertystring` (type 5).
        case string(String)
        /// `propertynumber` (type 1: numbers and booleans).
        case number(Int64)
        /// `propertytext` (type 6: long text).
        case text(String)

        var type: Int {
            switch self {
            case .number: 1
            case .string: 5
            case .text: 6
            }
        }

        public var description: String {
            switch self {
            case .string(let text), .text(let text): text
            case .number(let number): String(number)
            }
        }
    }

    let database: ProductDatabase

    private init(database: ProductDatabase) { self.database = database }

    /// Opens the store.
    ///
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/unreachable`` when the database
    ///   cannot be reached, ``AtlassianError/Kind/invalidInput`` when it is not a Jira database;
    ///   nothing is written then.
    public static func open(_ location: DatabaseLocation, logger: Logger = Logger(label: "atlas-relay.jira-db"))
        async throws -> JiraSettingsStore
    {
        JiraSettingsStore(
            database: try await ProductDatabase.open(
                location, product: .jira,
                tables: ["propertyentry", "propertystring", "propertynumber", "propertytext", "sequence_value_item"],
                logger: logger))
    }

    /// Closes the connection.
    public func close() async { await database.close() }

    /// Whether the connection is still open (the server has not closed it).
    package var isOpen: Bool { !database.connection.isClosed }

    /// Every Jira application property (`entity_name = 'jira.properties'`), by key.
    public func properties() async throws -> [String: Value] {
        let rows = try await database.connection.query(
            """
            SELECT e.property_key, e.propertytype::int, s.propertyvalue, n.propertyvalue::bigint, t.propertyvalue
            FROM propertyentry e
            LEFT JOIN propertystring s ON s.id = e.id
            LEFT JOIN propertynumber n ON n.id = e.id
            LEFT JOIN propertytext t ON t.id = e.id
            WHERE e.entity_name = 'jira.properties' AND e.entity_id = 1
            """, logger: database.logger)
        var result: [String: Value] = [:]
        for try await (key, type, string, number, text) in rows.decode((String, Int, String?, Int64?, String?).self) {
            switch type {
            case 1: result[key] = .number(number ?? 0)
            case 6: result[key] = .text(text ?? "")
            default: result[key] = .string(string ?? "")
            }
        }
        return result
    }

    /// Sets `values` in one transaction, changing only what differs; returns the keys changed.
    ///
    /// A new key gets an id above both the table's and Jira's id sequence, and the sequence is
    /// moved past it, so Jira never hands out that id again.
    ///
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/conflict`` when a key exists with
    ///   another type; nothing is written then.
    @discardableResult
    public func set(_ values: [String: Value]) async throws -> [String] {
        let current = try await properties()
        var changed: [String] = []
        for (key, value) in values.sorted(by: { $0.key < $1.key }) where current[key] != value {
            if let existing = current[key], existing.type != value.type {
                throw AtlassianError(
                    .conflict,
                    "Jira property \(key) is stored as type \(existing.type), not \(value.type); nothing was written")
            }
            changed.append(key)
        }
        guard !changed.isEmpty else { return [] }
        let wanted = values.filter { changed.contains($0.key) }
        try await database.transaction { connection in
            try await Self.write(wanted, connection: connection, logger: database.logger)
        }
        return changed
    }

    /// Writes `values` (insert or update) inside the caller's transaction.
    static func write(_ values: [String: Value], connection: PostgresConnection, logger: Logger) async throws {
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            var id: Int64?
            let rows = try await connection.query(
                """
                SELECT id::bigint FROM propertyentry
                WHERE entity_name = 'jira.properties' AND entity_id = 1 AND property_key = \(key)
                """, logger: logger)
            for try await found in rows.decode(Int64.self) { id = found }
            if id == nil {
                id = try await allocateId(connection, logger: logger)
                _ = try await connection.query(
                    """
                    INSERT INTO propertyentry (id, entity_name, entity_id, property_key, propertytype)
                    VALUES (\(id!), 'jira.properties', 1, \(key), \(value.type))
                    """, logger: logger)
            }
            let entry = id!
            switch value {
            case .string(let text):
                _ = try await connection.query(
                    """
                    INSERT INTO propertystring (id, propertyvalue) VALUES (\(entry), \(text))
                    ON CONFLICT (id) DO UPDATE SET propertyvalue = EXCLUDED.propertyvalue
                    """, logger: logger)
            case .text(let text):
                _ = try await connection.query(
                    """
                    INSERT INTO propertytext (id, propertyvalue) VALUES (\(entry), \(text))
                    ON CONFLICT (id) DO UPDATE SET propertyvalue = EXCLUDED.propertyvalue
                    """, logger: logger)
            case .number(let number):
                _ = try await connection.query(
                    """
                    INSERT INTO propertynumber (id, propertyvalue) VALUES (\(entry), \(number))
                    ON CONFLICT (id) DO UPDATE SET propertyvalue = EXCLUDED.propertyvalue
                    """, logger: logger)
            }
        }
    }

    /// Removes the properties `keys` (entries and values) inside the caller's transaction.
    static func remove(_ keys: [String], connection: PostgresConnection, logger: Logger) async throws {
        for key in keys {
            let rows = try await connection.query(
                """
                DELETE FROM propertyentry
                WHERE entity_name = 'jira.properties' AND entity_id = 1 AND property_key = \(key)
                RETURNING id::bigint
                """, logger: logger)
            var ids: [Int64] = []
            for try await id in rows.decode(Int64.self) { ids.append(id) }
            for id in ids {
                for table in ["propertystring", "propertynumber", "propertytext"] {
                    _ = try await connection.query(
                        PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE id = \(id)"), logger: logger)
                }
            }
        }
    }

    /// The next free property id, with Jira's `OSPropertyEntry` sequence moved past it.
    static func allocateId(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        var highest: Int64 = 0
        var sequence: Int64 = 0
        for try await value in try await connection.query(
            "SELECT COALESCE(MAX(id), 0)::bigint FROM propertyentry", logger: logger
        ).decode(Int64.self) { highest = value }
        for try await value in try await connection.query(
            "SELECT seq_id::bigint FROM sequence_value_item WHERE seq_name = 'OSPropertyEntry' FOR UPDATE",
            logger: logger
        ).decode(Int64.self) { sequence = value }
        let id = max(highest + 1, sequence)
        _ = try await connection.query(
            """
            INSERT INTO sequence_value_item (seq_name, seq_id) VALUES ('OSPropertyEntry', \(id + 100))
            ON CONFLICT (seq_name) DO UPDATE SET seq_id = EXCLUDED.seq_id
            """, logger: logger)
        return id
    }
}
