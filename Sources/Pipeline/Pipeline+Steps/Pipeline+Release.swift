import AtlassianAdmin
import Logging
import StackDeploy

// The code-releaser step every phase after dev-release has: release the commit (nightly) or
// promote it from the earlier phase's bucket.

extension Pipeline {
    func codeReleaser(_ phase: Phase, commit: String, options: Options) throws -> PhaseStep {
        let target = try environment(of: phase)
        let bucket = deployBucket(target)
        if let source = try source(of: phase), let required = phase.requires {
            let from = deployBucket(source)
            @Sendable func checkPassed() async throws {
                guard try await CodeReleaser.hasPassed(commit: commit, phase: required.rawValue, in: from) else {
                    throw PipelineError(
                        "\(commit.prefix(12)) has not passed \(required.rawValue) (no record in \(from.location)/passed/); "
                            + "only a commit that passed \(required.rawValue) can go to \(target.name)",
                        kind: .notPassed)
                }
            }
            return PhaseStep(
                "code-releaser", writesTo: target.name,
                plan: {
                    try await checkPassed()
                    return
                        "would promote \(commit.prefix(12)) (passed \(required.rawValue)) from \(from.location) to \(bucket.location)"
                },
                run: {
                    try await checkPassed()
                    let manifest = try await CodeReleaser.promote(
                        commit: commit, from: from, passed: required.rawValue, to: bucket,
                        allowProduction: options.confirmProduction)
                    return [
                        "files": "\(manifest.files.count)", "bytes": "\(manifest.archive.size)",
                        "jira": manifest.jiraKeys.joined(separator: ","),
                    ]
                })
        }
        let repository = GitRepository(path: config.directory)
        return PhaseStep(
            "code-releaser", writesTo: target.name,
            plan: { "would release \(commit.prefix(12)) from \(self.config.directory) to \(bucket.location)" },
            run: {
                let manifest = try await CodeReleaser(repository: repository, baseBranch: nil)
                    .release(.commit(commit), to: bucket)
                return ["files": "\(manifest.files.count)", "bytes": "\(manifest.archive.size)"]
            })
    }
}
