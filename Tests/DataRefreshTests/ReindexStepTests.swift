import AtlasRelayTestSupport
import AtlassianAdmin
import Foundation
import Logging
import S3Sync
import Synchronization
import Testing

@testable import DataRefresh

/// The reindex step against a Jira that answers as Jira's REST API documents it
/// (`POST /rest/api/2/reindex` → 202 and a `ReindexBean`, `GET /rest/api/2/reindex/progress?taskId=`),
/// served by a ``TestHTTPServer``.
struct ReindexStepTests {
    /// A scripted Jira: each progress poll advances the task by `step` percent; `fails` ends it
    /// unsuccessfully.
    final class FakeJira: Sendable {
        let polls = Mutex(0)
        let started = Mutex<[String]>([])
        let step: Int
        let fails: Bool

        init(step: Int = 40, fails: Bool = false) {
            self.step = step
            self.fails = fails
        }

        func bean(progress: Int, finished: Bool, type: String) -> [String: Any] {
            var bean: [String: Any] = [
                "progressUrl": "/secure/admin/jira/IndexProgress.jspa?taskId=10100", "currentProgress": progress,
                "type": type, "submittedTime": "2026-12-02T06:00:00.000+0000",
                "startTime": "2026-12-02T06:00:00.000+0000", "success": finished && !fails,
                "currentSubTask": finished && fails
                    ? "Indexing failed: index directory is not writable" : "Currently reindexing Issues",
            ]
            bean["finishTime"] = finished ? "2026-12-02T06:01:00.000+0000" : NSNull()
            return bean
        }

        func answer(_ request: RecordedRequest) -> TestResponse {
            switch (request.method, request.path) {
            case ("POST", "/rest/api/2/reindex"):
                let type =
                    request.query.split(separator: "&").first { $0.hasPrefix("type=") }.map { String($0.dropFirst(5)) }
                    ?? ""
                started.withLock { $0.append(type) }
                return .json(bean(progress: 0, finished: false, type: type), status: 202)
            case ("GET", "/rest/api/2/reindex/progress"):
                guard request.query == "taskId=10100" else { return .json(["errorMessages": ["no task"]], status: 404) }
                let progress = polls.withLock { polls in
                    polls += 1
                    return min(100, polls * step)
                }
                return .json(
                    bean(progress: progress, finished: progress >= 100, type: started.withLock { $0.last ?? "" }))
            default:
                return .text("", status: 404)
            }
        }
    }

    static func refresher(
        _ url: String, _ mode: DataRefresher.ReindexMode, log: LogRecorder, timeout: Duration = .seconds(30)
    )
        throws -> DataRefresher
    {
        DataRefresher(
            settings: EnvironmentSettings(environment: "dev"),
            targets: [
                .init(
                    name: "jira", database: try DatabaseLocation(url: "postgres://admin@127.0.0.1:9/jira"),
                    sharedHome: "/tmp/none", url: url, credentials: .token("pat-admin"))
            ],
            location: SnapshotLocation(bucket: "unused"), s3: S3Client(try Sandbox.s3AWSClient()),
            production: .init(databases: [], urls: []), workDirectory: "/tmp/none",
            restore: .init(reindex: mode, reindexTimeout: timeout, reindexPollInterval: .milliseconds(20)),
            logger: log.logger())
    }

    @Test func theStepComesRightAfterStart() {
        let steps = DataRefresher.Step.allCases
        #expect(steps.firstIndex(of: .reindex) == steps.firstIndex(of: .start)! + 1)
        #expect(DataRefresher.RestoreOptions().reindex == .background)
    }

    @Test func aBackgroundReindexIsStartedAndAwaitedWithProgressInTheLog() async throws {
        let jira = FakeJira()
        try await withTestServer({ jira.answer($0) }) { server in
            let log = LogRecorder()
            try await Self.refresher(server.baseURL, .background, log: log).rebuildIndexes()
            #expect(jira.started.withLock { $0 } == ["BACKGROUND"])
            #expect(jira.polls.withLock { $0 } == 3)  // 40, 80, 100
            for percent in ["percent=40", "percent=80", "percent=100"] {
                #expect(log.all.contains { $0.contains("reindex progress") && $0.contains(percent) }, "\(log.text)")
            }
            #expect(log.text.contains("reindex finished"))
            #expect(server.requests.allSatisfy { $0.header("Authorization") == "Bearer pat-admin" })
        }
    }

    @Test func foregroundIsAskedForAndNoneAsksNothing() async throws {
        let jira = FakeJira(step: 100)
        try await withTestServer({ jira.answer($0) }) { server in
            try await Self.refresher(server.baseURL, .foreground, log: LogRecorder()).rebuildIndexes()
            #expect(jira.started.withLock { $0 } == ["FOREGROUND"])
            let before = server.requests.count
            try await Self.refresher(server.baseURL, .none, log: LogRecorder()).rebuildIndexes()
            #expect(server.requests.count == before)
        }
    }

    @Test func anIndexErrorFailsTheStepClearly() async throws {
        let jira = FakeJira(step: 50, fails: true)
        try await withTestServer({ jira.answer($0) }) { server in
            let error = try await #require(throws: DataRefreshError.self) {
                try await Self.refresher(server.baseURL, .background, log: LogRecorder()).rebuildIndexes()
            }
            #expect(error.kind == .reindexFailed)
            #expect(
                error.description.contains("index directory is not writable") && error.description.contains("10100"))
        }
    }

    @Test func aReindexThatNeverEndsFailsAtItsTimeout() async throws {
        let jira = FakeJira(step: 0)
        try await withTestServer({ jira.answer($0) }) { server in
            let error = try await #require(throws: DataRefreshError.self) {
                try await Self.refresher(server.baseURL, .background, log: LogRecorder(), timeout: .milliseconds(300))
                    .rebuildIndexes()
            }
            #expect(error.kind == .reindexFailed && error.description.contains("did not finish"))
        }
    }

    @Test func theClientReadsTheTaskIdFromTheProgressURL() async throws {
        let jira = FakeJira(step: 100)
        try await withTestServer({ jira.answer($0) }) { server in
            let client = try JiraClient(baseURL: server.baseURL, credentials: .token("pat-admin"))
            let started = try await client.reindex(type: .backgroundPreferred)
            #expect(started.taskId == 10100 && !started.isFinished && started.finishTime == nil)
            #expect(jira.started.withLock { $0 } == ["BACKGROUND_PREFERRED"])
            let done = try await client.reindexProgress(taskId: 10100)
            #expect(done.isFinished && !done.failed && done.currentProgress == 100)
            await #expect(throws: AtlassianError.self) { try await client.reindexProgress(taskId: 1) }
        }
    }
}
