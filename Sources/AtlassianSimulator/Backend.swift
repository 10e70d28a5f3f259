import AWSCore
import AtlassianAdmin
import Logging

/// The simulator's database side: one store (one connection, writes in transactions), used by one
/// request at a time.
final class Backend: Sendable {
    let jira: JiraSettingsStore?
    let confluence: ConfluenceSettingsStore?
    private let lock = AsyncSemaphore(1)

    private init(jira: JiraSettingsStore?, confluence: ConfluenceSettingsStore?) {
        self.jira = jira
        self.confluence = confluence
    }

    static func open(_ configuration: AtlassianSimulator.Configuration, logger: Logger) async throws -> Backend {
        switch configuration.product {
        case .jira:
            Backend(jira: try await JiraSettingsStore.open(configuration.database, logger: logger), confluence: nil)
        case .confluence:
            Backend(
                jira: nil, confluence: try await ConfluenceSettingsStore.open(configuration.database, logger: logger))
        }
    }

    func close() async {
        await jira?.close()
        await confluence?.close()
    }

    /// Runs `body` with the Jira store, one database use at a time.
    func jira<T: Sendable>(_ body: @Sendable (JiraSettingsStore) async throws -> T) async throws -> T {
        try await lock.withPermit { try await body(self.jira!) }
    }

    /// Runs `body` with the Confluence store, one database use at a time.
    func confluence<T: Sendable>(_ body: @Sendable (ConfluenceSettingsStore) async throws -> T) async throws -> T {
        try await lock.withPermit { try await body(self.confluence!) }
    }

    func applicationLinks() async throws -> [ApplicationLink] {
        try await lock.withPermit {
            if let jira = self.jira { return try await jira.applicationLinks() }
            return try await self.confluence!.applicationLinks()
        }
    }

    func saveApplicationLink(_ link: ApplicationLink) async throws {
        try await lock.withPermit {
            if let jira = self.jira {
                try await jira.saveApplicationLink(link)
            } else {
                try await self.confluence!.saveApplicationLink(link)
            }
        }
    }

    func deleteApplicationLink(id: String) async throws -> Bool {
        try await lock.withPermit {
            if let jira = self.jira { return try await jira.deleteApplicationLink(id: id) }
            return try await self.confluence!.deleteApplicationLink(id: id)
        }
    }
}
