import StackDeploy

// dev-release's one step: the ticket branch's code into DEV's deploy bucket.

extension Pipeline {
    /// Whether `branch` is named for a ticket: `feature/<jira-key>-<short-name>`.
    static func isTicketBranch(_ branch: String) -> Bool {
        branch.wholeMatch(of: /feature\/[A-Za-z][A-Za-z0-9]*-[0-9]+(-[a-z0-9._-]+)?/) != nil
    }

    func devRelease(_ options: Options) throws -> PhaseStep {
        let dev = try config.environment("dev")
        let repository = GitRepository(path: config.directory)
        let bucket = deployBucket(dev)
        @Sendable func checkBranch() async throws -> String {
            let branch = try await repository.currentBranch() ?? "(detached HEAD)"
            guard Self.isTicketBranch(branch) else {
                throw PipelineError(
                    "branch '\(branch)' is not a ticket branch; name it feature/<jira-key>-<short-name>, "
                        + "for example feature/jira-1234-raise-heap",
                    kind: .notTicketBranch)
            }
            return branch
        }
        return PhaseStep(
            "code-releaser", writesTo: dev.name,
            plan: {
                let branch = try await checkBranch()
                let changes = try await repository.uncommittedChanges()
                return
                    "would release \(branch) (HEAD\(changes.isEmpty ? "" : " + \(changes.count) uncommitted change(s)")) "
                    + "to \(bucket.location)"
            },
            run: {
                _ = try await checkBranch()
                let manifest = try await CodeReleaser(repository: repository, baseBranch: config.baseBranch)
                    .release(.workingTree(allowUncommitted: options.allowUncommitted), to: bucket)
                return [
                    "commit": String(manifest.commit.prefix(12)), "files": "\(manifest.files.count)",
                    "bytes": "\(manifest.archive.size)", "jira": manifest.jiraKeys.joined(separator: ","),
                ]
            })
    }
}
