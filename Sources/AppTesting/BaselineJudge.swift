import Foundation

/// Judges each action of a load run against the same action of a baseline run (the release in
/// PROD, usually), as Atlassian's performance judges do: a one-sided Mann–Whitney U test of
/// whether this run is slower than the baseline by more than a tolerance.
///
/// An action regressed when its latencies, each lowered by `tolerance × the baseline's median`,
/// are still stochastically greater than the baseline's at significance ``alpha``. So noise
/// passes (no significant difference), a real slowdown within the tolerance passes (it is
/// significant only before the allowance), and a slowdown beyond it fails. The latencies are
/// the runs' histograms (3 significant digits): the test counts ties at that resolution.
public struct BaselineJudge: Sendable, Codable, Equatable {
    /// The significance level (DCAPT and Atlassian's judges: 0.05).
    public var alpha: Double
    /// The slowdown allowed for an action not named in ``tolerances``, as a share of the
    /// baseline's median (0.1: 10 % slower passes).
    public var defaultTolerance: Double
    /// The allowed slowdown per action name.
    public var tolerances: [String: Double]
    /// Fewer samples than this on either side make an action inconclusive (reported, not failed).
    public var minimumSamples: Int

    /// Creates a judge.
    public init(
        alpha: Double = 0.05, defaultTolerance: Double = 0.1, tolerances: [String: Double] = [:],
        minimumSamples: Int = 20
    ) {
        self.alpha = alpha
        self.defaultTolerance = defaultTolerance
        self.tolerances = tolerances
        self.minimumSamples = minimumSamples
    }

    /// The tolerance for `action`.
    public func tolerance(for action: String) -> Double { tolerances[action] ?? defaultTolerance }

    /// Each action of `result` and of `baseline`, by name.
    public func judge(_ result: PerfResult, against baseline: PerfResult) -> [BaselineVerdict] {
        Set(result.actions.keys).union(baseline.actions.keys).sorted().map { name in
            judge(name, result.actions[name], against: baseline.actions[name])
        }
    }

    func judge(_ name: String, _ current: ActionStats?, against base: ActionStats?) -> BaselineVerdict {
        let tolerance = tolerance(for: name)
        var verdict = BaselineVerdict(
            action: name, outcome: .inconclusive, tolerance: tolerance, alpha: alpha,
            baselineMedian: base.map { $0.milliseconds(at: 50) }, median: current.map { $0.milliseconds(at: 50) },
            baselineSamples: base?.samples ?? 0, samples: current?.samples ?? 0)
        guard let current, current.samples > 0 else {
            verdict.outcome = .missing
            return verdict
        }
        guard let base, base.samples > 0 else {
            verdict.outcome = .new
            return verdict
        }
        guard current.samples >= minimumSamples && base.samples >= minimumSamples else { return verdict }
        do {
            // Histogram units are microseconds.
            let allowance = tolerance * Double(base.histogram.median)
            let slower = try MannWhitneyU(
                current.histogram, base.histogram, shiftingFirstBy: -allowance, alternative: .greater)
            let faster = try MannWhitneyU(current.histogram, base.histogram, alternative: .less)
            verdict.pValue = slower.pValue
            verdict.probabilitySlower = faster.probabilityOfSuperiority
            verdict.outcome =
                slower.pValue < alpha ? .regressed : faster.pValue < alpha ? .improved : .unchanged
        } catch {
            verdict.outcome = .inconclusive
        }
        return verdict
    }
}

/// One action judged against its baseline.
public struct BaselineVerdict: Sendable, Codable, Equatable {
    /// What the judge found.
    public enum Outcome: String, Sendable, Codable {
        /// Slower than the baseline by more than the tolerance, significantly: fails the gate.
        case regressed
        /// No significant slowdown beyond the tolerance, and no significant speed-up.
        case unchanged
        /// Significantly faster than the baseline.
        case improved
        /// The baseline has no samples of the action (a new action): nothing to judge.
        case new
        /// The baseline has the action and this run has no samples of it.
        case missing
        /// Too few samples on one side to judge.
        case inconclusive
    }

    /// The action.
    public var action: String
    /// The verdict.
    public var outcome: Outcome
    /// The slowdown allowed, as a share of the baseline's median.
    public var tolerance: Double
    /// The significance level.
    public var alpha: Double
    /// The baseline's median latency (ms).
    public var baselineMedian: Double?
    /// This run's median latency (ms).
    public var median: Double?
    /// The baseline's samples.
    public var baselineSamples: Int
    /// This run's samples.
    public var samples: Int
    /// The p-value of "slower by more than the tolerance" (one-sided Mann–Whitney U).
    public var pValue: Double?
    /// The effect size: the probability that a request of this run is slower than one of the
    /// baseline (ties one half); 0.5 when the two are alike.
    public var probabilitySlower: Double?

    /// Whether the gate passes on this action (all but ``Outcome/regressed``).
    public var passed: Bool { outcome != .regressed }

    /// The change of the median, in percent of the baseline's.
    public var medianChangePercent: Double? {
        guard let baselineMedian, let median, baselineMedian > 0 else { return nil }
        return (median - baselineMedian) / baselineMedian * 100
    }

    /// One line for logs and gate messages.
    public var message: String {
        let medians =
            switch (baselineMedian, median) {
            case let (base?, now?):
                String(format: "median %.1f ms against %.1f ms", now, base)
                    + (medianChangePercent.map { String(format: " (%+.1f %%)", $0) } ?? "")
            case let (nil, now?): String(format: "median %.1f ms, no baseline", now)
            case let (base?, nil): String(format: "no samples, the baseline's median %.1f ms", base)
            case (nil, nil): "no samples"
            }
        let test =
            pValue.map {
                String(
                    format: "; p = %.3g for slower by over %.0f %% (α %.2g), P(slower) %.2f", $0, tolerance * 100,
                    alpha, probabilitySlower ?? 0.5)
            } ?? (outcome == .inconclusive ? "; fewer samples than the judge needs" : "")
        return "\(action) \(outcome.rawValue): \(medians)\(test)"
    }
}
