import Foundation
import Logging
import RelayFoundation

/// Runs a phase's steps in order: stops at the first failure (the rest are skipped), honours
/// `--only` and `--skip`, prints plans instead on a dry run, and applies the PROD guard before
/// anything runs.
public struct PhaseRunner: Sendable {
    /// Which steps run.
    public struct Selection: Sendable, Equatable {
        /// Only these (empty: all).
        public var only: [String]
        /// Not these.
        public var skip: [String]

        /// Creates a selection.
        public init(only: [String] = [], skip: [String] = []) {
            self.only = only
            self.skip = skip
        }
    }

    /// The phase.
    public var phase: Phase
    /// The commit.
    public var commit: String
    /// The environment worked on.
    public var environment: String
    /// The PROD guard.
    public var guard_: ProductionGuard
    /// Where progress goes.
    public var logger: Logger

    /// Creates a runner.
    public init(
        phase: Phase, commit: String, environment: String, guard guard_: ProductionGuard,
        logger: Logger = Logger(label: "atlas-relay.pipeline")
    ) {
        self.phase = phase
        self.commit = commit
        self.environment = environment
        self.guard_ = guard_
        self.logger = logger
    }

    /// Runs `steps`.
    ///
    /// - Throws: ``PipelineError`` for an unknown step name in the selection or a PROD write
    ///   the guard refuses, before any step runs. Step failures are in the report, not thrown.
    public func run(_ steps: [PhaseStep], selection: Selection = .init(), dryRun: Bool = false) async throws
        -> RunReport
    {
        let names = steps.map(\.name)
        for name in selection.only + selection.skip where !names.contains(name) {
            throw PipelineError(
                "\(phase.rawValue) has no step '\(name)' (steps: \(names.joined(separator: ", ")))", kind: .unknownStep)
        }
        let chosen = steps.filter {
            (selection.only.isEmpty || selection.only.contains($0.name)) && !selection.skip.contains($0.name)
        }
        if !dryRun {
            for step in chosen {
                if let target = step.writesTo { try guard_.check(phase: phase, writingTo: target, step: step.name) }
            }
        }
        let started = Date()
        var report = RunReport(
            phase: phase, commit: commit, environment: environment, started: started, seconds: 0, dryRun: dryRun,
            steps: [])
        var failed: String?
        for step in steps {
            var record = RunReport.Step(name: step.name, outcome: .skipped, seconds: 0, figures: [:])
            if !chosen.contains(where: { $0.name == step.name }) {
                record.message = "not selected"
            } else if let failed {
                record.message = "\(failed) failed"
            } else {
                let clock = ContinuousClock()
                let begin = clock.now
                record.started = Date()
                logger.info("step started", metadata: ["phase": "\(phase.rawValue)", "step": "\(step.name)"])
                do {
                    if dryRun {
                        record.message = try await step.plan()
                        record.outcome = .planned
                    } else {
                        record.figures = try await step.run()
                        record.outcome = .passed
                    }
                } catch {
                    record.outcome = .failed
                    record.message = "\(error)"
                    if let failure = error as? StepFailed { record.figures = failure.figures }
                    failed = step.name
                }
                record.finished = Date()
                record.seconds = (clock.now - begin).seconds
                logger.log(
                    level: record.outcome == .failed ? .error : .info, "step \(record.outcome.rawValue)",
                    metadata: [
                        "phase": "\(phase.rawValue)", "step": "\(step.name)",
                        "seconds": "\(String(format: "%.1f", record.seconds))",
                    ].merging(record.figures.mapValues { .string($0) }) { old, _ in old }
                        .merging(record.outcome == .failed ? ["error": "\(record.message ?? "")"] : [:]) { old, _ in old
                        })
            }
            report.steps.append(record)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}
