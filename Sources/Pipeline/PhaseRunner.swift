import AppTesting
import AtlassianAdmin
import Foundation
import Logging

/// A pipeline failure with what to do about it.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is, to switch on.
    public enum Kind: Sendable, Hashable {
        /// A phase other than go-live would write to PROD.
        case productionWriteOutsideGoLive
        /// go-live would write to PROD without `--confirm-prod`.
        case productionWriteUnconfirmed
        /// A step would write to an environment that names PROD's resources (see ``conflicts``).
        case productionResourceShared
        /// Anything else: the description says what.
        case other
    }

    /// What kind of failure it is.
    public let kind: Kind
    /// What went wrong and what to do.
    public let description: String
    /// For ``Kind/productionResourceShared``: the environment's resources that are PROD's.
    public let conflicts: [ResourceIdentity.Conflict]

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - description: what went wrong and what to do.
    ///   - kind: the kind, ``Kind/other`` by default.
    ///   - conflicts: the PROD resources involved, if any.
    public init(_ description: String, kind: Kind = .other, conflicts: [ResourceIdentity.Conflict] = []) {
        self.description = description
        self.kind = kind
        self.conflicts = conflicts
    }
}

/// The pipeline's phases.
public enum Phase: String, Sendable, CaseIterable, Codable {
    /// A developer's branch into DEV's deploy bucket.
    case devRelease = "dev-release"
    /// Nightly integration in DEV.
    case nightly
    /// User acceptance in UAT.
    case uat
    /// Go-live in PROD.
    case goLive = "go-live"

    /// The phase whose passed record this phase's promotion needs.
    public var requires: Phase? {
        switch self {
        case .devRelease, .nightly: nil
        case .uat: .nightly
        case .goLive: .uat
        }
    }
}

/// One step of a phase: a named component (`data-refresher`, `cold-deployer`, …) that can tell
/// what it would do and do it.
public struct PhaseStep: Sendable {
    /// The component's name.
    public var name: String
    /// Whether it writes to an environment (then the PROD guard applies).
    public var writesTo: String?
    /// What it would do, for `--dry-run`; reads only.
    public var plan: @Sendable () async throws -> String
    /// Does it and returns key figures (bytes synced, stacks updated, tests passed, …).
    /// A step whose checks fail throws ``StepFailed`` with its figures.
    public var run: @Sendable () async throws -> [String: String]

    /// Creates a step.
    public init(
        _ name: String, writesTo: String? = nil, plan: @escaping @Sendable () async throws -> String,
        run: @escaping @Sendable () async throws -> [String: String]
    ) {
        self.name = name
        self.writesTo = writesTo
        self.plan = plan
        self.run = run
    }
}

/// A step that ran and found failures (tests failed, a gate missed), with what it measured.
public struct StepFailed: Error, Sendable, CustomStringConvertible {
    /// Why.
    public let description: String
    /// What it measured.
    public let figures: [String: String]

    /// Creates the failure.
    public init(_ description: String, figures: [String: String] = [:]) {
        self.description = description
        self.figures = figures
    }
}

/// What a phase run did, step by step: for people (``text``), machines (JSON) and CodeBuild
/// (JUnit XML).
public struct RunReport: Sendable, Codable, Equatable {
    /// One step's record.
    public struct Step: Sendable, Codable, Equatable {
        /// How it ended.
        public enum Outcome: String, Sendable, Codable {
            /// It did its work.
            case passed
            /// It failed (the phase stops here).
            case failed
            /// It did not run: an earlier step failed, or `--only`/`--skip` left it out.
            case skipped
            /// `--dry-run`: its plan was printed.
            case planned
        }

        /// The component.
        public var name: String
        /// When it started.
        public var started: Date?
        /// When it finished.
        public var finished: Date?
        /// How it ended.
        public var outcome: Outcome
        /// Seconds it took.
        public var seconds: Double
        /// Key figures.
        public var figures: [String: String]
        /// The failure, the reason for skipping, or the plan.
        public var message: String?
    }

    /// The phase.
    public var phase: Phase
    /// The commit the phase ran for.
    public var commit: String
    /// The environment it worked on.
    public var environment: String
    /// When it started.
    public var started: Date
    /// Seconds it took.
    public var seconds: Double
    /// Whether it was a dry run.
    public var dryRun: Bool
    /// The steps in order.
    public var steps: [Step]

    /// Whether every step that was meant to run passed.
    public var passed: Bool { !steps.contains { $0.outcome == .failed } }

    /// A summary for people.
    public var text: String {
        var lines = ["\(phase.rawValue) \(commit.prefix(12)) in \(environment)\(dryRun ? " (dry run)" : "")"]
        for step in steps {
            let figures = step.figures.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            var line =
                "  \(step.outcome.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) "
                + step.name.padding(toLength: 16, withPad: " ", startingAt: 0)
            if step.outcome == .passed || step.outcome == .failed { line += String(format: " %7.1f s", step.seconds) }
            if !figures.isEmpty { line += "  " + figures }
            lines.append(line)
            if let message = step.message {
                lines.append(
                    contentsOf: message.split(separator: "\n", omittingEmptySubsequences: false).map {
                        "           \($0)"
                    })
            }
        }
        lines.append(
            dryRun
                ? "dry run: nothing was changed"
                : "\(phase.rawValue) \(passed ? "PASSED" : "FAILED") in \(String(format: "%.1f", seconds)) s")
        return lines.joined(separator: "\n")
    }

    /// The report as JUnit XML for CodeBuild (one test case per step), through AppTesting's writer.
    public var junit: String {
        let results = steps.map { step in
            let outcome: StepResult.Outcome =
                switch step.outcome {
                case .passed, .planned: .passed
                case .failed: .failed
                case .skipped: .skipped
                }
            return StepResult(
                scenario: phase.rawValue, step: step.name, outcome: outcome, message: step.message,
                seconds: step.seconds)
        }
        return Reports.junit(runs: [TestRun(name: phase.rawValue, started: started, seconds: seconds, results: results)]
        )
    }

    /// Writes `<phase>-<commit>.json` and `.xml` into `directory`; returns their paths.
    @discardableResult
    public func write(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let base = URL(fileURLWithPath: directory).appendingPathComponent("\(phase.rawValue)-\(commit.prefix(12))")
        let json = base.appendingPathExtension("json")
        let xml = base.appendingPathExtension("xml")
        try Reports.json(self).write(to: json)
        try Data(junit.utf8).write(to: xml)
        return [json.path, xml.path]
    }
}

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
            throw PipelineError("\(phase.rawValue) has no step '\(name)' (steps: \(names.joined(separator: ", ")))")
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
