import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Testing

@testable import Pipeline

/// An on-premise Bitbucket Server (a stand-in made from Atlassian's documentation, serving real
/// git over HTTPS): the repository comes from it at exactly the commit asked for, with the token
/// out of arguments, URLs, files and messages, and build statuses go to its repository's builds
/// API, or the older API on a server without it.
struct BitbucketServerTests {
    static let token = "bb-token-\(UUID().uuidString)"

    /// A repository with two commits on master (pipeline.yml named "first", then "second").
    static func repository() async throws -> (path: String, first: String, second: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bb-src-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        func git(_ arguments: String...) async throws -> String {
            let output = try await ProcessRunner.run(
                "/usr/bin/git", ["-C", path, "-c", "user.name=t", "-c", "user.email=t@example.com"] + arguments,
                timeout: .seconds(30))
            #expect(output.status == 0, "git \(arguments): \(output.errorText)")
            return String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try await git("init", "-q", "-b", "master")
        var commits: [String] = []
        for name in ["first", "second"] {
            try Self.config(name: name).write(toFile: path + "/pipeline.yml", atomically: true, encoding: .utf8)
            _ = try await git("add", "pipeline.yml")
            _ = try await git("commit", "-q", "-m", name)
            commits.append(try await git("rev-parse", "HEAD"))
        }
        return (path, commits[0], commits[1])
    }

    static func config(name: String, bitbucket: String = "") -> String {
        """
        name: \(name)
        production: prod
        accounts: { main: { id: "123456789012", region: us-east-1 } }
        \(bitbucket)
        environments:
          dev: { account: main, deployBucket: dev-deploy }
          prod: { account: main, deployBucket: prod-deploy }
        """
    }

    static func source(_ server: BitbucketStandIn, token: String = token, ca: Bool = true) throws -> BitbucketSource {
        try BitbucketSource(
            url: server.baseURL + "/", project: "INFRA", repository: "atlassian-aws", token: token,
            caFile: ca ? server.caFile : nil)
    }

    @Test func fetchesExactlyTheCommitAskedForAndTheTokenStaysInTheHeader() async throws {
        let repository = try await Self.repository()
        defer { try? FileManager.default.removeItem(atPath: repository.path) }
        try await BitbucketStandIn.with(token: Self.token) { server in
            try await server.publish(repository.path, project: "INFRA", slug: "atlassian-aws")
            let source = try Self.source(server)
            #expect(source.cloneURL == server.baseURL + "/scm/INFRA/atlassian-aws.git")
            #expect(try await source.head(of: "master") == repository.second)

            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bb-co-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            // The older commit, not the branch's head: exactly what was asked for.
            let checkout = try await source.checkout(repository.first, into: folder)
            #expect(try await checkout.resolve("HEAD") == repository.first)
            #expect(try String(contentsOfFile: folder + "/pipeline.yml", encoding: .utf8).contains("name: first"))
            // A rerun finds the same checkout and goes on from it.
            #expect(try await source.checkout(repository.first, into: folder).path == folder)

            // Every request carried the token as Bearer, none in the URL.
            let requests = server.requests
            #expect(!requests.isEmpty && requests.allSatisfy(\.authorised))
            #expect(requests.allSatisfy { !$0.path.contains(Self.token) && !$0.query.contains(Self.token) })
            // Nothing on disk holds it: not .git/config (no remote is written), not any other file.
            let enumerator = try #require(FileManager.default.enumerator(atPath: folder))
            for case let file as String in enumerator {
                let data = FileManager.default.contents(atPath: folder + "/" + file) ?? Data()
                #expect(data.range(of: Data(Self.token.utf8)) == nil, "\(file) holds the token")
            }
        }
    }

    @Test func refusalsAreTypedAndNeverEchoTheToken() async throws {
        let repository = try await Self.repository()
        defer { try? FileManager.default.removeItem(atPath: repository.path) }
        try await BitbucketStandIn.with(token: Self.token) { server in
            try await server.publish(repository.path, project: "INFRA", slug: "atlassian-aws")
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bb-co-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: folder) }

            let wrong = "wrong-\(UUID().uuidString)"
            let refused = try await #require(throws: PipelineError.self) {
                try await Self.source(server, token: wrong).head(of: "master")
            }
            #expect(refused.kind == .sourceUnavailable)
            #expect(!refused.description.contains(wrong))
            #expect(server.requests.contains { !$0.authorised })

            // The server's certificate is checked: without its CA the fetch is refused.
            let untrusted = try await #require(throws: PipelineError.self) {
                try await Self.source(server, ca: false).checkout(repository.first, into: folder)
            }
            #expect(untrusted.kind == .sourceUnavailable)
            // That attempt left an empty repository behind; the next one goes on in the same folder.

            let missing = try await #require(throws: PipelineError.self) {
                try await Self.source(server).checkout(String(repeating: "0", count: 40), into: folder)
            }
            #expect(missing.kind == .unknownCommit, "\(missing)")
            // And the folder of those failed attempts still takes the commit that is there.
            let resumed = try await Self.source(server).checkout(repository.first, into: folder)
            #expect(try await resumed.resolve("HEAD") == repository.first)
            let short = try await #require(throws: PipelineError.self) {
                try await Self.source(server).checkout(String(repository.first.prefix(8)), into: folder + "-short")
            }
            #expect(short.kind == .unknownCommit)
            let noBranch = try await #require(throws: PipelineError.self) {
                try await Self.source(server).head(of: "no-such-branch")
            }
            #expect(noBranch.kind == .unknownCommit)
        }
        for url in ["http://bitbucket.example.com", "https://user:pw@bitbucket.example.com", "bitbucket.example.com"] {
            let error = try #require(throws: PipelineError.self) {
                try BitbucketSource(url: url, project: "INFRA", repository: "r", token: "t")
            }
            #expect(error.kind == .incompleteConfig)
        }
    }

    /// A NO_SOURCE nightly: the config given only says where the repository is; the phase runs
    /// on the commit's own pipeline.yml, fetched at the base branch's head.
    @Test func aPhaseRunsOnTheFetchedCommitsOwnConfig() async throws {
        let repository = try await Self.repository()
        defer { try? FileManager.default.removeItem(atPath: repository.path) }
        try await BitbucketStandIn.with(token: Self.token) { server in
            try await server.publish(repository.path, project: "infra", slug: "atlassian-aws")
            let bootstrap = try PipelineConfig.parse(
                Self.config(
                    name: "bootstrap",
                    bitbucket:
                        "bitbucket: { url: \"\(server.baseURL)\", token: env:BB_TOKEN, project: INFRA, repository: atlassian-aws, caFile: \"\(server.caFile)\" }"
                ), file: "pipeline.yml", directory: repository.path)
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("bb-work-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: work) }
            let pipeline = Pipeline(config: bootstrap, environment: Sandbox.environment.merging(["BB_TOKEN": Self.token]) { $1 })
            let fetched = try await pipeline.fetchSource(for: .nightly, commit: nil, workDirectory: work)
            #expect(fetched.commit == repository.second)
            #expect(fetched.config.name == "second")
            #expect(fetched.config.directory.hasPrefix(work + "/source/" + repository.second))

            // A commit whose config names a path beside the repository is refused: in the work
            // folder that path would be somewhere else.
            try (Self.config(name: "third") + """

                  uat:
                    account: main
                    deployBucket: uat-deploy
                    applications: { jira: { url: "https://jira.uat.example", credentials: { token: env:T }, sharedHome: ../homes/uat } }
                """).write(toFile: repository.path + "/pipeline.yml", atomically: true, encoding: .utf8)
            for arguments in [["add", "pipeline.yml"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "third"]] {
                let output = try await ProcessRunner.run("/usr/bin/git", ["-C", repository.path] + arguments, timeout: .seconds(30))
                #expect(output.status == 0, "\(output.errorText)")
            }
            try await server.publish(repository.path, project: "infra", slug: "atlassian-aws")
            let climbing = try await #require(throws: PipelineError.self) {
                try await pipeline.fetchSource(for: .nightly, commit: nil, workDirectory: work)
            }
            #expect(climbing.kind == .incompleteConfig, "\(climbing)")
            #expect(climbing.description.contains("environments.uat.applications.jira.sharedHome"))

            let unset = try await #require(throws: PipelineError.self) {
                try await Pipeline(config: bootstrap, environment: Sandbox.environment).fetchSource(
                    for: .nightly, commit: nil, workDirectory: work)
            }
            #expect(unset.kind == .secretUnavailable)
        }
        let half = try #require(throws: PipelineConfigError.self) {
            try PipelineConfig.parse(
                Self.config(name: "t", bitbucket: "bitbucket: { url: \"https://b.example\", token: env:T, project: INFRA }"),
                file: "pipeline.yml", directory: repository.path)
        }
        #expect(half.issues.contains { $0.keyPath == ["bitbucket", "repository"] })
    }

    @Test(arguments: [false, true])
    func buildStatusesGoToTheRepositorysBuildsAPIOrTheOlderOne(legacyOnly: Bool) async throws {
        try await BitbucketStandIn.with(token: Self.token, legacyOnly: legacyOnly) { server in
            let commit = String(repeating: "c0ffee12", count: 5)
            let status = BuildStatus(
                url: server.baseURL, token: Self.token, project: "INFRA", repository: "atlassian-aws",
                caFile: server.caFile)
            try await status.post(
                .inProgress, commit: commit, phase: .nightly, environment: "dev", description: "running",
                link: "https://console.example/build/1")
            let report = RunReport(
                phase: .nightly, commit: commit, environment: "dev", started: Date(), seconds: 61.5, dryRun: false,
                steps: [.init(name: "app-tester", outcome: .passed, seconds: 3, figures: [:])])
            try await status.post(report, link: "https://console.example/build/1")

            let builds = server.builds
            let expectedPath =
                legacyOnly
                ? "/rest/build-status/1.0/commits/\(commit)"
                : "/rest/api/latest/projects/INFRA/repos/atlassian-aws/commits/\(commit)/builds"
            #expect(builds.map(\.path) == [expectedPath, expectedPath])
            #expect(builds.map { $0.body["state"]?.string } == ["INPROGRESS", "SUCCESSFUL"])
            #expect(builds.allSatisfy { $0.body["key"]?.string == "atlas-relay-nightly" })
            #expect(builds.allSatisfy { $0.body["url"]?.string == "https://console.example/build/1" })
            #expect(builds.last?.body["duration"] == .number(61500))

            // A status Bitbucket cannot take is an error of its kind, without the token.
            let wrong = BuildStatus(url: server.baseURL, token: "not-it", caFile: server.caFile)
            let refused = await #expect(throws: PipelineError.self) { try await wrong.post(report) }
            #expect(refused?.kind == .buildStatusRejected)
            #expect(refused?.description.contains("not-it") == false)
            // Without the private CA the server's certificate is not trusted: nothing is sent.
            await #expect(throws: (any Error).self) { try await BuildStatus(url: server.baseURL, token: Self.token).post(report) }
            #expect(server.builds.count == 2)
        }
    }
}

