import Foundation
import RelayFoundation
import StackDeploy

/// The infrastructure repository on an on-premise Bitbucket Server / Data Center, fetched over
/// HTTPS at exactly one commit: what a CodeBuild project without a CodeBuild source
/// (`NO_SOURCE`) runs on, since CodeBuild has no source type for Bitbucket Server.
///
/// The clone URL is Bitbucket's, `<url>/scm/<project>/<repository>.git`. The HTTP access token
/// goes to git as an `Authorization: Bearer` header (Bitbucket accepts project and repository
/// tokens only that way) through git's environment-variable configuration: it never appears in
/// git's arguments, in the remote URL, in `.git/config` or anywhere else on disk, and git's
/// tracing is kept off (its variables are removed from git's environment). Redirects are not followed (the header must not go to
/// another host) and credential helpers are cleared, so nothing can store the token.
///
/// ```swift
/// let source = try BitbucketSource(
///     url: "https://bitbucket.example.com", project: "INFRA", repository: "atlassian-aws", token: token)
/// let commit = try await source.head(of: "master")
/// let checkout = try await source.checkout(commit, into: "/tmp/work/source")
/// ```
public struct BitbucketSource: Sendable {
    /// The server's base URL (`https://`).
    public let url: String
    /// The project key.
    public let project: String
    /// The repository slug.
    public let repository: String
    /// A PEM file of the CA that signed the server's certificate, when it is not a public one.
    public var caFile: String?
    /// The `git` executable.
    public var git = "/usr/bin/git"
    /// How long one git command may take.
    public var timeout: Duration = .seconds(900)
    let token: String

    /// Creates a source.
    ///
    /// - Parameters:
    ///   - url: the server's base URL; must be `https://` (the token would otherwise travel in
    ///     clear). A trailing `/` is fine.
    ///   - project: the project key (Bitbucket treats it case-insensitively).
    ///   - repository: the repository slug.
    ///   - token: an HTTP access token with repository read.
    ///   - caFile: the CA's PEM file, for a server certificate from a private CA.
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/incompleteConfig`` for a URL that
    ///   is not https or carries credentials, or an empty project or repository.
    public init(url: String, project: String, repository: String, token: String, caFile: String? = nil) throws {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        guard let parsed = URLComponents(string: base), parsed.scheme == "https", parsed.host?.isEmpty == false
        else {
            throw PipelineError(
                "bitbucket.url '\(url)' is not an https:// URL; the token must not travel in clear",
                kind: .incompleteConfig)
        }
        guard parsed.user == nil, parsed.password == nil else {
            throw PipelineError(
                "bitbucket.url carries credentials; remove them and give the token by reference (bitbucket.token)",
                kind: .incompleteConfig)
        }
        let slug = /^[A-Za-z0-9._~-]+$/
        guard project.wholeMatch(of: slug) != nil, repository.wholeMatch(of: slug) != nil else {
            throw PipelineError(
                "bitbucket.project '\(project)' and bitbucket.repository '\(repository)' must be a project key "
                    + "and a repository slug (letters, digits, '.', '_', '~', '-')",
                kind: .incompleteConfig)
        }
        self.url = base
        self.project = project
        self.repository = repository
        self.token = token
        self.caFile = caFile
    }

    /// `<url>/scm/<project>/<repository>.git`.
    public var cloneURL: String { "\(url)/scm/\(project)/\(repository).git" }

    /// The commit at the head of `branch` on the server.
    ///
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/unknownCommit`` when the server
    ///   has no such branch, ``PipelineError/Kind/sourceUnavailable`` when it cannot be read.
    public func head(of branch: String) async throws -> String {
        let output = try await run(["ls-remote", "--heads", cloneURL, "refs/heads/\(branch)"], in: nil)
        let line = String(decoding: output, as: UTF8.self).split(separator: "\n").first { $0.hasSuffix("\trefs/heads/\(branch)") }
        guard let commit = line?.split(separator: "\t").first.map(String.init), Self.isFullHash(commit) else {
            throw PipelineError(
                "\(cloneURL) has no branch '\(branch)'; check baseBranch in pipeline.yml", kind: .unknownCommit)
        }
        return commit
    }

    /// Fetches `commit` (a full 40-character hash) into `directory` and checks it out detached.
    ///
    /// Fetches only that commit (depth 1). A server that refuses wants of unadvertised objects
    /// gets a second try that fetches its branches and finds the commit among them. `directory`
    /// must be absent or empty, hold an earlier checkout of the same commit without changes
    /// (which is used as it is), or an earlier attempt that fetched nothing (which is tried
    /// again); it holds a plain repository afterwards whose `.git/config` names no remote.
    ///
    /// - Returns: the checkout, its HEAD verified to be `commit`.
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/unknownCommit`` when `commit` is
    ///   not a full hash or not on the server, ``PipelineError/Kind/sourceUnavailable`` when the
    ///   server cannot be read (unreachable, the token refused) or `directory` is not empty.
    public func checkout(_ commit: String, into directory: String) async throws -> GitRepository {
        let commit = commit.lowercased()
        guard Self.isFullHash(commit) else {
            throw PipelineError(
                "'\(commit)' is not a full 40-character commit hash; a fetch from Bitbucket takes exactly one commit",
                kind: .unknownCommit)
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: directory), !entries.isEmpty {
            // An earlier run's checkout of the same commit, untouched: a rerun goes on from it.
            let earlier = GitRepository(path: directory, git: git)
            let head = try? await earlier.resolve("HEAD")
            if head == commit, (try? await earlier.uncommittedChanges())?.isEmpty == true {
                return earlier
            }
            // An earlier attempt that fetched nothing (the server refused, say) is tried again.
            guard entries == [".git"], head == nil else {
                throw PipelineError(
                    "\(directory) is not empty; give an empty or new folder for the checkout", kind: .sourceUnavailable)
            }
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = try await run(["init", "-q", directory], in: nil)
        do {
            _ = try await run(["fetch", "-q", "--no-tags", "--depth", "1", cloneURL, commit], in: directory)
        } catch let error as PipelineError where error.kind == .sourceUnavailable && error.refusedWant {
            _ = try await run(["fetch", "-q", "--no-tags", cloneURL, "+refs/heads/*:refs/remotes/bitbucket/*"], in: directory)
        }
        let repository = GitRepository(path: directory, git: git)
        do {
            _ = try await run(["checkout", "-q", "--detach", commit], in: directory)
            guard try await repository.resolve("HEAD") == commit else { throw ReleaseError("HEAD moved", kind: .gitFailed) }
        } catch {
            throw PipelineError(
                "commit \(commit) is not in \(cloneURL); check the hash, or whether it was pushed",
                kind: .unknownCommit, underlying: error)
        }
        return repository
    }

    static func isFullHash(_ text: some StringProtocol) -> Bool {
        text.count == 40 && text.allSatisfy(\.isHexDigit)
    }

    /// git's configuration for this server, by environment only: the token's header (for this
    /// server's URLs only), no redirects, no credential helpers, https only, no prompts, no traces.
    var environment: [String: String] {
        let settings = [
            ("http.\(url)/.extraHeader", "Authorization: Bearer \(token)"),
            ("http.followRedirects", "false"),
            ("credential.helper", ""),
            ("protocol.allow", "never"),
            ("protocol.https.allow", "always"),
        ]
        var environment = [
            "GIT_CONFIG_COUNT": "\(settings.count)", "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
            "GIT_TRACE_REDACT": "1",
        ]
        for (index, (key, value)) in settings.enumerated() {
            environment["GIT_CONFIG_KEY_\(index)"] = key
            environment["GIT_CONFIG_VALUE_\(index)"] = value
        }
        // The environment variable, not http.sslCAInfo: a machine-wide GIT_SSL_CAINFO overrides
        // the setting.
        if let caFile { environment["GIT_SSL_CAINFO"] = caFile }
        return environment
    }

    /// git's tracing, left out of its environment: `GIT_CURL_VERBOSE` switches curl's trace on
    /// whatever its value, so these are removed rather than set.
    static let tracing: Set<String> = [
        "GIT_TRACE", "GIT_TRACE_CURL", "GIT_TRACE_CURL_NO_DATA", "GIT_TRACE_PACKET", "GIT_TRACE_PACKFILE",
        "GIT_TRACE_SETUP", "GIT_TRACE_PERFORMANCE", "GIT_TRACE2", "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF",
        "GIT_CURL_VERBOSE",
    ]

    private func run(_ arguments: [String], in directory: String?) async throws -> Data {
        let output: ProcessRunner.Output
        do {
            output = try await ProcessRunner.run(
                git, (directory.map { ["-C", $0] } ?? []) + arguments, environment: environment, unsetting: Self.tracing,
                timeout: timeout)
        } catch {
            throw PipelineError(
                "cannot run \(git) \(arguments[0]): \(error); is git installed, and does \(cloneURL) answer within "
                    + "\(timeout)?", kind: .sourceUnavailable, underlying: error)
        }
        guard output.status == 0 else {
            // git's own words; it never prints the header, and the URL holds no credentials.
            let said = output.errorText.replacingOccurrences(of: token, with: "<token>")
            throw PipelineError(
                "git \(arguments[0]) from \(cloneURL) failed: \(said)" + Self.advice(said),
                kind: .sourceUnavailable)
        }
        return output.stdout
    }

    static func advice(_ said: String) -> String {
        if said.contains("401") || said.contains("403") || said.contains("Authentication failed") {
            return "; check that bitbucket.token is an HTTP access token with repository read on this repository"
        }
        if said.contains("certificate") {
            return "; if the server's certificate comes from a private CA, give its PEM file as bitbucket.caFile"
        }
        return ""
    }
}

extension PipelineError {
    /// Whether git said the server refused to send an object it did not advertise.
    var refusedWant: Bool {
        description.contains("not our ref") || description.contains("allowReachableSHA1InWant")
            || description.contains("allowAnySHA1InWant") || description.contains("couldn't find remote ref")
    }
}
