import AWSCore
import Foundation
import NIOCore
import RelayFoundation
import S3Sync

/// Puts a commit's code into a deploy bucket as a reproducible archive with a manifest, moves the
/// environment's pointer only after both are stored, and promotes a release to the next account
/// only with evidence that it passed the earlier phase.
///
/// Layout in a deploy bucket:
/// - `releases/<commit>/code.tar`: `git archive --format=tar` of the commit (same commit, same bytes);
/// - `releases/<commit>/manifest.json`: ``ReleaseManifest``;
/// - `releases/current.json`: ``ReleasePointer``, written last;
/// - `passed/<phase>/<commit>.json`: written by a phase whose tests passed (``recordPass(commit:phase:in:details:)``).
public struct CodeReleaser: Sendable {
    /// What to release.
    public enum Source: Sendable, Equatable {
        /// A commit, branch or tag.
        case commit(String)
        /// The checked-out branch as it is in the working tree (a developer's laptop release).
        /// Uncommitted changes to tracked files are refused unless allowed; untracked files are
        /// never included.
        case workingTree(allowUncommitted: Bool)
    }

    /// The repository.
    public let repository: GitRepository
    /// The branch whose commits are not searched for Jira keys (`master`); nil searches only
    /// the released commit's message.
    public let baseBranch: String?

    /// Creates a releaser for `repository`.
    public init(repository: GitRepository, baseBranch: String? = "master") {
        self.repository = repository
        self.baseBranch = baseBranch
    }

    /// Releases `source` into `target` and moves its pointer.
    ///
    /// - Parameters:
    ///   - source: a commit, or the working tree (with or without its uncommitted changes).
    ///   - target: the deploy bucket the archive, the manifest and then the pointer go to.
    ///   - allowProduction: must be true to write to a PROD bucket.
    /// - Returns: the manifest of the release.
    /// - Throws: ``ReleaseError`` for an unknown commit, a dirty working tree, a PROD bucket
    ///   without permission or credentials of the wrong account, before anything is written.
    @discardableResult
    public func release(_ source: Source, to target: DeployBucket, allowProduction: Bool = false) async throws
        -> ReleaseManifest
    {
        try await Self.checkWritable(target, allowProduction: allowProduction)
        let branch = try await repository.currentBranch()
        var commit: String
        var baseCommit: String?
        switch source {
        case .commit(let ref):
            commit = try await repository.resolve(ref)
        case .workingTree(let allowUncommitted):
            let changes = try await repository.uncommittedChanges()
            if !changes.isEmpty && !allowUncommitted {
                throw ReleaseError(
                    "the working tree has uncommitted changes (\(changes.prefix(5).joined(separator: ", "))"
                        + (changes.count > 5 ? ", …" : "")
                        + "); commit them, or allow uncommitted changes for a DEV release",
                    kind: .refused)
            }
            let head = try await repository.resolve("HEAD")
            commit = try await repository.snapshotOfWorkingTree()
            if commit != head { baseCommit = head }
        }
        let info = try await repository.info(baseCommit ?? commit)
        let archive = try await repository.archive(commit)
        let messages = try await repository.messages(of: baseCommit ?? commit, since: baseBranch)
        let manifest = try Self.manifest(
            commit: commit, baseCommit: baseCommit, branch: branch,
            jiraKeys: Self.jiraKeys(branch: branch, messages: messages), info: info, archive: archive)
        try await Self.store(manifest, archive: archive, in: target)
        return manifest
    }

    /// Copies the release of `commit` from `source` to `target`, after checking that `source`
    /// holds evidence that it passed `phase` and that the archive matches its manifest byte for byte.
    ///
    /// - Throws: ``ReleaseError`` for an unknown or unpassed commit, a damaged archive, a PROD
    ///   bucket without permission or the wrong account, before anything is written.
    @discardableResult
    public static func promote(
        commit: String, from source: DeployBucket, passed phase: String, to target: DeployBucket,
        allowProduction: Bool = false
    ) async throws -> ReleaseManifest {
        try await checkWritable(target, allowProduction: allowProduction)
        let release = try await verifiedRelease(of: commit, in: source)
        guard try await hasPassed(commit: commit, phase: phase, in: source) else {
            throw ReleaseError(
                "\(commit) has no record of passing \(phase) (\(source.location)/\(passKey(commit, phase: phase))); "
                    + "only a commit that passed \(phase) can be promoted", kind: .refused)
        }
        let manifest = release.manifest
        let archive = release.archive
        try await store(manifest, archive: archive, in: target)
        return manifest
    }

    /// Whether `bucket` holds the evidence that `commit` passed `phase`.
    public static func hasPassed(commit: String, phase: String, in bucket: DeployBucket) async throws -> Bool {
        try await bucket.s3.headObject(bucket: bucket.bucket, key: passKey(commit, phase: phase)) != nil
    }

    /// The manifest of `commit`'s release in `bucket`, or nil when it was never released there.
    ///
    /// - Throws: ``ReleaseError`` when the object is not a release manifest.
    public static func manifest(of commit: String, in bucket: DeployBucket) async throws -> ReleaseManifest? {
        guard let data = try await bucket.s3.getObjectData(bucket: bucket.bucket, key: manifestKey(commit)) else {
            return nil
        }
        do {
            return try decoder.decode(ReleaseManifest.self, from: data)
        } catch {
            throw ReleaseError(
                "\(bucket.location)/\(manifestKey(commit)) is not a release manifest: \(error)", kind: .damaged,
                underlying: error)
        }
    }

    /// Writes the evidence that `commit` passed `phase` into `bucket`.
    public static func recordPass(
        commit: String, phase: String, in bucket: DeployBucket, details: [String: String] = [:]
    ) async throws {
        var record = details
        record["commit"] = commit
        record["phase"] = phase
        record["passedAt"] = Date().formatted(.iso8601)
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .prettyPrinted])
        try await bucket.s3.putObject(
            bucket: bucket.bucket, key: passKey(commit, phase: phase), data: ByteBuffer(bytes: data),
            options: .init(contentType: "application/json"))
    }

    /// The release an environment's bucket points at, or nil before the first release.
    public static func current(in bucket: DeployBucket) async throws -> ReleasePointer? {
        guard let data = try await bucket.s3.getObjectData(bucket: bucket.bucket, key: pointerKey) else { return nil }
        return try decoder.decode(ReleasePointer.self, from: data)
    }

    // MARK: - Pieces

    static let pointerKey = "releases/current.json"
    static func manifestKey(_ commit: String) -> String { "releases/\(commit)/manifest.json" }
    static func archiveKey(_ commit: String) -> String { "releases/\(commit)/code.tar" }
    static func passKey(_ commit: String, phase: String) -> String { "passed/\(phase)/\(commit).json" }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    static func checkWritable(_ target: DeployBucket, allowProduction: Bool) async throws {
        if target.isProduction && !allowProduction {
            throw ReleaseError(
                "\(target.location) is a PROD deploy bucket; releasing there must be allowed explicitly (the go-live phase)",
                kind: .refused)
        }
        if let expected = target.expectedAccount {
            let identity = try await STSClient(target.s3.aws).getCallerIdentity()
            guard identity.account == expected else {
                throw ReleaseError(
                    "the credentials for \(target.location) belong to account \(identity.account), not \(expected); "
                        + "check the profile or role for this environment", kind: .refused)
            }
        }
    }

    /// Jira keys: the branch's (`feature/jira-1234-short-name` → `JIRA-1234`) first, then those
    /// in the messages, each once.
    static func jiraKeys(branch: String?, messages: [String]) -> [String] {
        var keys: [String] = []
        func add(_ key: String) { if !keys.contains(key) { keys.append(key) } }
        if let last = branch?.split(separator: "/").last,
            let match = last.firstMatch(of: /^([A-Za-z][A-Za-z0-9]*)-([0-9]+)/)
        {
            add("\(match.1.uppercased())-\(match.2)")
        }
        for message in messages {
            for match in message.matches(of: /\b([A-Z][A-Z0-9]+)-([0-9]+)\b/) { add("\(match.1)-\(match.2)") }
        }
        return keys
    }

    static func manifest(
        commit: String, baseCommit: String?, branch: String?, jiraKeys: [String], info: GitRepository.CommitInfo,
        archive: Data
    ) throws -> ReleaseManifest {
        ReleaseManifest(
            commit: commit, baseCommit: baseCommit, branch: branch, jiraKeys: jiraKeys, author: info.author,
            time: info.time, files: try files(of: archive),
            archive: .init(key: archiveKey(commit), size: archive.count, sha256: Hex.sha256(archive)),
            toolVersion: AtlasRelayVersion.current)
    }

    /// Every file in a tar archive with its size and SHA-256, sorted by path.
    static func files(of archive: Data) throws -> [ReleaseManifest.File] {
        try TarArchive.entries(archive).map { entry in
            ReleaseManifest.File(
                path: entry.path, size: entry.content.count, sha256: Hex.sha256(entry.content),
                symlink: entry.isSymlink ? true : nil)
        }.sorted { $0.path < $1.path }
    }

    /// Checks an archive against its manifest: its own SHA-256 and every file's.
    static func verify(_ archive: Data, against manifest: ReleaseManifest, at location: String) throws {
        let digest = Hex.sha256(archive)
        guard digest == manifest.archive.sha256 else {
            throw ReleaseError(
                "\(location)/\(manifest.archive.key) has SHA-256 \(digest), its manifest says \(manifest.archive.sha256); "
                    + "the release was changed or damaged after it was made, so it is not promoted", kind: .damaged)
        }
        guard try files(of: archive) == manifest.files else {
            throw ReleaseError(
                "the files in \(location)/\(manifest.archive.key) do not match its manifest", kind: .damaged)
        }
    }

    /// Stores archive, then manifest, then the pointer: a reader never sees a pointer to a
    /// release that is not complete.
    static func store(_ manifest: ReleaseManifest, archive: Data, in target: DeployBucket) async throws {
        let s3 = target.s3
        try await s3.putObject(
            bucket: target.bucket, key: manifest.archive.key, data: ByteBuffer(bytes: archive),
            options: .init(contentType: "application/x-tar"))
        try await s3.putObject(
            bucket: target.bucket, key: manifestKey(manifest.commit),
            data: ByteBuffer(bytes: try encoder.encode(manifest)),
            options: .init(contentType: "application/json"))
        let pointer = ReleasePointer(
            commit: manifest.commit, manifest: manifestKey(manifest.commit), archiveSHA256: manifest.archive.sha256,
            releasedAt: Date())
        try await s3.putObject(
            bucket: target.bucket, key: pointerKey, data: ByteBuffer(bytes: try encoder.encode(pointer)),
            options: .init(contentType: "application/json"))
    }
}
