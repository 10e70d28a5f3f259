import AppTesting
import Foundation

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
