import AtlasRelayTestSupport
import Foundation
import PostgresNIO
import RelayFoundation
import Testing

@testable import AtlassianAdmin

/// `sslmode` and `sslrootcert` as libpq: parsed from the URL or the environment, passed to the pg
/// tools, and used by every postgres-nio connection, against the sandbox PostgreSQL, which (as RDS
/// with `rds.force_ssl=1`) takes TLS connections only, with a certificate for DNS:localhost and
/// IP:127.0.0.1 signed by the sandbox CA (`PGSSLROOTCERT`). Each test ends within a minute
/// (the whole suite takes about two seconds).
@Suite(.timeLimit(.minutes(1)))
struct PostgresTLSTests {
    static let logger = Logger(label: "tls-test")

    /// The sandbox server's URL with the given TLS query (and nothing from the environment).
    static func url(host: String? = nil, port: Int? = nil, mode: String?, rootCertificate: String? = nil) throws
        -> String
    {
        var query: [String] = []
        if let mode { query.append("sslmode=\(mode)") }
        if let rootCertificate { query.append("sslrootcert=\(rootCertificate)") }
        let host = try host ?? Sandbox.value("PGHOST")
        let port = try port.map(String.init) ?? Sandbox.value("PGPORT")
        return "postgres://\(try Sandbox.value("PGUSER")):\(try Sandbox.value("PGPASSWORD"))@\(host):\(port)/"
            + (try Sandbox.value("PGDATABASE")) + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    static func location(
        host: String? = nil, port: Int? = nil, _ mode: DatabaseLocation.TLSMode?, rootCertificate: String? = nil
    ) throws -> DatabaseLocation {
        try DatabaseLocation(
            url: url(host: host, port: port, mode: mode?.rawValue, rootCertificate: rootCertificate), environment: [:])
    }

    static var sandboxCA: String { get throws { try Sandbox.value("PGSSLROOTCERT") } }

    /// Connects to `location` and answers whether the server sees the session as encrypted.
    static func encrypted(_ location: DatabaseLocation) async throws -> Bool {
        try await withResource {
            try await location.connect(logger: logger)
        } cleanup: { connection in
            try await connection.close()
        } body: { connection in
            let rows = try await connection.query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger)
            var ssl: Bool?
            for try await value in rows.decode(Bool.self) { ssl = value }
            return try #require(ssl as Bool?)
        }
    }

    /// The error connecting to `location`; `nil` (and an issue) when it connected.
    static func failure(_ location: DatabaseLocation) async -> AtlassianError? {
        do {
            let connection = try await location.connect(logger: logger)
            try? await connection.close()
            Issue.record("\(location) connected; a failure was expected")
            return nil
        } catch let error as AtlassianError {
            return error
        } catch {
            Issue.record("not an AtlassianError: \(String(reflecting: error))")
            return nil
        }
    }

    // MARK: - Against the sandbox PostgreSQL (TLS only)

    @Test func disableIsRefusedByTheTLSOnlyServerWithAdviceToRequireTLS() async throws {
        let error = try #require(await Self.failure(try Self.location(.disable)))
        #expect(error.kind == .tlsRequired, "\(error)")
        #expect(error.description.contains("sslmode=require"))
        #expect(!error.description.contains(try Sandbox.value("PGPASSWORD")))
    }

    @Test func theSettingsStoresUseTheLocationsTLS() async throws {
        // The stores connect through ProductDatabase: a plain connection is refused before any table is read.
        let location = try Self.location(.disable)
        await #expect { try await JiraSettingsStore.open(location) } throws: {
            ($0 as? AtlassianError)?.kind == .tlsRequired
        }
        await #expect { try await ConfluenceSettingsStore.open(location) } throws: {
            ($0 as? AtlassianError)?.kind == .tlsRequired
        }
    }

    @Test(arguments: [DatabaseLocation.TLSMode.prefer, .require])
    func preferAndRequireConnectEncryptedWithoutARootCertificate(mode: DatabaseLocation.TLSMode) async throws {
        let location = try Self.location(mode)
        #expect(location.sslRootCertificate == nil)
        #expect(try await Self.encrypted(location))
    }

    @Test func noSSLModeAnywhereIsPreferAndConnectsEncrypted() async throws {
        let location = try Self.location(nil)
        #expect(location.tlsMode == .prefer)
        #expect(try await Self.encrypted(location))
    }

    @Test func verifyCAWithTheSandboxCAConnects() async throws {
        #expect(try await Self.encrypted(try Self.location(.verifyCA, rootCertificate: try Self.sandboxCA)))
    }

    @Test(arguments: ["127.0.0.1", "localhost"])
    func verifyFullConnectsByIPAddressAndByName(host: String) async throws {
        #expect(try await Self.encrypted(try Self.location(host: host, .verifyFull, rootCertificate: try Self.sandboxCA)))
    }

    @Test(arguments: [DatabaseLocation.TLSMode.require, .verifyCA, .verifyFull])
    func anotherCAIsNotTrusted(mode: DatabaseLocation.TLSMode) async throws {
        // require with a root certificate verifies as verify-ca (libpq's rule), so it fails too.
        try await withTestCertificateAuthority { other in
            let error = try #require(await Self.failure(try Self.location(mode, rootCertificate: other.caCertificate)))
            #expect(error.kind == .untrustedCertificate, "\(error)")
            #expect(error.description.contains("https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"))
        }
    }

    @Test func preferDoesNotCheckTheCertificateEvenWithARootCertificate() async throws {
        try await withTestCertificateAuthority { other in
            let location = try Self.location(.prefer, rootCertificate: other.caCertificate)
            #expect(try await Self.encrypted(location))
        }
    }

    @Test func theSystemCAStoreDoesNotTrustTheSandboxCA() async throws {
        let error = try #require(await Self.failure(try Self.location(.verifyFull, rootCertificate: "system")))
        #expect(error.kind == .untrustedCertificate, "\(error)")
    }

    @Test func aMissingRootCertificateFileIsBadInput() async throws {
        let location = try Self.location(.verifyFull, rootCertificate: "/nonexistent/global-bundle.pem")
        let error = try #require(await Self.failure(location))
        #expect(error.kind == .invalidInput)
        #expect(error.description.contains("/nonexistent/global-bundle.pem"))
    }

    @Test func verifyWithoutAnyRootCertificateIsBadInput() async throws {
        let fallback = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".postgresql/root.crt")
        try #require(!FileManager.default.fileExists(atPath: fallback.path), "libpq's default root.crt exists here")
        let error = try #require(await Self.failure(try Self.location(.verifyCA)))
        #expect(error.kind == .invalidInput)
        #expect(error.description.contains("sslrootcert"))
    }

    // MARK: - Against a stand-in server (what the sandbox cannot show)

    @Test(arguments: ["127.0.0.1", "localhost"])
    func verifyFullFailsWhenTheCertificateDoesNotNameTheHost(host: String) async throws {
        try await withTestCertificateAuthority(serverNames: ["DNS:db.elsewhere.example", "IP:10.1.2.3"]) { authority in
            try await withFakeTLSServer(.tls, certificate: authority.serverCertificate, key: authority.serverKey) { server in
                let full = try Self.location(
                    host: host, port: server.port, .verifyFull, rootCertificate: authority.caCertificate)
                let error = try #require(await Self.failure(full))
                #expect(error.kind == .hostnameMismatch, "\(error)")
                #expect(error.description.contains("verify-ca"))
                // verify-ca trusts the same chain and checks no name: the handshake succeeds, and
                // the stand-in (not a PostgreSQL) then closes the connection.
                let chainOnly = try Self.location(
                    host: host, port: server.port, .verifyCA, rootCertificate: authority.caCertificate)
                let closed = try #require(await Self.failure(chainOnly))
                #expect(closed.kind == .unreachable, "\(closed)")
            }
        }
    }

    @Test(arguments: [DatabaseLocation.TLSMode.require, .verifyCA, .verifyFull])
    func aServerWithoutTLSFailsWhenTheModeNeedsIt(mode: DatabaseLocation.TLSMode) async throws {
        try await withTestCertificateAuthority { authority in
            try await withFakeTLSServer(.noTLS) { server in
                let location = try Self.location(port: server.port, mode, rootCertificate: authority.caCertificate)
                let error = try #require(await Self.failure(location))
                #expect(error.kind == .tlsUnavailable, "\(error)")
            }
        }
    }

    // MARK: - The pg tools, with libpqEnvironment

    static func psql(_ location: DatabaseLocation) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run(
            "/usr/bin/psql", ["-X", "-A", "-t", "-c", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"],
            environment: location.libpqEnvironment, timeout: .seconds(60))
    }

    @Test func psqlWithTheLibpqEnvironmentOfAVerifyFullLocationConnects() async throws {
        let location = try Self.location(host: "localhost", .verifyFull, rootCertificate: try Self.sandboxCA)
        let output = try await Self.psql(location)
        #expect(output.status == 0, "\(output.errorText)")
        #expect(String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "t")
    }

    @Test func psqlHonoursTheModeAndRootCertificateOfTheLibpqEnvironment() async throws {
        // A CA that did not sign the server's certificate: psql must refuse, as the stores do.
        try await withTestCertificateAuthority { other in
            let output = try await Self.psql(try Self.location(.verifyFull, rootCertificate: other.caCertificate))
            #expect(output.status != 0)
            #expect(output.errorText.contains("certificate verify failed"), "\(output.errorText)")
        }
        let plain = try await Self.psql(try Self.location(.disable))
        #expect(plain.status != 0)
        #expect(plain.errorText.contains("no encryption"), "\(plain.errorText)")
    }

    // MARK: - Parsing

    @Test func theURLWinsOverTheEnvironmentParameterByParameter() throws {
        let environment = ["PGSSLMODE": "verify-ca", "PGSSLROOTCERT": "/env/ca.pem"]
        let both = try DatabaseLocation(
            url: "postgres://u@h/db?sslmode=require&sslrootcert=/url/ca.pem", environment: environment)
        #expect(both.tlsMode == .require)
        #expect(both.sslRootCertificate == "/url/ca.pem")
        let modeOnly = try DatabaseLocation(url: "postgres://u@h/db?sslmode=verify-full", environment: environment)
        #expect(modeOnly.tlsMode == .verifyFull)
        #expect(modeOnly.sslRootCertificate == "/env/ca.pem")
        let none = try DatabaseLocation(url: "postgres://u@h/db?schema=jira", environment: environment)
        #expect(none.tlsMode == .verifyCA)
        #expect(none.sslRootCertificate == "/env/ca.pem")
        #expect(none.schema == "jira")
        let nothing = try DatabaseLocation(url: "postgres://u@h/db", environment: [:])
        #expect(nothing.tlsMode == .prefer)
        #expect(nothing.sslRootCertificate == nil)
        for mode in DatabaseLocation.TLSMode.allCases {
            #expect(try DatabaseLocation(url: "postgres://u@h/db?sslmode=\(mode.rawValue)", environment: [:]).tlsMode == mode)
        }
    }

    @Test(arguments: [
        ("postgres://u@h/db?sslmode=verify_full", [String: String]()), ("postgres://u@h/db?sslmode=allow", [:]),
        ("postgres://u@h/db?sslmode=", [:]), ("postgres://u@h/db", ["PGSSLMODE": "REQUIRE"]),
    ])
    func anUnknownSSLModeIsBadInputNamingTheAllowedValues(url: String, environment: [String: String]) throws {
        let error = try #require(throws: AtlassianError.self) { try DatabaseLocation(url: url, environment: environment) }
        #expect(error.kind == .invalidInput)
        #expect(error.description.contains("disable, prefer, require, verify-ca, verify-full"), "\(error)")
        #expect(error.description.contains(environment.isEmpty ? "sslmode" : "PGSSLMODE"))
    }

    @Test func theSystemCAStoreNeedsVerifyFull() throws {
        for mode in ["prefer", "require", "verify-ca"] {
            let error = try #require(throws: AtlassianError.self) {
                try DatabaseLocation(url: "postgres://u@h/db?sslmode=\(mode)&sslrootcert=system", environment: [:])
            }
            #expect(error.kind == .invalidInput)
        }
        #expect(try DatabaseLocation(url: "postgres://u@h/db?sslrootcert=system", environment: ["PGSSLMODE": "verify-full"])
            .sslRootCertificate == "system")
    }

    @Test func libpqEnvironmentCarriesTheTLSSettings() throws {
        let location = try DatabaseLocation(
            url: "postgres://u:secret@h:6543/db?sslmode=verify-full&sslrootcert=/etc/rds/global-bundle.pem",
            environment: [:])
        #expect(
            location.libpqEnvironment == [
                "PGHOST": "h", "PGPORT": "6543", "PGUSER": "u", "PGDATABASE": "db", "PGPASSWORD": "secret",
                "PGSSLMODE": "verify-full", "PGSSLROOTCERT": "/etc/rds/global-bundle.pem",
            ])
        let plain = try DatabaseLocation(url: "postgres://u@h/db", environment: [:])
        #expect(plain.libpqEnvironment["PGSSLMODE"] == "prefer")
        #expect(plain.libpqEnvironment["PGSSLROOTCERT"] == nil)
    }

    @Test func derivedLocationsKeepTheTLSSettings() throws {
        let location = try DatabaseLocation(
            url: "postgres://u@h/db?schema=s&sslmode=verify-ca&sslrootcert=/ca.pem", environment: [:])
        for derived in [
            location.database("other"), location.with(password: "pw"), location.withPassword(from: ["PGPASSWORD": "pw"]),
        ] {
            #expect(derived.tlsMode == .verifyCA)
            #expect(derived.sslRootCertificate == "/ca.pem")
        }
    }

    @Test func descriptionShowsANonDefaultSSLModeAndNeverThePassword() throws {
        let strict = try DatabaseLocation(
            url: "postgres://u:secret@h:5433/db?schema=s&sslmode=verify-full&sslrootcert=/ca.pem", environment: [:])
        #expect(strict.description == "postgres://u@h:5433/db?schema=s&sslmode=verify-full")
        #expect(try DatabaseLocation(url: "postgres://u:secret@h/db", environment: [:]).description == "postgres://u@h:5432/db")
    }

    @Test func verifyFullSendsTheHostNameButNotAnIPAddress() throws {
        let byName = try DatabaseLocation(
            url: "postgres://u@db.example.com/db?sslmode=verify-full&sslrootcert=system", environment: [:])
        #expect(try byName.connectionConfiguration().options.tlsServerName == "db.example.com")
        let byAddress = try DatabaseLocation(
            url: "postgres://u@10.0.0.5/db?sslmode=verify-full&sslrootcert=system", environment: [:])
        #expect(try byAddress.connectionConfiguration().options.tlsServerName == nil)
        #expect(try byAddress.connectionConfiguration().tls.isEnforced)
        #expect(try DatabaseLocation(url: "postgres://u@h/db?sslmode=prefer", environment: [:]).connectionConfiguration().tls.isEnforced == false)
        #expect(try DatabaseLocation(url: "postgres://u@h/db?sslmode=disable", environment: [:]).connectionConfiguration().tls.isAllowed == false)
    }
}
