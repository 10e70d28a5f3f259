import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import S3Sync
import Testing

@testable import Pipeline

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The pipeline's edges over real sockets: secrets from moto's SSM and Secrets Manager, build
/// statuses to a Bitbucket stand-in, and dev-release's branch rule in a real git repository.
struct PipelineServicesTests {
    struct Empty: Decodable, Sendable {}
    struct PutParameter: Encodable, Sendable {
        let Name: String
        let Value: String
        let `Type`: String
        let Overwrite: Bool
    }
    struct CreateSecret: Encodable, Sendable {
        let Name: String
        let SecretString: String
    }

    @Test func secretsResolveFromSSMAndSecretsManager() async throws {
        let aws = try Sandbox.motoAWSClient()
        let name = "/relay-test/\(UUID().uuidString)/jira-token"
        let _: Empty = try await aws.json(
            .ssm, operation: "PutParameter",
            input: PutParameter(Name: name, Value: "from-ssm", Type: "SecureString", Overwrite: true), as: Empty.self)
        let secret = "relay-test-\(UUID().uuidString)"
        let _: Empty = try await aws.json(
            .secretsManager, operation: "CreateSecret",
            input: CreateSecret(Name: secret, SecretString: #"{"password":"from-secrets-manager"}"#), as: Empty.self)
        let resolver = SecretResolver(environment: [:], ssm: SSMClient(aws), secretsManager: SecretsManagerClient(aws))
        #expect(try await resolver.resolve(#require(SecretReference("ssm:\(name)"))) == "from-ssm")
        #expect(
            try await resolver.resolve(#require(SecretReference("secretsmanager:\(secret)#password")))
                == "from-secrets-manager")
        #expect(
            try await resolver.resolve(#require(SecretReference("secretsmanager:\(secret)"))).contains(
                "from-secrets-manager"))
        let missing = try #require(SecretReference("ssm:/relay-test/none-\(UUID().uuidString)"))
        let error = try await #require(throws: PipelineError.self) { try await resolver.resolve(missing) }
        #expect(error.kind == .secretUnavailable && error.underlying != nil)
        #expect(error.description.contains("ssm:/relay-test/none-"))  // names the reference
        let noField = try #require(SecretReference("secretsmanager:\(secret)#user"))
        let fieldError = try await #require(throws: PipelineError.self) { try await resolver.resolve(noField) }
        #expect(fieldError.kind == .secretUnavailable)
        #expect(
            fieldError.description.contains("no string field 'user'")
                && !fieldError.description.contains("from-secrets"))
    }

    @Test func buildStatusesReachBitbucketAndRefusalsAreReported() async throws {
        try await withTestServer { request in
            request.header("authorization") == "Bearer bb-token"
                ? TestResponse(status: 204) : .json(["errors": [["message": "Authentication failed"]]], status: 401)
        } body: { server in
            let report = RunReport(
                phase: .uat, commit: String(repeating: "ab", count: 20), environment: "uat", started: Date(),
                seconds: 12, dryRun: false,
                steps: [
                    .init(name: "deployer", outcome: .passed, seconds: 3, figures: [:]),
                    .init(name: "app-tester", outcome: .failed, seconds: 1, figures: [:], message: "boom"),
                ])
            try await BuildStatus(url: server.baseURL + "/", token: "bb-token").post(report)
            let request = try #require(server.requests.first)
            #expect(request.method == "POST" && request.path == "/rest/build-status/1.0/commits/\(report.commit)")
            let body = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
            #expect(
                body["state"] as? String == "FAILED" && body["key"] as? String == "atlas-relay-uat"
                    && body["description"] as? String == "failed: app-tester" && body["duration"] as? Int == 12_000
            )
            let error = await #expect(throws: PipelineError.self) {
                try await BuildStatus(url: server.baseURL, token: "wrong").post(report)
            }
            #expect(error?.kind == .buildStatusRejected)
            #expect(error?.description.contains("HTTP 401") == true && error?.description.contains("wrong") == false)
        }
    }

    @Test func theBuildLinkIsTheCodeBuildBuild() {
        let arn = "arn:aws:codebuild:eu-west-1:123456789012:build/atlas-nightly:b1e6661e-e4f2-4156-9ab9-82a19EXAMPLE"
        #expect(
            BuildStatus.buildLink(environment: ["CODEBUILD_BUILD_ARN": arn])
                == "https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/123456789012/projects/atlas-nightly/build/atlas-nightly%3Ab1e6661e-e4f2-4156-9ab9-82a19EXAMPLE/?region=eu-west-1"
        )
        #expect(
            BuildStatus.buildLink(environment: ["CODEBUILD_BUILD_ARN": arn, "CODEBUILD_PUBLIC_BUILD_URL": "https://public.example/b/1"])
                == "https://public.example/b/1")
        #expect(BuildStatus.buildLink(environment: [:]) == nil)
        #expect(BuildStatus.buildLink(environment: ["CODEBUILD_BUILD_ARN": "not-an-arn"]) == nil)
    }

    /// A whole run posts INPROGRESS first and its outcome last, both linking to the build; a
    /// partial run (a selection) posts nothing, so Bitbucket never shows a phase as passed that
    /// did not run whole.
    @Test func aWholeRunPostsInProgressThenItsOutcomeAndAPartialRunPostsNothing() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for arguments in [["init", "-q", "-b", "master"], ["commit", "-q", "--allow-empty", "-m", "first"]] {
            let output = try await ProcessRunner.run(
                "/usr/bin/git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@example.com"] + arguments,
                timeout: .seconds(30))
            #expect(output.status == 0, "git \(arguments): \(output.errorText)")
        }
        try await withTestServer { _ in TestResponse(status: 204) } body: { server in
            let config = try PipelineConfig.parse(
                """
                name: t
                production: prod
                accounts: { main: { id: "123456789012", region: us-east-1 } }
                bitbucket: { url: "\(server.baseURL)", token: env:BB_TOKEN }
                environments:
                  dev: { account: main, deployBucket: status-dev }
                  prod: { account: main, deployBucket: status-prod }
                """, file: "pipeline.yml", directory: root)
            var environment = Sandbox.environment
            environment["BB_TOKEN"] = "bb-token"
            environment["CODEBUILD_BUILD_ARN"] = "arn:aws:codebuild:us-east-1:123456789012:build/dev-release:42"
            let pipeline = Pipeline(config: config, environment: environment)

            // On master: dev-release runs whole and fails (not a ticket branch).
            let whole = try await pipeline.run(.devRelease, commit: "HEAD")
            #expect(!whole.passed)
            let bodies = try server.requests.map {
                try #require(try JSONSerialization.jsonObject(with: $0.body) as? [String: Any]).compactMapValues { $0 as? String }
            }
            #expect(bodies.map { $0["state"] } == ["INPROGRESS", "FAILED"])
            #expect(bodies.allSatisfy { $0["key"] == "atlas-relay-dev-release" })
            #expect(bodies.allSatisfy { $0["url"]?.contains("/projects/dev-release/build/dev-release%3A42/") == true })
            #expect(server.requests.allSatisfy { $0.path == "/rest/build-status/1.0/commits/\(whole.commit)" })

            // The same phase with a selection: nothing posted.
            let partial = try await pipeline.run(.devRelease, commit: "HEAD", selection: .init(skip: ["code-releaser"]))
            #expect(partial.steps.allSatisfy { $0.outcome == .skipped })
            #expect(server.requests.count == 2)
        }
    }

    @Test func ticketBranchesOnly() {
        #expect(Pipeline.isTicketBranch("feature/jira-1234-raise-heap"))
        #expect(Pipeline.isTicketBranch("feature/DEMO-7"))
        #expect(!Pipeline.isTicketBranch("master"))
        #expect(!Pipeline.isTicketBranch("feature/raise-heap"))
        #expect(!Pipeline.isTicketBranch("bugfix/jira-12-x"))
    }

    @Test func runReportsReadForPeopleAndCodeBuild() throws {
        let report = RunReport(
            phase: .nightly, commit: "0123456789abcdef", environment: "dev", started: Date(), seconds: 4, dryRun: false,
            steps: [
                .init(name: "data-provider", outcome: .passed, seconds: 2, figures: ["snapshot": "20261128T000000Z"]),
                .init(name: "cold-deployer", outcome: .failed, seconds: 1, figures: [:], message: "dev-app: FAILED"),
                .init(name: "app-tester", outcome: .skipped, seconds: 0, figures: [:], message: "cold-deployer failed"),
            ])
        #expect(report.text.contains("snapshot=20261128T000000Z"))
        #expect(report.text.hasSuffix("nightly FAILED in 4.0 s"))
        let document = try XMLDocument(xmlString: report.junit)
        #expect(try document.nodes(forXPath: "//testcase").count == 3)
        #expect(try document.nodes(forXPath: "//testcase[@name='cold-deployer']/failure").count == 1)
        #expect(try document.nodes(forXPath: "//testcase[@name='app-tester']/skipped").count == 1)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let paths = try report.write(to: directory)
        #expect(
            paths.map { ($0 as NSString).lastPathComponent } == [
                "nightly-0123456789ab.json", "nightly-0123456789ab.xml",
            ])
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(
            try decoder.decode(RunReport.self, from: Data(contentsOf: URL(fileURLWithPath: paths[0]))).steps
                == report.steps)
    }

    @Test func devReleaseTakesOnlyATicketBranchsCommittedCode() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("dev-release-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data("Resources: {}\n".utf8).write(to: URL(fileURLWithPath: "\(root)/app.yaml"))
        func git(_ arguments: String...) async throws {
            let output = try await ProcessRunner.run(
                "/usr/bin/git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@example.com"] + arguments,
                timeout: .seconds(30))
            #expect(output.status == 0, "git \(arguments): \(output.errorText)")
        }
        try await git("init", "-q", "-b", "master")
        try await git("add", "-A")
        try await git("commit", "-q", "-m", "first")
        let aws = try Sandbox.s3AWSClient()
        try await withSandboxBucket(aws, prefix: "dev-release") { bucket in
            let config = try PipelineConfig.parse(
                """
                name: t
                production: prod
                accounts: { main: { id: "123456789012", region: us-east-1 } }
                environments:
                  dev: { account: main, deployBucket: \(bucket) }
                  prod: { account: main, deployBucket: \(bucket)-prod }
                """, file: "pipeline.yml", directory: root)
            let pipeline = Pipeline(config: config, environment: Sandbox.environment)
            let s3 = S3Client(aws)

            let onMaster = try await pipeline.run(.devRelease, commit: "HEAD")
            #expect(!onMaster.passed)
            #expect(
                onMaster.steps[0].message?.contains("branch 'master' is not a ticket branch") == true,
                "\(onMaster.text)")

            try await git("checkout", "-q", "-b", "feature/demo-7-raise-heap")
            try Data("Resources: { X: { Type: AWS::SNS::Topic } }\n".utf8).write(
                to: URL(fileURLWithPath: "\(root)/app.yaml"))
            let dirty = try await pipeline.run(.devRelease, commit: "HEAD")
            #expect(dirty.steps[0].message?.contains("uncommitted changes (app.yaml)") == true, "\(dirty.text)")
            #expect(try await s3.listAllObjects(bucket: bucket).isEmpty)

            try await git("commit", "-q", "-am", "raise the heap")
            let released = try await pipeline.run(.devRelease, commit: "HEAD")
            #expect(released.passed, "\(released.text)")
            #expect(released.steps[0].figures["jira"] == "DEMO-7")
            let keys = try await s3.listAllObjects(bucket: bucket).map(\.key)
            #expect(keys.contains("releases/current.json") && keys.contains { $0.hasSuffix("/code.tar") })
            #expect(!keys.contains { $0.hasPrefix("passed/") }, "a developer's release passes nothing")
        }
    }
}
