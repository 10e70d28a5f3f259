import AtlassianAdmin
import Foundation

// The reindex step: after a restore, Jira's index (in each node's local home, not in the
// database) describes the old data, so it is rebuilt once Jira is RUNNING.

extension DataRefresher {
    /// Rebuilds the Jira target's index as ``RestoreOptions/reindex`` says and waits for it,
    /// logging its progress; fails with ``DataRefreshError/Kind/reindexFailed`` when Jira reports
    /// the task unsuccessful or it does not finish within ``RestoreOptions/reindexTimeout``.
    ///
    /// Confluence is not reindexed: its REST API (Confluence Data Center 10.0's published OpenAPI)
    /// has no reindex operation; the only one, `/rest/prototype/1/index/reindex`, is private and
    /// undocumented. Rebuild Confluence's index from its administration (Content Indexing) when
    /// search matters in the target.
    func rebuildIndexes() async throws {
        let type: JiraClient.ReindexType
        switch restoreOptions.reindex {
        case .none:
            logger.info("reindex skipped (reindex: none)")
            return
        case .background: type = .background
        case .foreground: type = .foreground
        }
        if target(.confluence) != nil {
            logger.info("Confluence is not reindexed: its REST API has no public reindex operation")
        }
        guard let target = target(.jira) else { return }
        let jira = try JiraClient(baseURL: target.url, credentials: target.credentials)
        let started = try await jira.reindex(type: type)
        guard let taskId = started.taskId else {
            throw DataRefreshError(
                "Jira accepted the reindex but named no task (progressUrl \(started.progressUrl ?? "missing")); check Jira's indexing page",
                kind: .reindexFailed)
        }
        logger.info("reindex started", metadata: ["type": "\(type.rawValue)", "task": "\(taskId)"])
        let deadline = ContinuousClock.now + restoreOptions.reindexTimeout
        var last = started
        var reported = -1
        while !last.isFinished {
            guard ContinuousClock.now < deadline else {
                throw DataRefreshError(
                    "Jira's reindex (task \(taskId)) did not finish within \(restoreOptions.reindexTimeout) (at \(last.currentProgress ?? 0) %); let it finish, then re-run from the verify step (--from verify), or raise the reindex timeout",
                    kind: .reindexFailed)
            }
            try await Task.sleep(for: restoreOptions.reindexPollInterval)
            last = try await jira.reindexProgress(taskId: taskId)
            if let progress = last.currentProgress, progress != reported {
                reported = progress
                logger.info(
                    "reindex progress",
                    metadata: ["task": "\(taskId)", "percent": "\(progress)", "doing": "\(last.currentSubTask ?? "")"])
            }
        }
        guard !last.failed else {
            throw DataRefreshError(
                "Jira's reindex (task \(taskId)) failed at \(last.currentProgress ?? 0) %: \(last.currentSubTask ?? "no reason given"); Jira's search shows stale or missing issues until it is rebuilt. Check atlassian-jira.log on the node, then re-run from this step (--from reindex)",
                kind: .reindexFailed)
        }
        logger.info("reindex finished", metadata: ["task": "\(taskId)", "finished": "\(last.finishTime ?? "")"])
    }
}
