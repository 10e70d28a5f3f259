import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import AtlassianAdmin
import Foundation
import RelayFoundation
import S3Sync
import Testing

@testable import Pipeline

/// The PROD guard compares identities, not spellings (issue 16): each way a DEV environment
/// could name one of PROD's resources under another spelling is a config error at load, and a
/// config changed in code after loading is refused by the phase runner before anything runs.
@Suite struct ProductionIdentityTests {
    /// DEV and PROD with a database and a shared home each, in `directory`.
    static func config(
        devDatabase: String = "postgres://jira@db-dev.internal:5432/jira",
        prodDatabase: String = "postgres://jira@127.0.0.1:5432/jira",
        devURL: String = "https://jira.dev.example.com", prodURL: String = "https://jira.example.com",
        devBucket: String = "dev-deploy", devAccount: String = "dev",
        devHome: String = "dev-home", prodHome: String = "prod-home", extra: String = ""
    ) -> String {
        """
        name: t
        production: prod
        accounts:
          dev: { id: "111111111111", region: eu-west-1 }
          other: { id: "333333333333", region: eu-west-1 }
          prod: { id: "222222222222", region: eu-west-1 }
        environments:
          dev:
            account: \(devAccount)
            deployBucket: \(devBucket)
            applications:
              jira:
                url: "\(devURL)"
                database: { url: "\(devDatabase)", password: "env:DEV_DB" }
                sharedHome: "\(devHome)"\(extra)
          prod:
            account: prod
            deployBucket: prod-deploy
            applications:
              jira:
                url: "\(prodURL)"
                database: { url: "\(prodDatabase)", password: "ssm:/prod/db" }
                sharedHome: "\(prodHome)"
        """
    }

    static func parse(_ text: String, directory: String = "/nonexistent") throws -> PipelineConfig {
        try PipelineConfig.parse(text, file: "pipeline.yml", directory: directory)
    }

    /// The one problem `text` has, which must name one of PROD's resources of `kind` at `keyPath`.
    static func expectProductionResource(
        _ text: String, _ kind: ResourceIdentity.Kind, at keyPath: String, directory: String = "/nonexistent",
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let error = try #require(throws: PipelineConfigError.self, sourceLocation: sourceLocation) {
            try parse(text, directory: directory)
        }
        #expect(error.problems.count == 1, "\(error)", sourceLocation: sourceLocation)
        #expect(error.problems.first?.contains(": \(keyPath): ") == true, "\(error)", sourceLocation: sourceLocation)
        #expect(error.issues.map(\.kind) == [.productionResource(kind)], "\(error)", sourceLocation: sourceLocation)
        #expect(error.issues.first?.keyPath.joined(separator: ".") == keyPath, sourceLocation: sourceLocation)
    }

    @Test func theDistinctConfigLoads() throws {
        let config = try Self.parse(Self.config())
        #expect(!config.isProduction(try config.environment("dev")))
        #expect(config.isProduction(config.productionEnvironment))
    }

    // MARK: - Bypass: the database by another spelling

    @Test func aDEVDatabaseOnLocalhostIsPRODsOn127001() throws {
        // Resolved: localhost is 127.0.0.1; the port defaults to 5432; the host's case does not matter.
        for spelling in [
            "postgres://jira@localhost/jira", "postgres://admin@LOCALHOST:5432/jira",
            "postgresql://jira@127.0.0.1/jira",
        ] {
            try Self.expectProductionResource(
                Self.config(devDatabase: spelling), .database, at: "environments.dev.applications.jira.database.url")
        }
        // Another database on the same server, or another port, is DEV's own.
        _ = try Self.parse(Self.config(devDatabase: "postgres://jira@localhost/dev_jira"))
        _ = try Self.parse(Self.config(devDatabase: "postgres://jira@localhost:5433/jira"))
    }

    // MARK: - Bypass: the URL by another spelling

    @Test func aDEVURLThatIsPRODsWithItsDefaultPortAndAnotherCaseIsRefused() throws {
        for spelling in ["https://JIRA.example.com:443/", "HTTPS://jira.EXAMPLE.com.", "https://jira.example.com//"] {
            try Self.expectProductionResource(
                Self.config(devURL: spelling), .url, at: "environments.dev.applications.jira.url")
        }
        // Another port, scheme or path is another application.
        _ = try Self.parse(Self.config(devURL: "https://jira.example.com:8443"))
        _ = try Self.parse(Self.config(devURL: "http://jira.example.com"))
        _ = try Self.parse(Self.config(devURL: "https://jira.example.com/dev"))
    }

    // MARK: - Bypass: the deploy bucket

    @Test func aDEVDeployBucketThatIsPRODsIsRefused() throws {
        // In PROD's account (S3 checks the expected owner, so the account is part of the bucket).
        try Self.expectProductionResource(
            Self.config(devBucket: "prod-deploy", devAccount: "prod"), .bucket, at: "environments.dev.deployBucket")
        try Self.expectProductionResource(
            Self.config(devBucket: "Prod-Deploy", devAccount: "prod"), .bucket, at: "environments.dev.deployBucket")
        // The same name in another account is a bucket S3 refuses to DEV's credentials, not PROD's to write.
        _ = try Self.parse(Self.config(devBucket: "prod-deploy", devAccount: "dev"))
    }

    @Test func aDEVDeployBucketThatIsTheSnapshotBucketIsRefused() throws {
        let text = Self.config(devBucket: "snaps", devAccount: "prod").replacingOccurrences(
            of: "environments:\n", with: "snapshots: { account: prod, bucket: snaps }\nenvironments:\n")
        try Self.expectProductionResource(text, .bucket, at: "environments.dev.deployBucket")
    }

    // MARK: - Bypass: the shared home by another path

    @Test func aDEVSharedHomeThatIsPRODsByItsRealPathIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("homes-\(UUID())").path
        try FileManager.default.createDirectory(atPath: "\(directory)/prod-home", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createSymbolicLink(
            atPath: "\(directory)/link-to-prod", withDestinationPath: "\(directory)/prod-home")
        for spelling in [
            "prod-home/", "./not-yet/../prod-home", "link-to-prod", "\(directory)/link-to-prod/.",
            // A folder inside PROD's home, or one holding it: a sync with delete reaches PROD's files.
            "prod-home/data", ".",
        ] {
            try Self.expectProductionResource(
                Self.config(devHome: spelling), .sharedHome, at: "environments.dev.applications.jira.sharedHome",
                directory: directory)
        }
        _ = try Self.parse(Self.config(devHome: "prod-home-2"), directory: directory)
        // The same EFS file system is PROD's whatever the mount point.
        let efs = Self.config(devHome: "/mnt/dev", prodHome: "/mnt/prod", extra: "\n        sharedHomeEFS: fs-0abc")
            .replacingOccurrences(
                of: "sharedHome: \"/mnt/prod\"", with: "sharedHome: \"/mnt/prod\"\n        sharedHomeEFS: FS-0ABC")
        try Self.expectProductionResource(efs, .sharedHome, at: "environments.dev.applications.jira.sharedHome")
    }

    // MARK: - "Is production" by what an environment names, not by its name

    @Test func anEnvironmentChangedInCodeToNamePRODsResourcesIsPROD() throws {
        var config = try Self.parse(Self.config())
        config.environments["dev"]?.applications?["jira"]?.database?.url = "postgres://jira@localhost/jira"
        let dev = try config.environment("dev")
        #expect(config.isProduction(dev))
        #expect(config.settings(of: dev).isProduction)
        #expect(config.productionResources(namedBy: dev).map(\.kind) == [.database])
        let error = try #require(throws: PipelineError.self) {
            try config.productionGuard(confirmed: true).check(phase: .goLive, writingTo: "dev", step: "deployer")
        }
        #expect(error.kind == .productionResourceShared)
        #expect(error.conflicts.map(\.other) == [.database(host: "127.0.0.1", name: "jira")])
        // The config as loaded passes; PROD keeps its own rules.
        try Self.parse(Self.config()).productionGuard(confirmed: false).check(
            phase: .nightly, writingTo: "dev", step: "code-releaser")
        #expect(
            (try? config.productionGuard(confirmed: false).check(phase: .goLive, writingTo: "prod", step: "x")) == nil)
    }

    // MARK: - Bypass at run time: nightly's code-releaser into PROD's bucket

    /// A git repository with one commit, in a new temporary folder.
    static func repository(_ name: String) async throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID())").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("Resources: {}\n".utf8).write(to: URL(fileURLWithPath: "\(root)/app.yaml"))
        for arguments in [
            ["init", "-q", "-b", "master"], ["add", "-A"], ["commit", "-q", "-m", "DEMO-1: first"],
        ] {
            let output = try await ProcessRunner.run(
                "/usr/bin/git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@example.com"] + arguments,
                timeout: .seconds(30))
            #expect(output.status == 0, "git \(arguments): \(output.errorText)")
        }
        return root
    }

    @Test func nightlyRefusesADEVWhoseDeployBucketIsPRODsBeforeAnythingRuns() async throws {
        let root = try await Self.repository("bucket-bypass")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let aws = try Sandbox.s3AWSClient()
        try await withSandboxBucket(aws, prefix: "bypass-dev") { devBucket in
            try await withSandboxBucket(aws, prefix: "bypass-prod") { prodBucket in
                try await Self.refuseDEVWritingToPRODsBucket(
                    root: root, s3: S3Client(aws), devBucket: devBucket, prodBucket: prodBucket)
            }
        }
    }

    /// The body of ``nightlyRefusesADEVWhoseDeployBucketIsPRODsBeforeAnythingRuns()``, with DEV's
    /// and PROD's buckets.
    static func refuseDEVWritingToPRODsBucket(root: String, s3: S3Client, devBucket: String, prodBucket: String)
        async throws
    {
        var config = try PipelineConfig.parse(
            """
            name: t
            production: prod
            accounts: { main: { id: "123456789012", region: us-east-1 } }
            snapshots: { account: main, bucket: \(devBucket)-snapshots }
            environments:
              dev: { account: main, deployBucket: \(devBucket) }
              prod: { account: main, deployBucket: \(prodBucket) }
            """, file: "pipeline.yml", directory: root)
        // The check at load is passed; then the bucket is changed in code (the SDK path).
        config.environments["dev"]?.deployBucket = prodBucket
        let pipeline = Pipeline(config: config, environment: Sandbox.environment)

        let error = try await #require(throws: PipelineError.self) {
            try await pipeline.run(.nightly, commit: "master", selection: .init(only: ["code-releaser"]))
        }
        #expect(error.kind == .productionResourceShared, "\(error)")
        #expect(error.conflicts.map(\.kind) == [.bucket])
        #expect(try await s3.listAllObjects(bucket: prodBucket).isEmpty, "nothing may reach PROD's bucket")

        // Below the runner, the release itself refuses PROD's bucket too: DEV is PROD to it now.
        #expect(pipeline.deployBucket(try config.environment("dev")).isProduction)

        // Unchanged, the same run releases into DEV's own bucket.
        config.environments["dev"]?.deployBucket = devBucket
        let report = try await Pipeline(config: config, environment: Sandbox.environment)
            .run(.nightly, commit: "master", selection: .init(only: ["code-releaser"]))
        #expect(report.steps.first { $0.name == "code-releaser" }?.outcome == .passed, "\(report.text)")
        #expect(try await s3.listAllObjects(bucket: devBucket).contains { $0.key.hasSuffix("/code.tar") })
        #expect(try await s3.listAllObjects(bucket: prodBucket).isEmpty)
    }

    @Test func nightlysAppTesterNeverReachesAPRODURLSpeltAnotherWay() async throws {
        let root = try await Self.repository("url-bypass")
        defer { try? FileManager.default.removeItem(atPath: root) }
        // PROD's Jira records what reaches it.
        try await withTestServer { _ in
            .json(["key": "PROD-1"])
        } body: { prodJira in
            var config = try PipelineConfig.parse(
                """
                name: t
                production: prod
                accounts: { main: { id: "123456789012", region: us-east-1 } }
                snapshots: { account: main, bucket: snapshots }
                environments:
                  dev:
                    account: main
                    deployBucket: dev-deploy
                    applications: { jira: { url: "https://jira.dev.example.com" } }
                    tests: { functional: [jira] }
                  prod:
                    account: main
                    deployBucket: prod-deploy
                    applications: { jira: { url: "\(prodJira.baseURL)" } }
                """, file: "pipeline.yml", directory: root)
            config.environments["dev"]?.applications?["jira"]?.url = "HTTP://127.0.0.1:\(prodJira.port)/"
            let pipeline = Pipeline(config: config, environment: Sandbox.environment)

            let error = try await #require(throws: PipelineError.self) {
                try await pipeline.run(.nightly, commit: "master", selection: .init(only: ["app-tester"]))
            }
            #expect(error.kind == .productionResourceShared, "\(error)")
            #expect(error.conflicts.map(\.kind) == [.url])
            #expect(prodJira.requests.isEmpty, "App-Tester wrote to PROD's Jira: \(prodJira.requests.map(\.path))")
        }
    }

    // MARK: - The identities themselves

    @Test func urlsAreComparedInTheirNormalForm() {
        #expect(ResourceIdentity.normalisedURL("https://JIRA.example.com:443/") == "https://jira.example.com")
        #expect(ResourceIdentity.normalisedURL("HTTP://Jira.Example.com:80/Jira/") == "http://jira.example.com/Jira")
        #expect(ResourceIdentity.normalisedURL("https://jira.example.com:8443") == "https://jira.example.com:8443")
        #expect(ResourceIdentity.url("https://jira.example.com").isSame(as: .url("https://JIRA.example.com:443/")))
        #expect(!ResourceIdentity.url("https://jira.example.com").isSame(as: .url("http://jira.example.com")))
        #expect(EnvironmentSettings.normalised("https://JIRA.example.com:443/") == "https://jira.example.com")
        // A password in a URL never reaches a message.
        let withPassword = ResourceIdentity.url("https://admin:s3cr3t@jira.example.com")
        #expect(withPassword.isSame(as: .url("https://jira.example.com")))
        let shown =
            "\(withPassword) \(ResourceIdentity.conflicts(of: [withPassword], with: [.url("https://jira.example.com/")]))"
        #expect(!shown.contains("s3cr3t") && !shown.contains("admin"))
    }

    @Test func databasesAreComparedByServerAddressPortAndName() {
        let prod = ResourceIdentity.database(host: "127.0.0.1", port: 5432, name: "jira")
        #expect(ResourceIdentity.database(host: "localhost", name: "jira").isSame(as: prod))
        #expect(ResourceIdentity.database(host: "LocalHost.", port: 5432, name: "jira").isSame(as: prod))
        #expect(ResourceIdentity.database(host: "::ffff:127.0.0.1", name: "jira").isSame(as: prod))
        #expect(!ResourceIdentity.database(host: "localhost", name: "dev_jira").isSame(as: prod))
        #expect(!ResourceIdentity.database(host: "localhost", port: 5433, name: "jira").isSame(as: prod))
        // Every loopback address is this machine's server.
        #expect(ResourceIdentity.database(host: "[::1]", name: "jira").isSame(as: prod))
        #expect(ResourceIdentity.database(host: "127.0.0.2", name: "jira").isSame(as: prod))
        #expect(!ResourceIdentity.database(host: "192.0.2.1", name: "jira").isSame(as: prod))
        // A name that does not resolve is still compared by name.
        #expect(
            ResourceIdentity.database(host: "DB.invalid", name: "jira").isSame(
                as: .database(host: "db.invalid", name: "jira")))
        // A PROD host matches every database on it.
        #expect(ResourceIdentity.databaseHost("localhost").isSame(as: .database(host: "127.0.0.1", name: "x")))
        #expect(ResourceIdentity.database(host: "127.0.0.1", port: 1, name: "y").isSame(as: .databaseHost("LOCALHOST")))
    }

    @Test func sharedHomesAreComparedByRealPathAndBucketsByNameAndAccount() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("paths-\(UUID())").path
        try FileManager.default.createDirectory(atPath: "\(root)/prod", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createSymbolicLink(atPath: "\(root)/link", withDestinationPath: "\(root)/prod")
        let prod = ResourceIdentity.sharedHome("\(root)/prod")
        for same in ["\(root)/link", "\(root)/link/", "\(root)/nope/../prod", "\(root)/prod/./data", root] {
            #expect(ResourceIdentity.sharedHome(same).isSame(as: prod), "\(same)")
        }
        for other in ["\(root)/prod2", "\(root)/link/../dev", "\(root)/dev/prod"] {
            #expect(!ResourceIdentity.sharedHome(other).isSame(as: prod), "\(other)")
        }
        #expect(ResourceIdentity.bucket("Deploy", account: "1").isSame(as: .bucket("deploy", account: "1")))
        #expect(ResourceIdentity.bucket("deploy").isSame(as: .bucket("deploy", account: "1")))
        #expect(!ResourceIdentity.bucket("deploy", account: "2").isSame(as: .bucket("deploy", account: "1")))
        #expect(!ResourceIdentity.bucket("deploy").isSame(as: .url("deploy")))
    }
}
