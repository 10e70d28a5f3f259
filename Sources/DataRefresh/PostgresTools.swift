import AtlassianAdmin
import Crypto
import Foundation
import NIOCore
import RelayFoundation
import S3Sync

/// `pg_dump` and `pg_restore`, the real tools, with credentials passed through the libpq
/// environment (never on a command line).
enum PostgresTools {
    /// The absolute path of `tool` on `PATH`.
    static func path(of tool: String) throws -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(directory)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw DataRefreshError("\(tool) is not installed (apt install postgresql-client)")
    }

    /// The major version of the local `pg_restore` (`15` for `pg_restore (PostgreSQL) 15.18`).
    static func localRestoreMajor() async throws -> Int {
        let output = try await ProcessRunner.run(try path(of: "pg_restore"), ["--version"], timeout: .seconds(30))
        let text = String(decoding: output.stdout, as: UTF8.self)
        // "pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the first word that starts with a digit.
        guard let version = text.split(whereSeparator: \.isWhitespace).first(where: { $0.first?.isNumber == true }),
            let major = DumpHeader.major(of: String(version))
        else { throw DataRefreshError("cannot read pg_restore's version from '\(text)'") }
        return major
    }

    /// Refuses a dump the local `pg_restore` cannot read, from its first bytes (of the archive,
    /// or of a directory dump's `toc.dat`): not a `pg_dump` archive, written by a newer `pg_dump`
    /// major, or in an archive version `pg_restore` calls unsupported (it is asked, with `--list`
    /// on those bytes).
    ///
    /// - Returns: the dump's header.
    /// - Throws: ``DataRefreshError`` of kind ``DataRefreshError/Kind/unsupportedDump``.
    static func checkRestorable(_ prefix: Data, format: DumpFormat, name: String, workDirectory: String) async throws
        -> DumpHeader
    {
        guard let header = DumpHeader.parse(prefix) else {
            throw DataRefreshError(
                "\(name) is not a pg_dump \(format)-format archive (no PGDMP header); nothing was changed. Take a new snapshot",
                kind: .unsupportedDump)
        }
        let local = try await localRestoreMajor()
        let made =
            "written by pg_dump \(header.dumpVersion ?? "?") from PostgreSQL \(header.serverVersion ?? "?") (archive format \(header.archiveVersionText))"
        let fix =
            "install \(header.dumpMajor.map { "the PostgreSQL \($0)" } ?? "a newer PostgreSQL") client (pg_restore) on this machine, or take the snapshot with a pg_dump no newer than \(local); nothing was changed"
        if let major = header.dumpMajor, major > local {
            throw DataRefreshError(
                "\(name) was \(made), newer than the local pg_restore \(local), which cannot read it: \(fix)",
                kind: .unsupportedDump)
        }
        // pg_restore reads a directory dump from its folder: the header goes into a toc.dat there.
        let scratch = "\(workDirectory)/header-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let file = format == .directory ? scratch + "/toc.dat" : scratch + "/header.dump"
        try prefix.write(to: URL(fileURLWithPath: file))
        let listed = try await ProcessRunner.run(
            try path(of: "pg_restore"), ["--list", format == .directory ? scratch : file], timeout: .seconds(60))
        if listed.errorText.contains("unsupported version") {
            throw DataRefreshError(
                "\(name) was \(made); the local pg_restore \(local) says: \(listed.errorText.prefix(200)). Fix: \(fix)",
                kind: .unsupportedDump)
        }
        return header
    }

    /// Checks that `admin` can connect to its server (as libpq would, TLS included), may create
    /// databases, and that `owner` exists and `admin` may act as it.
    ///
    /// - Throws: ``DataRefreshError`` of kind ``DataRefreshError/Kind/databaseUnreachable`` or
    ///   ``DataRefreshError/Kind/databaseRole``, saying what to fix.
    static func checkAdmin(_ admin: DatabaseLocation, owner: String?) async throws {
        let server = admin.database("postgres")
        var environment = server.libpqEnvironment
        environment["PGCONNECT_TIMEOUT"] = environment["PGCONNECT_TIMEOUT"] ?? "15"
        let output = try await ProcessRunner.run(
            try path(of: "psql"),
            [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c",
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user",
            ], environment: environment, timeout: .seconds(60))
        guard output.status == 0 else { throw connectionProblem(output.errorText, server) }
        guard String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "t"
        else {
            throw DataRefreshError(
                "the role \(admin.user) on \(admin.host) may not create databases; connect as an admin role with CREATEDB (ALTER ROLE \(admin.user) CREATEDB). Nothing was changed",
                kind: .databaseRole)
        }
        guard let owner, owner != admin.user else { return }
        let role = try await sql(
            server,
            "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(literal(owner))) THEN 'missing' "
                + "WHEN pg_has_role(current_user, \(literal(owner)), 'MEMBER') THEN 'member' ELSE 'not member' END")
        switch role {
        case "missing":
            throw DataRefreshError(
                "the owner role \(owner) does not exist on \(admin.host); create it (CREATE ROLE \(owner) LOGIN PASSWORD …) or fix the target's owner. Nothing was changed",
                kind: .databaseRole)
        case "member": return
        default:
            throw DataRefreshError(
                "the admin role \(admin.user) may not act as the owner role \(owner) on \(admin.host), so it cannot give it the restored database; GRANT \(owner) TO \(admin.user). Nothing was changed",
                kind: .databaseRole)
        }
    }

    /// The kind and advice for a failed connection's error text.
    static func connectionProblem(_ text: String, _ location: DatabaseLocation) -> DataRefreshError {
        let lower = text.lowercased()
        let tail = "Nothing was changed. (\(text.prefix(300)))"
        if lower.contains("password authentication failed")
            || lower.contains("role \"") && lower.contains("does not exist")
        {
            return DataRefreshError(
                "the database server \(location.host):\(location.port) refused the role \(location.user): check the admin role and its password. \(tail)",
                kind: .databaseRole)
        }
        if lower.contains("no encryption") || lower.contains("ssl") || lower.contains("certificate") {
            return DataRefreshError(
                "the TLS connection to \(location.host):\(location.port) failed (sslmode \(location.tlsMode)): a server that requires TLS needs sslmode=require or stricter, and verify-ca/verify-full need sslrootcert naming the server's CA (for RDS, the RDS CA bundle). \(tail)",
                kind: .databaseUnreachable)
        }
        return DataRefreshError(
            "cannot connect to the database server \(location.host):\(location.port): check the host, the port, that it is running and that this machine may reach it. \(tail)",
            kind: .databaseUnreachable)
    }

    /// The product build recorded in a product database, and its version when the database has
    /// it: Jira's `jira.version.patched` and `jira.version` (in `propertystring`), Confluence's
    /// highest `confversion.buildnumber`. Nil when the database does not exist or holds no
    /// product tables (a new environment).
    static func productBuild(_ location: DatabaseLocation, product: Product) async throws -> (
        build: Int, version: String?
    )? {
        let exists = try await sql(
            location.database("postgres"), "SELECT 1 FROM pg_database WHERE datname = \(literal(location.database))")
        guard exists == "1" else { return nil }
        switch product {
        case .jira:
            guard
                try await sql(
                    location,
                    "SELECT to_regclass('propertyentry') IS NOT NULL AND to_regclass('propertystring') IS NOT NULL")
                    == "t"
            else { return nil }
            func property(_ key: String) async throws -> String {
                try await sql(
                    location,
                    "SELECT ps.propertyvalue FROM propertyentry pe JOIN propertystring ps ON ps.id = pe.id "
                        + "WHERE pe.property_key = \(literal(key)) ORDER BY pe.id DESC LIMIT 1")
            }
            guard let build = Int(try await property("jira.version.patched")) else { return nil }
            let version = try await property("jira.version")
            return (build, version.isEmpty ? nil : version)
        case .confluence:
            guard try await sql(location, "SELECT to_regclass('confversion') IS NOT NULL") == "t" else { return nil }
            guard let build = Int(try await sql(location, "SELECT max(buildnumber) FROM confversion")) else {
                return nil
            }
            return (build, nil)
        }
    }

    /// Runs one SQL statement with `psql` and returns its unaligned output.
    @discardableResult
    static func sql(_ location: DatabaseLocation, _ statement: String) async throws -> String {
        let output = try await ProcessRunner.run(
            try path(of: "psql"), ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement],
            environment: location.libpqEnvironment, timeout: .seconds(600))
        guard output.status == 0 else {
            throw DataRefreshError("\(statement.prefix(80)) on \(location) failed: \(output.errorText.prefix(300))")
        }
        return String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A SQL string literal.
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
