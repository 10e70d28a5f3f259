import AtlassianAdmin
import Foundation
import Synchronization

/// What a step runs with: the products' clients, values earlier steps left, and the cleanup
/// of what the scenario created.
public final class TestContext: Sendable {
    /// Jira, when the suite tests it.
    public let jira: JiraClient?
    /// Confluence, when the suite tests it.
    public let confluence: ConfluenceClient?
    private let values = Mutex<[String: String]>([:])
    private let cleanups = Mutex<[(name: String, action: @Sendable () async throws -> Void)]>([])

    /// Creates a context.
    public init(jira: JiraClient? = nil, confluence: ConfluenceClient? = nil) {
        self.jira = jira
        self.confluence = confluence
    }

    /// Jira, or a failure saying the suite has none.
    public func requireJira() throws -> JiraClient {
        guard let jira else { throw CheckFailed("this step needs Jira, and the run has no Jira URL") }
        return jira
    }

    /// Confluence, or a failure saying the suite has none.
    public func requireConfluence() throws -> ConfluenceClient {
        guard let confluence else { throw CheckFailed("this step needs Confluence, and the run has no Confluence URL") }
        return confluence
    }

    /// A value an earlier step stored, for example the key of the issue it created.
    public func value(_ name: String) throws -> String {
        guard let value = values.withLock({ $0[name] }) else {
            throw CheckFailed("no '\(name)' from an earlier step (did the step that creates it run?)")
        }
        return value
    }

    /// Stores a value for later steps.
    public func set(_ name: String, _ value: String) { values.withLock { $0[name] = value } }

    /// Registers the removal of something the scenario created; cleanups run last, newest first,
    /// whether the steps passed or not.
    public func onCleanup(_ name: String, _ action: @escaping @Sendable () async throws -> Void) {
        cleanups.withLock { $0.append((name, action)) }
    }

    func takeCleanups() -> [(name: String, action: @Sendable () async throws -> Void)] {
        cleanups.withLock { list in
            defer { list.removeAll() }
            return list.reversed()
        }
    }
}

/// A failed check, with what was expected and what was found.
public struct CheckFailed: Error, Sendable, CustomStringConvertible {
    /// The message.
    public let description: String

    /// Creates a failure.
    public init(_ description: String) { self.description = description }
}

/// Fails the step with `message` unless `condition` holds.
public func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailed(message()) }
}

/// One functional check: a name, an action against the apps, and optionally a time limit.
public struct Step: Sendable {
    /// The name, as reports show it.
    public var name: String
    /// The longest the step may take; slower fails it.
    public var limit: Duration?
    /// The action; throwing fails the step.
    public var run: @Sendable (TestContext) async throws -> Void

    /// Creates a step.
    public init(_ name: String, limit: Duration? = nil, _ run: @escaping @Sendable (TestContext) async throws -> Void) {
        self.name = name
        self.limit = limit
        self.run = run
    }
}

/// Steps that belong together (create, view, edit and comment an issue): after a failed step
/// the rest are skipped, and the cleanups always run.
public struct Scenario: Sendable {
    /// The name.
    public var name: String
    /// The steps, in order.
    public var steps: [Step]

    /// Creates a scenario.
    public init(_ name: String, steps: [Step]) {
        self.name = name
        self.steps = steps
    }
}
