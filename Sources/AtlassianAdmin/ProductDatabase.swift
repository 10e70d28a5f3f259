import Foundation
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
    ///
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/unreachable``,
    ///   ``AtlassianError/Kind/tlsRequired``, ``AtlassianError/Kind/tlsUnavailable``,
    ///   ``AtlassianError/Kind/untrustedCertificate`` or ``AtlassianError/Kind/hostnameMismatch``
    ///   when the connection fails (see `DatabaseLocation.connect(id:logger:)`), ``AtlassianError/Kind/invalidInput``
    ///   when the database is not the product's.
    static func open(_ location: DatabaseLocation, product: Product, tables: [String], logger: Logger) async throws
        -> ProductDatabase
    {
        let connection = try await location.connect(logger: logger)
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

/// The TLS failures a connection can meet, read from postgres-nio's and NIOSSL's errors.
enum TLSFailure {
    case tlsRequired, tlsUnavailable, untrustedCertificate, hostnameMismatch

    init?(_ error: any Error) {
        var current: (any Error)? = error
        var depth = 0
        while let error = current, depth < 8 {
            if let failure = Self.classify(error) {
                self = failure
                return
            }
            current = (error as? PSQLError)?.underlying
            depth += 1
        }
        return nil
    }

    private static func classify(_ error: any Error) -> TLSFailure? {
        if let error = error as? PSQLError {
            if error.code == .sslUnsupported { return .tlsUnavailable }
            // pg_hba.conf's answer to a plain connection on a TLS-only server (hostssl, RDS's
            // rds.force_ssl): 28000 invalid_authorization_specification, "..., no encryption".
            if error.code == .server, let info = error.serverInfo, info[.sqlState] == "28000",
                let message = info[.message], message.contains("no encryption")
            {
                return .tlsRequired
            }
            return nil
        }
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            return .hostnameMismatch
        }
        if let error = error as? NIOSSLError {
            switch error {
            case .handshakeFailed(let boring) where String(describing: boring).contains("CERTIFICATE_VERIFY_FAILED"):
                return .untrustedCertificate
            case .noCertificateToValidate, .unableToValidateCertificate:
                return .untrustedCertificate
            default:
                return nil
            }
        }
        return nil
    }
}

extension DatabaseLocation {
    /// Opens a postgres-nio connection to this location with its TLS settings
    /// (``connectionConfiguration()``), mapping a failure to a typed kind with
    /// what to do. It does not enter the schema. The caller closes the connection.
    ///
    /// - Parameters:
    ///   - id: postgres-nio's connection id (for its log lines).
    ///   - logger: postgres-nio's logger.
    /// - Throws: ``AtlassianError`` of kind
    ///   - ``AtlassianError/Kind/invalidInput`` when the TLS settings are unusable (a missing
    ///     `sslrootcert` file, `verify-ca` without one);
    ///   - ``AtlassianError/Kind/tlsRequired`` when the server accepts TLS connections only and
    ///     `sslmode` is `disable`;
    ///   - ``AtlassianError/Kind/tlsUnavailable`` when `sslmode` needs TLS and the server offers none;
    ///   - ``AtlassianError/Kind/untrustedCertificate`` when the server's certificate does not
    ///     chain to `sslrootcert`;
    ///   - ``AtlassianError/Kind/hostnameMismatch`` when (`verify-full`) the certificate does not
    ///     name the host;
    ///   - ``AtlassianError/Kind/unreachable`` for any other failure (no server there, a wrong
    ///     password, …).
    package func connect(id: Int = 1, logger: Logger) async throws -> PostgresConnection
    {
        let configuration = try connectionConfiguration()
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        } catch {
            throw connectionError(error)
        }
    }

    /// The typed error, with advice, for a failure of `PostgresConnection.connect` to this location:
    /// for code that connects with ``connectionConfiguration()`` on its own.
    package func connectionError(_ error: any Error) -> AtlassianError {
        let detail = String(reflecting: error).prefix(300)
        switch TLSFailure(error) {
        case .tlsRequired:
            return AtlassianError(
                .tlsRequired,
                "\(self) accepts TLS connections only (as RDS with rds.force_ssl=1): the server refused a "
                    + "connection without encryption (sslmode=\(tlsMode)); use sslmode=require or higher "
                    + "(verify-full with sslrootcert for RDS) in the URL or PGSSLMODE",
                underlying: error)
        case .tlsUnavailable:
            return AtlassianError(
                .tlsUnavailable,
                "\(self) offers no TLS, and sslmode=\(tlsMode) needs it: enable ssl on the server, "
                    + "or (on a trusted network only) use sslmode=prefer",
                underlying: error)
        case .untrustedCertificate:
            return AtlassianError(
                .untrustedCertificate,
                "the TLS certificate of \(self) does not verify against the root certificate(s) in "
                    + "\(sslRootCertificate ?? "~/.postgresql/root.crt") (not signed by them, or expired); point sslrootcert (or PGSSLROOTCERT) "
                    + "at the CA that signed the server's certificate: for Amazon RDS the bundle "
                    + "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
                underlying: error)
        case .hostnameMismatch:
            return AtlassianError(
                .hostnameMismatch,
                "the TLS certificate of \(self) does not name the host '\(host)' (sslmode=verify-full): "
                    + "connect with a name the certificate carries (for RDS the instance's endpoint, not a CNAME or an "
                    + "IP address), or use sslmode=verify-ca to check the chain only",
                underlying: error)
        case nil:
            return AtlassianError(
                .unreachable,
                "cannot connect to \(self): \(detail); check the host, port, user and password",
                underlying: error)
        }
    }

    /// The postgres-nio configuration for this location: host, port, user, password, database
    /// and TLS as libpq would use them for ``tlsMode`` and ``sslRootCertificate``:
    ///
    /// - `disable`: no TLS.
    /// - `prefer`: TLS when the server offers it, no certificate check.
    /// - `require`: TLS or fail; no certificate check, unless a root certificate is given (or
    ///   `~/.postgresql/root.crt` exists), then as `verify-ca` (libpq's rule).
    /// - `verify-ca`: TLS, the chain checked against the root certificate, no name check.
    /// - `verify-full`: as `verify-ca`, and the certificate must name the host (the host is also
    ///   sent as SNI unless it is an IP address). NIOSSL checks the name as RFC 6125: a DNS host
    ///   against the certificate's DNS names, and the address connected to against its IP
    ///   addresses, so an IP host must be one of the certificate's IP addresses.
    ///
    /// TLS 1.2 is the minimum, as libpq's default. It does not enter ``schema``; run
    /// `SET search_path` after connecting.
    ///
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/invalidInput`` when the root
    ///   certificate file does not exist or cannot be read, or `verify-ca`/`verify-full` has no
    ///   root certificate.
    package func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try postgresTLS())
        if tlsMode == .verifyFull, !Self.isIPAddress(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) {
            configuration.options.tlsServerName = host
        }
        return configuration
    }

    /// The root certificates for verification: `sslrootcert`, else libpq's default
    /// `~/.postgresql/root.crt` when it exists; `nil` when neither.
    func trustRoots() throws -> NIOSSLTrustRoots? {
        if let path = sslRootCertificate {
            if path == "system" { return .default }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw AtlassianError(
                    .invalidInput,
                    "the root certificate file '\(path)' (sslrootcert or PGSSLROOTCERT) does not exist or cannot be read; "
                        + "for Amazon RDS download https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem")
            }
            return .file(path)
        }
        let fallback = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".postgresql/root.crt").path
        return FileManager.default.isReadableFile(atPath: fallback) ? .file(fallback) : nil
    }

    func postgresTLS() throws -> PostgresConnection.Configuration.TLS {
        guard tlsMode != .disable else { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        let roots = tlsMode == .prefer ? nil : try trustRoots()
        if tlsMode.verifiesChain(rootCertificateGiven: roots != nil) {
            guard let roots else {
                throw AtlassianError(
                    .invalidInput,
                    "sslmode=\(tlsMode) checks the server's certificate but no root certificate is given: set sslrootcert "
                        + "(or PGSSLROOTCERT) to the CA file (for Amazon RDS "
                        + "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem), or sslrootcert=system")
            }
            tls.trustRoots = roots
            tls.certificateVerification = tlsMode == .verifyFull ? .fullVerification : .noHostnameVerification
        } else {
            tls.certificateVerification = .none
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw AtlassianError(
                .invalidInput,
                "cannot use the root certificate '\(sslRootCertificate ?? "~/.postgresql/root.crt")': "
                    + "\(String(reflecting: error).prefix(200)); it must be PEM certificates",
                underlying: error)
        }
        return tlsMode == .prefer ? .prefer(context) : .require(context)
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
