import Foundation
import Logging
import PostgresNIO

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Where a product database is: a `postgres://user:password@host:port/database` URL, with an
/// optional `?schema=` to work inside one schema (`search_path`).
///
/// `description` never shows the password.
public struct DatabaseLocation: Sendable, CustomStringConvertible {
    /// The host.
    public let host: String
    /// The port.
    public let port: Int
    /// The user.
    public let user: String
    let password: String?
    /// The database.
    public let database: String
    /// The schema to use, when not the user's default.
    public let schema: String?

    /// The libpq environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`) for the
    /// PostgreSQL tools, so the password never appears on a command line.
    public var libpqEnvironment: [String: String] {
        var environment = ["PGHOST": host, "PGPORT": String(port), "PGUSER": user, "PGDATABASE": database]
        if let password { environment["PGPASSWORD"] = password }
        return environment
    }

    /// The same server and user, another database (and no schema).
    public func database(_ name: String) -> DatabaseLocation {
        DatabaseLocation(host: host, port: port, user: user, password: password, database: name, schema: nil)
    }

    /// The same database reached with `password` (resolved from a secret reference).
    public func with(password: String) -> DatabaseLocation {
        DatabaseLocation(host: host, port: port, user: user, password: password, database: database, schema: schema)
    }

    /// This location, with `PGPASSWORD` from `environment` as the password when the URL had
    /// none (libpq's convention), so a tool's `--db` URL need not carry the secret.
    public func withPassword(from environment: [String: String]) -> DatabaseLocation {
        guard password == nil, let fromEnvironment = environment["PGPASSWORD"] else { return self }
        return with(password: fromEnvironment)
    }

    init(host: String, port: Int, user: String, password: String?, database: String, schema: String?) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.schema = schema
    }

    /// Parses a `postgres://` (or `postgresql://`) URL.
    ///
    /// - Throws: ``SettingsStoreError`` saying what is missing.
    public init(url: String) throws {
        guard let components = URLComponents(string: url),
            ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty, let user = components.user, !user.isEmpty
        else {
            throw SettingsStoreError(
                "the database URL is not postgres://user:password@host:port/database; check --db or the settings file")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw SettingsStoreError("the database URL names no database") }
        let schema = components.queryItems?.first { $0.name == "schema" }?.value
        if let schema, !Self.isIdentifier(schema) {
            throw SettingsStoreError("schema '\(schema)' is not a plain identifier (letters, digits, _)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password?.removingPercentEncoding
        self.database = database
        self.schema = schema
    }

    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            && !(text.first?.isNumber ?? true)
    }

    public var description: String {
        "postgres://\(user)@\(host):\(port)/\(database)" + (schema.map { "?schema=\($0)" } ?? "")
    }
}

/// A settings-store failure, with what to do.
public struct SettingsStoreError: Error, Sendable, CustomStringConvertible {
    /// The message.
    public let description: String

    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

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
    static func open(_ location: DatabaseLocation, product: String, tables: [String], logger: Logger) async throws
        -> ProductDatabase
    {
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw SettingsStoreError(
                "cannot connect to \(location): \(String(reflecting: error).prefix(300)); check the host, port, user and password"
            )
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
                throw SettingsStoreError(
                    "\(location) is not a \(product) database: table(s) \(missing.joined(separator: ", ")) missing; "
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
    /// - Throws: ``SettingsStoreError`` when the database cannot be reached or is not a Jira
    ///   database; nothing is written then.
    public static func open(_ location: DatabaseLocation, logger: Logger = Logger(label: "atlas-relay.jira-db"))
        async throws -> JiraSettingsStore
    {
        JiraSettingsStore(
            database: try await ProductDatabase.open(
                location, product: "Jira",
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
    /// - Throws: ``SettingsStoreError`` when a key exists with another type; nothing is
    ///   written then.
    @discardableResult
    public func set(_ values: [String: Value]) async throws -> [String] {
        let current = try await properties()
        var changed: [String] = []
        for (key, value) in values.sorted(by: { $0.key < $1.key }) where current[key] != value {
            if let existing = current[key], existing.type != value.type {
                throw SettingsStoreError(
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

/// Confluence's global settings in its database: the `atlassian.confluence.settings` XML in
/// `bandana`, read and rewritten as XML.
public final class ConfluenceSettingsStore: Sendable {
    /// The settings this store changes.
    public struct Settings: Sendable, Equatable, Codable {
        /// `<siteTitle>`.
        public var siteTitle: String?
        /// `<baseUrl>`.
        public var baseURL: String?
        /// `<customHtmlSettings><afterBodyStart>`: HTML at the top of every page (the banner).
        public var bannerHTML: String?

        /// Creates settings; nil leaves a value as it is.
        public init(siteTitle: String? = nil, baseURL: String? = nil, bannerHTML: String? = nil) {
            self.siteTitle = siteTitle
            self.baseURL = baseURL
            self.bannerHTML = bannerHTML
        }
    }

    nonisolated(unsafe) static let paths: [(keyPath: WritableKeyPath<Settings, String?>, path: [String])] = [
        (\.siteTitle, ["siteTitle"]), (\.baseURL, ["baseUrl"]),
        (\.bannerHTML, ["customHtmlSettings", "afterBodyStart"]),
    ]

    let database: ProductDatabase

    private init(database: ProductDatabase) { self.database = database }

    /// Opens the store.
    ///
    /// - Throws: ``SettingsStoreError`` when the database cannot be reached or is not a
    ///   Confluence database.
    public static func open(_ location: DatabaseLocation, logger: Logger = Logger(label: "atlas-relay.confluence-db"))
        async throws -> ConfluenceSettingsStore
    {
        ConfluenceSettingsStore(
            database: try await ProductDatabase.open(
                location, product: "Confluence", tables: ["bandana", "hibernate_unique_key"], logger: logger))
    }

    /// Closes the connection.
    public func close() async { await database.close() }

    /// Whether the connection is still open (the server has not closed it).
    package var isOpen: Bool { !database.connection.isClosed }

    /// The settings as stored now.
    public func settings() async throws -> Settings {
        let document = try await Self.parse(try await xml())
        var settings = Settings()
        for entry in Self.paths {
            settings[keyPath: entry.keyPath] = Self.element(document, entry.path, create: false)?.stringValue
        }
        return settings
    }

    /// Writes the non-nil values of `wanted` in one transaction, changing only what differs;
    /// returns the names of the settings changed.
    @discardableResult
    public func set(_ wanted: Settings) async throws -> [String] {
        let original = try await xml()
        let document = try Self.parse(original)
        var changed: [String] = []
        for entry in Self.paths {
            guard let value = wanted[keyPath: entry.keyPath] else { continue }
            let element = Self.element(document, entry.path, create: true)!
            if element.stringValue != value {
                element.stringValue = value
                changed.append(entry.path.joined(separator: "/"))
            }
        }
        guard !changed.isEmpty else { return [] }
        let updated = document.rootElement()!.xmlString
        let logger = database.logger
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE bandana SET bandanavalue = \(updated)
                WHERE bandanacontext = '_GLOBAL' AND bandanakey = 'atlassian.confluence.settings'
                  AND bandanavalue = \(original)
                RETURNING bandanaid::bigint
                """, logger: logger)
            var count = 0
            for try await _ in rows.decode(Int64.self) { count += 1 }
            guard count == 1 else {
                throw SettingsStoreError(
                    "the Confluence settings changed while they were being rewritten; is Confluence running? Stop it and retry"
                )
            }
        }
        return changed
    }

    /// The raw `bandana` values of context `_GLOBAL` whose key starts with `prefix`, by key.
    func bandanaValues(prefix: String) async throws -> [String: String] {
        let rows = try await database.connection.query(
            """
            SELECT bandanakey, bandanavalue FROM bandana
            WHERE bandanacontext = '_GLOBAL' AND starts_with(bandanakey, \(prefix))
            """, logger: database.logger)
        var values: [String: String] = [:]
        for try await (key, value) in rows.decode((String, String?).self) { values[key] = value ?? "" }
        return values
    }

    /// Sets (or, for nil, removes) `_GLOBAL` `bandana` values in one transaction.
    func setBandana(_ values: [String: String?]) async throws {
        let logger = database.logger
        try await database.transaction { connection in
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                _ = try await connection.query(
                    "DELETE FROM bandana WHERE bandanacontext = '_GLOBAL' AND bandanakey = \(key)", logger: logger)
                guard let value else { continue }
                let id = try await Self.allocateId(connection, logger: logger)
                _ = try await connection.query(
                    """
                    INSERT INTO bandana (bandanaid, bandanacontext, bandanakey, bandanavalue)
                    VALUES (\(id), '_GLOBAL', \(key), \(value))
                    """, logger: logger)
            }
        }
    }

    /// A free `bandana` id, with Hibernate's hi/lo counter (`hibernate_unique_key.next_hi`, blocks
    /// of 32,768 ids) moved past it so Confluence never allocates it again.
    static func allocateId(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        var highest: Int64 = 0
        var nextHi: Int64 = 0
        for try await value in try await connection.query(
            "SELECT COALESCE(MAX(bandanaid), 0)::bigint FROM bandana", logger: logger
        ).decode(Int64.self) { highest = value }
        for try await value in try await connection.query(
            "SELECT COALESCE(MAX(next_hi), 0)::bigint FROM hibernate_unique_key", logger: logger
        ).decode(Int64.self) { nextHi = value }
        let id = max(highest + 1, nextHi * 32_768)
        _ = try await connection.query("DELETE FROM hibernate_unique_key", logger: logger)
        _ = try await connection.query(
            "INSERT INTO hibernate_unique_key (next_hi) VALUES (\(id / 32_768 + 1))", logger: logger)
        return id
    }

    func xml() async throws -> String {
        let rows = try await database.connection.query(
            """
            SELECT bandanavalue FROM bandana
            WHERE bandanacontext = '_GLOBAL' AND bandanakey = 'atlassian.confluence.settings'
            """, logger: database.logger)
        for try await value in rows.decode(String?.self) { if let value { return value } }
        throw SettingsStoreError(
            "\(database.location) has no global Confluence settings (bandana atlassian.confluence.settings); "
                + "was the restore complete?")
    }

    static func parse(_ xml: String) throws -> XMLDocument {
        do {
            let document = try XMLDocument(xmlString: xml, options: [.nodePreserveWhitespace])
            guard document.rootElement()?.name == "settings" else {
                throw SettingsStoreError("the Confluence settings XML has no <settings> root")
            }
            return document
        } catch let error as SettingsStoreError {
            throw error
        } catch {
            throw SettingsStoreError("the Confluence settings are not well-formed XML: \(error)")
        }
    }

    /// The element at `path` under the root, created (empty) when asked.
    static func element(_ document: XMLDocument, _ path: [String], create: Bool) -> XMLElement? {
        guard var current = document.rootElement() else { return nil }
        for name in path {
            if let next = current.elements(forName: name).first {
                current = next
            } else if create {
                let next = XMLElement(name: name)
                current.addChild(next)
                current = next
            } else {
                return nil
            }
        }
        return current
    }
}
