import Foundation
import RelayFoundation

/// A local git repository, read through the `git` command.
public struct GitRepository: Sendable {
    /// The repository's working tree.
    public let path: String
    /// The `git` executable.
    public let git: String

    /// Opens the repository at `path`.
    public init(path: String, git: String = "/usr/bin/git") {
        self.path = path
        self.git = git
    }

    /// What a commit says about itself.
    public struct CommitInfo: Sendable, Equatable {
        /// The full hash.
        public let commit: String
        /// `Name <email>`.
        public let author: String
        /// The committer date.
        public let time: Date
        /// The message.
        public let message: String
    }

    /// Runs git with `arguments` and returns its standard output.
    ///
    /// - Throws: ``ReleaseError`` with git's own message when it fails.
    @discardableResult
    public func run(_ arguments: [String]) async throws -> Data {
        let output: ProcessRunner.Output
        do {
            output = try await ProcessRunner.run(git, ["-C", path] + arguments, timeout: .seconds(300))
        } catch {
            throw ReleaseError(
                "cannot run \(git) \(arguments.first ?? ""): \(error); is git installed?", kind: .gitFailed,
                underlying: error)
        }
        guard output.status == 0 else {
            throw ReleaseError(
                "git \(arguments.joined(separator: " ")) failed in \(path): \(output.errorText)", kind: .gitFailed)
        }
        return output.stdout
    }

    func text(_ arguments: [String]) async throws -> String {
        String(decoding: try await run(arguments), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The full hash of `ref` (a branch, tag or hash).
    ///
    /// - Throws: ``ReleaseError`` naming the ref when it is not a commit here.
    public func resolve(_ ref: String) async throws -> String {
        do {
            return try await text(["rev-parse", "--verify", "--quiet", "\(ref)^{commit}"])
        } catch {
            throw ReleaseError("\(ref) is not a commit in \(path); check the hash or fetch it first", kind: .notFound)
        }
    }

    /// The checked-out branch, or nil on a detached head.
    public func currentBranch() async throws -> String? {
        let name = try? await text(["symbolic-ref", "--short", "-q", "HEAD"])
        return name.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Tracked files that differ from HEAD and untracked files that are not ignored.
    public func uncommittedChanges() async throws -> [String] {
        String(decoding: try await run(["status", "--porcelain"]), as: UTF8.self).split(separator: "\n").map {
            String($0.dropFirst(3))  // "XY path"
        }
    }

    /// A commit object holding the working tree's tracked files as they are now (HEAD itself
    /// when nothing changed). Untracked files are not included.
    public func snapshotOfWorkingTree() async throws -> String {
        let stash = try await text(["stash", "create", "atlas-relay working-tree release"])
        return stash.isEmpty ? try await resolve("HEAD") : stash
    }

    /// Author, time and message of `commit`.
    public func info(_ commit: String) async throws -> CommitInfo {
        let fields = try await text(["show", "-s", "--format=%H%x00%an <%ae>%x00%ct%x00%B", commit])
            .split(separator: "\0", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4, let seconds = TimeInterval(fields[2]) else {
            throw ReleaseError("git show \(commit) printed something unexpected", kind: .gitFailed)
        }
        return CommitInfo(
            commit: fields[0], author: fields[1], time: Date(timeIntervalSince1970: seconds), message: fields[3])
    }

    /// The messages of the commits in `commit` that `base` does not have (only `commit`'s own
    /// message when `base` is nil or unknown).
    public func messages(of commit: String, since base: String?) async throws -> [String] {
        if let base, (try? await resolve(base)) != nil {
            let log = try await text(["log", "--format=%B%x00", "\(base)..\(commit)"])
            return log.split(separator: "\0").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        }
        return [try await info(commit).message]
    }

    /// The tar archive of `commit` (`git archive --format=tar`): the same bytes every time for the
    /// same commit.
    public func archive(_ commit: String) async throws -> Data {
        try await run(["archive", "--format=tar", commit])
    }
}
