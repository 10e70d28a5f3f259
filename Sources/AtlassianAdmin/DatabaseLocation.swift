import Foundation

/// Where a product database is: a `postgres://user:password@host:port/database` URL, with an
/// optional `?schema=` to work inside one schema (`search_path`), and libpq's TLS parameters.
///
/// ## TLS, as libpq
///
/// `sslmode` and `sslrootcert` come from the URL's query (`?sslmode=verify-full&sslrootcert=/path/ca.pem`)
/// or, for each one the URL does not give, from `PGSSLMODE` / `PGSSLROOTCERT` in the environment,
/// with libpq's meaning (see ``TLSMode``):
///
/// | `sslmode`     | encrypted                    | certificate chain checked | server name checked |
/// |---------------|------------------------------|---------------------------|---------------------|
/// | `disable`     | never                        | no                        | no                  |
/// | `prefer`      | when the server offers it (the default) | no             | no                  |
/// | `require`     | always                       | only when `sslrootcert` is given (then as `verify-ca`) | no |
/// | `verify-ca`   | always                       | yes, against `sslrootcert` | no                 |
/// | `verify-full` | always                       | yes, against `sslrootcert` | yes                |
///
/// For Amazon RDS, download the CA bundle
/// (<https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem>) and use
/// `?sslmode=verify-full&sslrootcert=/path/global-bundle.pem`. `sslrootcert=system` trusts the
/// system's CA store, with `verify-full` only (libpq 16's rule; the pg tools need libpq 16 or
/// later to understand it). Without `sslrootcert`, `~/.postgresql/root.crt` is used when it
/// exists, as libpq does.
///
/// The same settings reach the PostgreSQL tools through ``libpqEnvironment``, so `pg_dump`,
/// `pg_restore` and `psql` connect exactly as the stores do.
///
/// ```swift
/// let location = try DatabaseLocation(
///     url: "postgres://jira@db.example.com/jira?sslmode=verify-full&sslrootcert=/etc/rds/global-bundle.pem")
/// ```
///
/// `description` never shows the password.
public struct DatabaseLocation: Sendable, CustomStringConvertible {
    /// How a connection uses TLS: libpq's `sslmode` values (`allow` is not supported).
    public enum TLSMode: String, Sendable, CaseIterable, CustomStringConvertible {
        /// No TLS: a server that requires it (RDS with `rds.force_ssl=1`, `hostssl` in
        /// `pg_hba.conf`) refuses the connection.
        case disable
        /// TLS when the server offers it, plain otherwise; the certificate is not checked. The
        /// default, as libpq's.
        case prefer
        /// TLS or no connection; the certificate is not checked unless ``DatabaseLocation/sslRootCertificate``
        /// is given, in which case it is checked as ``verifyCA`` (libpq's rule).
        case require
        /// TLS, with the server's certificate chain checked against
        /// ``DatabaseLocation/sslRootCertificate``; the server's name is not checked.
        case verifyCA = "verify-ca"
        /// TLS, with the chain checked against ``DatabaseLocation/sslRootCertificate`` and the
        /// server's name checked against the certificate: a DNS host against its DNS names, an
        /// IP host against its IP addresses.
        case verifyFull = "verify-full"

        /// The libpq spelling (`verify-full`, …).
        public var description: String { rawValue }

        /// Whether the server's certificate chain is checked with this mode and a root certificate.
        func verifiesChain(rootCertificateGiven: Bool) -> Bool {
            switch self {
            case .disable, .prefer: false
            case .require: rootCertificateGiven
            case .verifyCA, .verifyFull: true
            }
        }
    }

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
    /// How connections use TLS (`sslmode`); ``TLSMode/prefer`` when neither the URL nor
    /// `PGSSLMODE` says.
    public let tlsMode: TLSMode
    /// The file of CA certificates (PEM) that the server's certificate must chain to
    /// (`sslrootcert`), or `system` for the system's CA store; `nil` when neither the URL nor
    /// `PGSSLROOTCERT` names one.
    public let sslRootCertificate: String?

    /// The libpq environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`,
    /// `PGSSLMODE` and, when set, `PGSSLROOTCERT`) for the PostgreSQL tools, so the password
    /// never appears on a command line and the tools use TLS as the settings stores do.
    public var libpqEnvironment: [String: String] {
        var environment = [
            "PGHOST": host, "PGPORT": String(port), "PGUSER": user, "PGDATABASE": database,
            "PGSSLMODE": tlsMode.rawValue,
        ]
        if let password { environment["PGPASSWORD"] = password }
        if let sslRootCertificate { environment["PGSSLROOTCERT"] = sslRootCertificate }
        return environment
    }

    /// The same server, user and TLS settings, another database (and no schema).
    public func database(_ name: String) -> DatabaseLocation {
        DatabaseLocation(
            host: host, port: port, user: user, password: password, database: name, schema: nil, tlsMode: tlsMode,
            sslRootCertificate: sslRootCertificate)
    }

    /// The same database reached with `password` (resolved from a secret reference).
    public func with(password: String) -> DatabaseLocation {
        DatabaseLocation(
            host: host, port: port, user: user, password: password, database: database, schema: schema,
            tlsMode: tlsMode, sslRootCertificate: sslRootCertificate)
    }

    /// This location, with `PGPASSWORD` from `environment` as the password when the URL had
    /// none (libpq's convention), so a tool's `--db` URL need not carry the secret.
    public func withPassword(from environment: [String: String]) -> DatabaseLocation {
        guard password == nil, let fromEnvironment = environment["PGPASSWORD"] else { return self }
        return with(password: fromEnvironment)
    }

    init(
        host: String, port: Int, user: String, password: String?, database: String, schema: String?,
        tlsMode: TLSMode = .prefer, sslRootCertificate: String? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.schema = schema
        self.tlsMode = tlsMode
        self.sslRootCertificate = sslRootCertificate
    }

    /// Parses a `postgres://` (or `postgresql://`) URL.
    ///
    /// - Parameters:
    ///   - url: `postgres://user[:password]@host[:port]/database`, optionally with the query
    ///     parameters `schema`, `sslmode` (`disable`, `prefer`, `require`, `verify-ca`,
    ///     `verify-full`) and `sslrootcert` (a PEM file, or `system`).
    ///   - environment: where `PGSSLMODE` and `PGSSLROOTCERT` are read for a parameter the URL
    ///     does not give (the URL wins, parameter by parameter, as in libpq); the process's
    ///     environment by default.
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/invalidInput`` saying what is
    ///   missing or wrong (an unknown `sslmode` names the allowed values).
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
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
        func query(_ name: String) -> String? { components.queryItems?.first { $0.name == name }?.value }
        let schema = query("schema")
        if let schema, !Self.isIdentifier(schema) {
            throw AtlassianError(.invalidInput, "schema '\(schema)' is not a plain identifier (letters, digits, _)")
        }
        let mode: TLSMode
        if let text = query("sslmode") {
            mode = try Self.tlsMode(text, source: "sslmode in the database URL")
        } else if let text = environment["PGSSLMODE"], !text.isEmpty {
            mode = try Self.tlsMode(text, source: "PGSSLMODE")
        } else {
            mode = .prefer
        }
        let rootCertificate: String?
        if let text = query("sslrootcert") {
            guard !text.isEmpty else {
                throw AtlassianError(.invalidInput, "sslrootcert in the database URL is empty; give the CA file's path")
            }
            rootCertificate = text
        } else if let text = environment["PGSSLROOTCERT"], !text.isEmpty {
            rootCertificate = text
        } else {
            rootCertificate = nil
        }
        if rootCertificate == "system", mode != .verifyFull {
            // libpq 16's rule: the system's CA store vouches for any name, so only with the name checked.
            throw AtlassianError(
                .invalidInput, "sslrootcert=system needs sslmode=verify-full (libpq's rule), not \(mode.rawValue)")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password?.removingPercentEncoding
        self.database = database
        self.schema = schema
        self.tlsMode = mode
        self.sslRootCertificate = rootCertificate
    }

    static func tlsMode(_ text: String, source: String) throws -> TLSMode {
        guard let mode = TLSMode(rawValue: text) else {
            throw AtlassianError(
                .invalidInput,
                "\(source) is '\(text)'; use one of "
                    + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return mode
    }

    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            && !(text.first?.isNumber ?? true)
    }

    /// `postgres://user@host:port/database`, with `schema` and, when not the default `prefer`,
    /// `sslmode`; never the password.
    public var description: String {
        var query: [String] = []
        if let schema { query.append("schema=\(schema)") }
        if tlsMode != .prefer { query.append("sslmode=\(tlsMode.rawValue)") }
        return "postgres://\(user)@\(host):\(port)/\(database)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }
}
