import Foundation

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
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/invalidInput`` saying what is missing.
    public init(url: String) throws {
        guard let components = URLComponents(string: url),
            ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty, let user = components.user, !user.isEmpty
        else {
            throw AtlassianError(
                .invalidInput,
                "the database URL is not postgres://user:password@host:port/database; check --db or the settings file")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw AtlassianError(.invalidInput, "the database URL names no database") }
        let schema = components.queryItems?.first { $0.name == "schema" }?.value
        if let schema, !Self.isIdentifier(schema) {
            throw AtlassianError(.invalidInput, "schema '\(schema)' is not a plain identifier (letters, digits, _)")
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
