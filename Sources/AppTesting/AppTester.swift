import AtlassianAdmin
import Foundation
import Logging

/// One step's outcome.
public struct StepResult: Sendable, Codable, Equatable {
    /// How it ended.
    public enum Outcome: String, Sendable, Codable {
        /// It passed.
        case passed
        /// It failed (see the message).
        case failed
        /// An earlier step of its scenario failed.
        case skipped
    }

    /// The scenario.
    public var scenario: String
    /// The step (`cleanup: …` for cleanups).
    public var step: String
    /// How it ended.
    public var outcome: Outcome
    /// Why it failed or was skipped.
    public var message: String?
    /// How long it took.
    public var seconds: Double

    /// Creates a result.
    public init(scenario: String, step: String, outcome: Outcome, message: String?, seconds: Double) {
        self.scenario = scenario
        self.step = step
        self.outcome = outcome
        self.message = message
        self.seconds = seconds
    }
}

/// A suite run: every step's result.
public struct TestRun: Sendable, Codable, Equatable {
    /// The suite's name, for example `jira-functional`.
    public var name: String
    /// When it started.
    public var started: Date
    /// How long it took.
    public var seconds: Double
    /// The results, in order.
    public var results: [StepResult]

    /// Creates a run.
    public init(name: String, started: Date, seconds: Double, results: [StepResult]) {
        self.name = name
        self.started = started
        self.seconds = seconds
        self.results = results
    }

    /// Whether nothing failed or was skipped.
    public var passed: Bool { results.allSatisfy { $0.outcome == .passed } }

    /// A readable summary: one line per step that did not pass, then the totals.
    public var summary: String {
        var lines = results.filter { $0.outcome != .passed }.map {
            "\($0.outcome == .failed ? "FAILED" : "skipped") \($0.scenario) / \($0.step): \($0.message ?? "")"
        }
        let failed = results.filter { $0.outcome == .failed }.count
        lines.append(
            "\(name): \(results.count - failed - results.filter { $0.outcome == .skipped }.count) passed, "
                + "\(failed) failed, \(results.filter { $0.outcome == .skipped }.count) skipped in "
                + String(format: "%.1f s", seconds))
        return lines.joined(separator: "\n")
    }
}

/// Runs scenarios and records each step's outcome and timing. Nothing is retried: a flaky step
/// shows as failed.
public struct AppTester: Sendable {
    /// Where progress goes.
    public var logger: Logger

    /// Creates a tester.
    public init(logger: Logger = Logger(label: "atlas-relay.app-tester")) { self.logger = logger }

    /// Runs `scenarios` in order, each with a fresh context from `context`.
    public func run(_ name: String, _ scenarios: [Scenario], context: @Sendable () -> TestContext) async -> TestRun {
        let started = Date()
        let clock = ContinuousClock()
        let begin = clock.now
        var results: [StepResult] = []
        for scenario in scenarios {
            let context = context()
            var failure: String?
            for step in scenario.steps {
                if let failure {
                    results.append(
                        StepResult(
                            scenario: scenario.name, step: step.name, outcome: .skipped,
                            message: "an earlier step failed: \(failure)", seconds: 0))
                    continue
                }
                let stepStart = clock.now
                var message: String?
                do {
                    try await step.run(context)
                } catch {
                    message = "\(error)"
                }
                let took = clock.now - stepStart
                if message == nil, let limit = step.limit, took > limit {
                    message = "took \(Self.seconds(took)) s, more than the \(Self.seconds(limit)) s allowed"
                }
                results.append(
                    StepResult(
                        scenario: scenario.name, step: step.name, outcome: message == nil ? .passed : .failed,
                        message: message, seconds: Self.seconds(took)))
                logger.info(
                    "step",
                    metadata: [
                        "scenario": "\(scenario.name)", "step": "\(step.name)",
                        "outcome": "\(message == nil ? "passed" : "failed")", "seconds": "\(Self.seconds(took))",
                    ])
                if message != nil { failure = "\(step.name)" }
            }
            for cleanup in context.takeCleanups() {
                let cleanupStart = clock.now
                do {
                    try await cleanup.action()
                } catch {
                    results.append(
                        StepResult(
                            scenario: scenario.name, step: "cleanup: \(cleanup.name)", outcome: .failed,
                            message: "\(error)", seconds: Self.seconds(clock.now - cleanupStart)))
                }
            }
        }
        return TestRun(name: name, started: started, seconds: Self.seconds(clock.now - begin), results: results)
    }

    /// `duration` in seconds, to the millisecond.
    static func seconds(_ duration: Duration) -> Double {
        let value = duration.seconds
        return (value * 1000).rounded() / 1000
    }
}
