import Foundation
import RelayFoundation

/// `scripts/bitbucket-standin.py` running: an on-premise Bitbucket Server stand-in written from
/// Atlassian's documentation (Git over HTTPS at `/scm/<project>/<repo>.git` through git's own
/// `http-backend`, HTTP access tokens as Bearer only, HTTPS with a CA of its own).
public final class BitbucketStandIn: Sendable {
    /// `https://127.0.0.1:<port>`.
    public let baseURL: String
    /// The PEM file of the stand-in's CA.
    public let caFile: String
    /// The folder of bare repositories, `<project-lowercase>/<slug>.git`.
    public let repositories: String
    private let state: String
    private let pid: Int32

    private init(baseURL: String, caFile: String, repositories: String, state: String, pid: Int32) {
        self.baseURL = baseURL
        self.caFile = caFile
        self.repositories = repositories
        self.state = state
        self.pid = pid
    }

    /// One request the stand-in received: never the token, only whether it matched.
    public struct Request: Decodable, Sendable {
        /// GET or POST.
        public let method: String
        /// The path, without the query.
        public let path: String
        /// The query string.
        public let query: String
        /// Whether `Authorization: Bearer <token>` carried the right token.
        public let authorised: Bool
    }

    /// What it received so far, in order.
    public var requests: [Request] {
        let text = (try? String(contentsOfFile: state + "/requests.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    /// A build status the stand-in accepted.
    public struct Build: Decodable, Sendable {
        /// The path it was posted to.
        public let path: String
        /// Its body's string fields (`key`, `state`, `url`, `name`, `description`, ...).
        public let body: [String: StringOrNumber]
    }

    /// A JSON value that is a string or a number, as a build status's fields are.
    public enum StringOrNumber: Decodable, Sendable, Equatable {
        /// A string.
        case string(String)
        /// A number.
        case number(Double)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) { self = .string(text) } else {
                self = .number(try container.decode(Double.self))
            }
        }

        /// The string, if it is one.
        public var string: String? { if case .string(let text) = self { text } else { nil } }
    }

    /// The build statuses accepted so far, in order.
    public var builds: [Build] {
        let text = (try? String(contentsOfFile: state + "/builds.jsonl", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Build.self, from: Data($0.utf8)) }
    }

    /// Starts a stand-in that accepts `token` (given through its environment, never its
    /// arguments); with `legacyOnly`, it has only the older build-status API, as servers before 7.4.
    public static func start(token: String, legacyOnly: Bool = false) async throws -> BitbucketStandIn {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bitbucket-\(UUID().uuidString)").path
        let state = root + "/state"
        let repositories = root + "/repositories"
        try FileManager.default.createDirectory(atPath: repositories, withIntermediateDirectories: true)
        let script = Sandbox.repositoryRoot.appendingPathComponent("scripts/bitbucket-standin.py").path
        // Started through sh so it outlives nothing: the pid is the server's, killed at stop().
        let output = try await ProcessRunner.run(
            "/bin/sh",
            ["-c", "python3 \"$0\" \"$1\" \"$2\" $3 >\"$1.log\" 2>&1 & echo $!", script, state, repositories]
                + [legacyOnly ? "--legacy-only" : ""],
            environment: ["BITBUCKET_STANDIN_TOKEN": token], timeout: .seconds(30))
        guard let pid = Int32(String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw TestSupportError("the Bitbucket stand-in did not start: \(output.errorText)") }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: state + "/port", encoding: .utf8), let port = Int(text) {
                return BitbucketStandIn(
                    baseURL: "https://127.0.0.1:\(port)", caFile: state + "/ca.crt", repositories: repositories,
                    state: state, pid: pid)
            }
            guard kill(pid, 0) == 0 else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        let log = (try? String(contentsOfFile: state + ".log", encoding: .utf8)) ?? ""
        throw TestSupportError("the Bitbucket stand-in did not start: \(log.suffix(500))")
    }

    /// Runs `body` with a stand-in accepting `token`, then stops it whether `body` returned or threw.
    public static func with<Value>(
        token: String, legacyOnly: Bool = false, isolation: isolated (any Actor)? = #isolation,
        _ body: (BitbucketStandIn) async throws -> Value
    ) async throws -> Value {
        try await withResource(
            isolation: isolation, { try await start(token: token, legacyOnly: legacyOnly) }, cleanup: { $0.stop() },
            body: body)
    }

    /// Publishes the repository at `path` (all its branches and tags) as `<project>/<slug>` on
    /// the stand-in; publishing again brings it up to date, as a push would.
    public func publish(_ path: String, project: String, slug: String) async throws {
        let target = "\(repositories)/\(project.lowercased())/\(slug).git"
        for arguments in [["init", "-q", "--bare", target], ["-C", path, "push", "-q", "--mirror", target]] {
            let output = try await ProcessRunner.run("/usr/bin/git", arguments, timeout: .seconds(60))
            guard output.status == 0 else { throw TestSupportError("git \(arguments[0]) failed: \(output.errorText)") }
        }
    }

    /// Stops the server and removes its folders.
    public func stop() {
        // SIGKILL: a child of the test runner may start with SIGTERM blocked, and the stand-in
        // keeps nothing worth a clean exit.
        kill(pid, SIGKILL)
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: state).deletingLastPathComponent().path)
    }
}
