import AWSCore
import Foundation
import RelayFoundation

/// The local services started by `scripts/services.sh` (SeaweedFS, moto, PostgreSQL), as tests see them.
///
/// Values come from the process environment, falling back to `.sandbox/env` in the repository,
/// so `swift test` works both under `make test` and on its own after `scripts/services.sh start`.
public enum Sandbox {
    /// The environment: process variables over those in `.sandbox/env`.
    public static let environment: [String: String] = {
        var values = envFile()
        for (key, value) in ProcessInfo.processInfo.environment { values[key] = value }
        return values
    }()

    /// The repository root (the folder holding `Package.swift`).
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    static func envFile() -> [String: String] {
        let path = repositoryRoot.appendingPathComponent(".sandbox/env").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            var line = line.trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("export ") else { continue }
            line.removeFirst("export ".count)
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") {
                value = String(value.dropFirst().dropLast())
            }
            values[String(line[..<equals])] = value
        }
        return values
    }

    /// A required variable.
    ///
    /// - Throws: ``TestSupportError`` telling how to start the services when it is missing.
    public static func value(_ name: String) throws -> String {
        guard let value = environment[name], !value.isEmpty else {
            throw TestSupportError(
                "\(name) is not set: the local services are not running. Run `make test`, or "
                    + "`scripts/services.sh start` and then `swift test`.")
        }
        return value
    }

    /// The moto server URL (`ATLAS_RELAY_MOTO_ENDPOINT`).
    public static func motoEndpoint() throws -> String { try value("ATLAS_RELAY_MOTO_ENDPOINT") }

    /// The SeaweedFS S3 URL (`ATLAS_RELAY_S3_ENDPOINT`).
    public static func s3Endpoint() throws -> String { try value("ATLAS_RELAY_S3_ENDPOINT") }

    /// Credentials moto maps to its default account, 123456789012.
    public static let motoCredentials = StaticCredentialProvider(
        Credentials(accessKeyId: "AKIDMOTOBASE0000", secretAccessKey: "moto-secret"))

    /// A client for moto's server (every service), with ``motoCredentials`` unless given others;
    /// `endpoint` overrides the URL (moto's CloudFormation reads template URLs at `localhost` only).
    public static func motoAWSClient(
        credentials: any CredentialProvider = motoCredentials, endpoint: String? = nil
    ) throws -> AWSClient {
        AWSClient(
            region: "us-east-1", credentialProvider: credentials,
            endpoints: EndpointResolver(explicitEndpoint: try endpoint ?? motoEndpoint()))
    }

    /// Creates a bucket named `prefix-<random>` (one per test: each SeaweedFS bucket is a
    /// collection of its own) and returns its name. The first call in a process first deletes the
    /// SeaweedFS buckets such calls made over an hour ago (``sweepBuckets(_:prefix:createdBefore:)``).
    public static func makeBucket(_ aws: AWSClient, prefix: String) async throws -> String {
        await sweep.value
        let name = "\(prefix)-\(UUID().uuidString.lowercased().prefix(12))"
        _ = try await aws.execute(
            AWSRequest(service: .s3, operation: "CreateBucket", method: .PUT, path: "/", bucket: name))
        return name
    }

    /// Buckets left behind (by a run that was killed, a cancelled cleanup, or a caller of
    /// ``makeBucket(_:prefix:)`` that does not delete its bucket; ``withSandboxBucket(isolation:_:prefix:body:)``
    /// does); hundreds of them keep SeaweedFS busy while idle, which skews benchmarks. Swept
    /// once per process.
    static let sweep = Task<Void, Never> {
        guard let aws = try? s3AWSClient() else { return }
        _ = try? await sweepBuckets(aws, createdBefore: Date(timeIntervalSinceNow: -3600))
    }

    /// Deletes, with their objects, the buckets named like ``makeBucket(_:prefix:)``'s
    /// (`prefix-` and twelve characters of a UUID; any prefix when `nil`) that were created before `date`; returns
    /// their names. SeaweedFS deletes a bucket with its objects (S3 would refuse a non-empty one).
    @discardableResult
    public static func sweepBuckets(_ aws: AWSClient, prefix: String? = nil, createdBefore date: Date) async throws
        -> [String]
    {
        let listing = try XMLNode.parse(
            try await aws.execute(AWSRequest(service: .s3, operation: "ListBuckets", path: "/")).data)
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let whole = ISO8601DateFormatter()
        var swept: [String] = []
        for bucket in listing.descendant("Buckets")?.children("Bucket") ?? [] {
            guard let name = bucket.string("Name"), prefix.map({ name.hasPrefix($0 + "-") }) ?? true,
                name.wholeMatch(of: /[a-z0-9-]+-[0-9a-f]{8}-[0-9a-f]{3}/) != nil,
                let text = bucket.string("CreationDate"),
                let created = fractional.date(from: text) ?? whole.date(from: text), created < date
            else { continue }
            _ = try await aws.execute(
                AWSRequest(service: .s3, operation: "DeleteBucket", method: .DELETE, path: "/", bucket: name))
            swept.append(name)
        }
        return swept
    }

    /// The sandbox PostgreSQL as a `postgres://` URL (of `database`, default `PGDATABASE`), inside
    /// `schema` when given. The server takes TLS only; the URL asks for `sslmode=verify-full` with
    /// the sandbox's CA (`PGSSLROOTCERT`) when the environment names one, so every test connection
    /// checks the server's certificate as an RDS client with the RDS CA bundle would.
    public static func postgresURL(schema: String? = nil, database: String? = nil) throws -> String {
        var query: [String] = []
        if let schema { query.append("schema=\(schema)") }
        if let rootCertificate = environment["PGSSLROOTCERT"], !rootCertificate.isEmpty {
            query += ["sslmode=\(environment["PGSSLMODE"] ?? "verify-full")", "sslrootcert=\(rootCertificate)"]
        }
        return "postgres://\(try value("PGUSER")):\(try value("PGPASSWORD"))@\(try value("PGHOST")):\(try value("PGPORT"))/"
            + (try database ?? value("PGDATABASE")) + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// A real product database, as `scripts/product-db.sh` makes it: the dump of a real Jira 8 or
    /// Confluence 6 installation (`../shared/reference/atlassian/real-db/`) with PROD's own
    /// settings and integrations written in (`scripts/sql/prod-*.sql`).
    public enum ProductDump: String, Sendable {
        /// Jira 8 (project `TEST`, issues `TEST-1`…, base URL `https://jira.example.com`).
        case jira
        /// Confluence 6 (space `TEST`, pages 360451 and 360467, base URL `https://confluence.example.com`).
        case confluence
    }

    /// Creates a fresh database holding a copy of the real `product` database (a copy of a
    /// template, a fraction of a second) and returns its `postgres://` URL.
    ///
    /// - Throws: ``TestSupportError`` with the script's output when it fails.
    public static func makeProductDatabase(_ product: ProductDump, prefix: String) async throws -> String {
        let name = "\(prefix)_\(product.rawValue)_\(UUID().uuidString.lowercased().prefix(8))"
        let output = try await ProcessRunner.run(
            "/bin/bash",
            [repositoryRoot.appendingPathComponent("scripts/product-db.sh").path, "create", name, product.rawValue],
            environment: ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGSSLMODE", "PGSSLROOTCERT"].reduce(into: [:]) {
                $0[$1] = environment[$1]
            },
            timeout: .seconds(300))
        guard output.status == 0 else { throw TestSupportError("scripts/product-db.sh failed: \(output.errorText)") }
        return try postgresURL(database: name)
    }

    /// Creates a fresh schema in the sandbox PostgreSQL and runs the SQL `scripts` (paths
    /// relative to the repository) inside it with psql; returns the schema's name.
    public static func makeSchema(prefix: String, scripts: [String]) async throws -> String {
        let schema = "\(prefix)_\(UUID().uuidString.lowercased().prefix(8))"
        var arguments = [
            "-X", "-q", "-v", "ON_ERROR_STOP=1",
            try postgresURL(),  // libpq takes postgres:// as well as postgresql://
            "-c", "CREATE SCHEMA \(schema)",
        ]
        if !scripts.isEmpty {
            arguments += ["-c", "SET search_path TO \(schema)"]
            arguments += scripts.flatMap { ["-f", repositoryRoot.appendingPathComponent($0).path] }
        }
        let output = try await ProcessRunner.run("/usr/bin/psql", arguments, timeout: .seconds(60))
        guard output.status == 0 else { throw TestSupportError("psql failed: \(output.errorText)") }
        return schema
    }

    /// Creates a fresh database in the sandbox PostgreSQL, runs the SQL `scripts` in it, and
    /// returns its `postgres://` URL.
    public static func makeDatabase(prefix: String, scripts: [String]) async throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.lowercased().prefix(8))"
        var output = try await ProcessRunner.run(
            "/usr/bin/psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", try postgresURL(), "-c", "CREATE DATABASE \(name)"],
            timeout: .seconds(60))
        guard output.status == 0 else { throw TestSupportError("psql failed: \(output.errorText)") }
        let url = try postgresURL(database: name)
        if !scripts.isEmpty {
            output = try await ProcessRunner.run(
                "/usr/bin/psql",
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", url]
                    + scripts.flatMap { ["-f", repositoryRoot.appendingPathComponent($0).path] }, timeout: .seconds(60))
            guard output.status == 0 else { throw TestSupportError("psql failed: \(output.errorText)") }
        }
        return url
    }

    /// Drops database `name` from the sandbox PostgreSQL, with the `_previous` and `_restore`
    /// copies a refresh leaves beside it; what does not exist is skipped.
    public static func dropDatabase(_ name: String) async {
        for database in [name, name + "_previous", name + "_restore"] {
            _ = try? await ProcessRunner.run(
                "/usr/bin/psql",
                ["-X", "-q", try postgresURL(), "-c", "DROP DATABASE IF EXISTS \(database) WITH (FORCE)"],
                timeout: .seconds(60))
        }
    }

    /// A client for SeaweedFS as the admin identity, or the read-only one when `reader` is true.
    public static func s3AWSClient(reader: Bool = false, retryPolicy: RetryPolicy = .standard()) throws -> AWSClient {
        let key = try value(reader ? "ATLAS_RELAY_S3_READER_ACCESS_KEY_ID" : "AWS_ACCESS_KEY_ID")
        let secret = try value(reader ? "ATLAS_RELAY_S3_READER_SECRET_ACCESS_KEY" : "AWS_SECRET_ACCESS_KEY")
        return AWSClient(
            region: "us-east-1", credentialProvider: .static(accessKeyId: key, secretAccessKey: secret),
            endpoints: EndpointResolver(explicitEndpoint: try s3Endpoint()), retryPolicy: retryPolicy)
    }
}

extension Sandbox {
    private static let loadSlot = AsyncSemaphore(1)

    /// Runs `body`, a test that loads a simulator flat out (a Perf-Tester run), while no other
    /// such test runs: the tests share two cores, PostgreSQL and SeaweedFS, and two loads at
    /// once starve the timing-sensitive tests running beside them.
    public static func withLoadSlot<T>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        await loadSlot.acquire()
        do {
            let value = try await body()
            await loadSlot.release()
            return value
        } catch {
            await loadSlot.release()
            throw error
        }
    }
}
