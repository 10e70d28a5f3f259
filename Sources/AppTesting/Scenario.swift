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
        guard let jira else {
            throw CheckFailed("this step needs Jira, and the run has no Jira URL", kind: .missingPrerequisite)
        }
        return jira
    }

    /// Confluence, or a failure saying the suite has none.
    public func requireConfluence() throws -> ConfluenceClient {
        guard let confluence else {
            throw CheckFailed(
                "this step needs Confluence, and the run has no Confluence URL", kind: .missingPrerequisite)
        }
        return confluence
    }

    /// A value an earlier step stored, for example the key of the issue it created.
    public func value(_ name: String) throws -> String {
        guard let value = values.withLock({ $0[name] }) else {
            throw CheckFailed(
                "no '\(name)' from an earlier step (did the step that creates it run?)", kind: .missingPrerequisite)
        }
        return value
    }

    /// Stores a value for later steps.
    public func set(_ name: String, _ value: String) { values.withLock { $0[name] = value } }

    /// Takes every value `other` holds (a load run's set-up, for each virtual user's context).
    func adoptValues(of other: TestContext) {
        let theirs = other.values.withLock { $0 }
        values.withLock { $0.merge(theirs) { _, new in new } }
    }

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

/// AppTesting's one error: a failed check or a step that could not run, with what was expected
/// and what was found. (A request that failed is AtlassianAdmin's `AtlassianError`.)
public struct CheckFailed: Error, Sendable, CustomStringConvertible {
    /// The class of failure, to switch on.
    public enum Kind: String, Sendable {
        /// A check did not hold: the application misbehaves (``check(_:_:)``).
        case unmet
        /// The step cannot run: the run has no client for the product it needs, or an earlier
        /// step did not leave the value it needs.
        case missingPrerequisite
        /// The product answered success without what it must send (a created issue's key, say).
        case malformedAnswer
    }

    /// The class of failure.
    public let kind: Kind
    /// What failed: what was expected and what was found.
    public let message: String
    /// The error underneath, when there was one.
    public let underlying: (any Error)?

    /// Creates a failure.
    ///
    /// - Parameters:
    ///   - message: what was expected and what was found; it is the whole `description`.
    ///   - kind: the class of failure; ``Kind/unmet`` by default.
    ///   - underlying: the error underneath, if any.
    public init(_ message: String, kind: Kind = .unmet, underlying: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    /// The message.
    public var description: String { message }
}

/// Fails the step with `message` unless `condition` holds.
///
/// - Throws: ``CheckFailed`` of kind ``CheckFailed/Kind/unmet``.
public func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailed(message()) }
}

/// Runs `body` until its checks hold: again after `interval` while it fails a check
/// (``CheckFailed/Kind/unmet``), for at most `within`; then the last failure stands, with how
/// long it waited. Other errors (an HTTP failure, a malformed answer) end it at once.
///
/// For what becomes true a little later, such as a search for content just written on a
/// cluster whose index replicates asynchronously.
public func eventually(
    within limit: Duration, every interval: Duration = .milliseconds(250), _ body: () async throws -> Void
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while true {
        do {
            return try await body()
        } catch let failure as CheckFailed where failure.kind == .unmet {
            guard clock.now + interval < deadline else {
                throw CheckFailed(
                    "\(failure.message) (still so after waiting \(AppTester.seconds(limit)) s)", kind: .unmet,
                    underlying: failure)
            }
            try await Task.sleep(for: interval)
        }
    }
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
