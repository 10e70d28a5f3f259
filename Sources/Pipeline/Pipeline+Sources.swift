import Foundation
import Logging
import StackDeploy

/// Where a phase's code and config come from when it runs without a checkout: the Bitbucket
/// Server repository (nightly) or the verified release that passed (uat, go-live).
extension Pipeline {
    /// Fetches the repository from the Bitbucket Server of the config's `bitbucket` section at
    /// `commit` (nil: the head of `baseBranch` on the server; a branch name: its head) into
    /// `<workDirectory>/source/<commit>`, and loads the `pipeline.yml` there: the phase then
    /// runs on the commit's own config, templates and scripts, never on a checkout's.
    ///
    /// The token is read by reference in the account of `phase`'s environment.
    ///
    /// - Parameters:
    ///   - phase: the phase (its environment's account reads the token).
    ///   - commit: a full hash, a branch name, or nil for the base branch.
    ///   - workDirectory: where the checkout goes.
    ///   - configName: the config's path inside the repository.
    /// - Returns: the commit and the config loaded from its checkout.
    /// - Throws: ``PipelineError`` (``PipelineError/Kind/incompleteConfig`` without
    ///   `bitbucket.project` and `bitbucket.repository`, ``PipelineError/Kind/sourceUnavailable``,
    ///   ``PipelineError/Kind/unknownCommit``, ``PipelineError/Kind/secretUnavailable``) and
    ///   ``PipelineConfigError`` for the commit's own config.
    public func fetchSource(
        for phase: Phase, commit: String?, workDirectory: String, configName: String = "pipeline.yml"
    ) async throws -> (commit: String, config: PipelineConfig) {
        guard let bitbucket = config.bitbucket, let project = bitbucket.project, let repository = bitbucket.repository
        else {
            throw PipelineError(
                "fetching the repository needs bitbucket.url, bitbucket.token, bitbucket.project and "
                    + "bitbucket.repository in the pipeline config", kind: .incompleteConfig)
        }
        let token = try await secrets(try environment(of: phase)).resolve(bitbucket.token)
        let source = try BitbucketSource(
            url: bitbucket.url, project: project, repository: repository, token: token,
            caFile: bitbucket.caFile.map(config.path))
        let wanted = commit ?? config.baseBranch
        let resolved = BitbucketSource.isFullHash(wanted) ? wanted.lowercased() : try await source.head(of: wanted)
        let directory = URL(fileURLWithPath: workDirectory).appendingPathComponent("source")
            .appendingPathComponent(resolved).standardized.path
        logger.info(
            "fetching the repository", metadata: ["from": "\(source.cloneURL)", "commit": "\(resolved)", "into": "\(directory)"])
        let checkout = try await source.checkout(resolved, into: directory)
        return (resolved, try Self.ownConfig(in: checkout.path, named: configName, of: "commit \(resolved)"))
    }

    /// Reads `commit`'s release from the deploy bucket `phase` promotes from (DEV's for uat,
    /// UAT's for go-live), verified against its manifest, writes its files into
    /// `<workDirectory>/release/<commit>` and loads the `pipeline.yml` there: uat and go-live then
    /// run on the config, stack list and templates of the commit that passed, with no repository.
    ///
    /// - Parameters:
    ///   - phase: uat or go-live.
    ///   - commit: the full hash.
    ///   - workDirectory: where the release's files go.
    ///   - configName: the config's path inside the repository.
    /// - Returns: the config loaded from the release.
    /// - Throws: ``PipelineError`` (``PipelineError/Kind/unknownStep`` for a phase that does not
    ///   promote, ``PipelineError/Kind/unknownCommit`` for a hash that is not full,
    ///   ``PipelineError/Kind/incompleteConfig`` when the release holds no config),
    ///   `ReleaseError` when the release is missing or damaged, ``PipelineConfigError`` for its config.
    public func fetchRelease(
        for phase: Phase, commit: String, workDirectory: String, configName: String = "pipeline.yml"
    ) async throws -> PipelineConfig {
        guard let from = try source(of: phase) else {
            throw PipelineError("\(phase.rawValue) does not run from a release; only uat and go-live do", kind: .unknownStep)
        }
        guard BitbucketSource.isFullHash(commit) else {
            throw PipelineError(
                "'\(commit)' is not a full 40-character commit hash; a release is found by its full hash", kind: .unknownCommit)
        }
        let commit = commit.lowercased()
        let bucket = deployBucket(from)
        let release = try await CodeReleaser.verifiedRelease(of: commit, in: bucket)
        let directory = URL(fileURLWithPath: workDirectory).appendingPathComponent("release")
            .appendingPathComponent(commit).standardized.path
        logger.info(
            "running on the release", metadata: ["from": "\(bucket.location)", "commit": "\(commit)", "into": "\(directory)"])
        try release.write(to: directory)
        return try Self.ownConfig(
            in: directory, named: configName, of: "release \(commit.prefix(12)) in \(bucket.location)")
    }

    /// The config `configName` in `directory` (a checkout or a release, `what` in messages),
    /// loaded and checked, with no path in it that leaves that folder.
    ///
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/incompleteConfig`` when it is
    ///   missing or a path leaves the folder; ``PipelineConfigError`` for the file itself.
    static func ownConfig(in directory: String, named configName: String, of what: String) throws -> PipelineConfig {
        let file = URL(fileURLWithPath: directory).appendingPathComponent(configName).path
        guard FileManager.default.fileExists(atPath: file) else {
            throw PipelineError(
                "\(what) has no \(configName); the phase runs on its own config", kind: .incompleteConfig)
        }
        return try standingAlone(try PipelineConfig.load(file))
    }

    /// `config`, when no path in it leaves its folder: a checkout or release lives in a work
    /// folder of its own, where `../homes/jira` would name a different place than beside the
    /// repository (a shared home that reads as empty, or is written in the wrong place).
    ///
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/incompleteConfig`` naming the key.
    static func standingAlone(_ config: PipelineConfig) throws -> PipelineConfig {
        var paths: [(String, String)] = []
        for (name, environment) in config.environments.sorted(by: { $0.key < $1.key }) {
            for (product, application) in (environment.applications ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let home = application.sharedHome { paths.append(("environments.\(name).applications.\(product).sharedHome", home)) }
            }
        }
        if let caFile = config.bitbucket?.caFile { paths.append(("bitbucket.caFile", caFile)) }
        for (key, path) in paths where !path.hasPrefix("/") && path.split(separator: "/").contains("..") {
            throw PipelineError(
                "\(key) '\(path)' leaves the repository; the phase runs on a copy of it in a folder of its own, "
                    + "so give an absolute path", kind: .incompleteConfig)
        }
        return config
    }
}
