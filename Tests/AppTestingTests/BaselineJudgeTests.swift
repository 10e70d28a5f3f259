import Foundation
import Testing

@testable import AppTesting

/// The UAT gate's judgement against the baseline: noise and slowdowns within the tolerance pass,
/// a slowdown beyond it fails, on latencies drawn from fixed lognormal distributions.
struct BaselineJudgeTests {
    /// SplitMix64: the same samples on every run.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A run of `samples` requests of `action` around `medianMilliseconds` (lognormal, σ 0.4).
    static func run(_ action: String = "jmeter_view_issue", median medianMilliseconds: Double, samples: Int, seed: UInt64)
        -> PerfResult
    {
        var random = Seeded(state: seed)
        var result = PerfResult(name: "seed \(seed)")
        for _ in 0..<samples {
            // Box–Muller: one standard normal value from two uniform ones.
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &random)
            let u2 = Double.random(in: 0..<1, using: &random)
            let normal = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            let latency = medianMilliseconds * exp(0.4 * normal)
            result.record(action, microseconds: UInt64(latency * 1000), error: nil, second: 0)
        }
        return result
    }

    @Test func noisePassesAsUnchanged() {
        let judge = BaselineJudge()
        for seed in UInt64(1)...5 {
            let verdicts = judge.judge(Self.run(median: 300, samples: 2000, seed: seed + 100), against: Self.run(median: 300, samples: 2000, seed: seed))
            #expect(verdicts.map(\.outcome) == [.unchanged], "seed \(seed): \(verdicts.map(\.message))")
        }
    }

    @Test func aSlowdownBeyondTheToleranceFailsAndOneWithinItPasses() throws {
        let baseline = Self.run(median: 300, samples: 2000, seed: 7)
        let slower = Self.run(median: 390, samples: 2000, seed: 8)  // 30 % slower
        let regressed = try #require(BaselineJudge(defaultTolerance: 0.1).judge(slower, against: baseline).first)
        #expect(regressed.outcome == .regressed)
        #expect(!regressed.passed)
        #expect(try #require(regressed.pValue) < 0.05)
        #expect(try #require(regressed.probabilitySlower) > 0.6)
        #expect(abs(try #require(regressed.medianChangePercent) - 30) < 5)

        // 5 % slower: significant against no tolerance, within a 10 % one.
        let little = Self.run(median: 315, samples: 4000, seed: 9)
        #expect(BaselineJudge(defaultTolerance: 0).judge(little, against: baseline).first?.outcome == .regressed)
        #expect(BaselineJudge(defaultTolerance: 0.1).judge(little, against: baseline).first?.outcome == .unchanged)
        // A tolerance named for the action wins over the default.
        #expect(
            BaselineJudge(defaultTolerance: 0, tolerances: ["jmeter_view_issue": 0.1]).judge(little, against: baseline)
                .first?.outcome == .unchanged)
    }

    @Test func aFasterRunIsAnImprovementAndPasses() throws {
        let verdict = try #require(
            BaselineJudge().judge(Self.run(median: 200, samples: 1000, seed: 3), against: Self.run(median: 300, samples: 1000, seed: 4)).first)
        #expect(verdict.outcome == .improved)
        #expect(verdict.passed)
    }

    @Test func newMissingAndThinActionsAreReportedNotFailed() {
        var current = Self.run("jmeter_view_issue", median: 300, samples: 100, seed: 1)
        current.actions.merge(Self.run("jmeter_new_action", median: 50, samples: 100, seed: 2).actions) { $1 }
        current.actions.merge(Self.run("jmeter_thin", median: 50, samples: 5, seed: 2).actions) { $1 }
        var baseline = Self.run("jmeter_view_issue", median: 300, samples: 100, seed: 3)
        baseline.actions.merge(Self.run("jmeter_gone", median: 80, samples: 100, seed: 4).actions) { $1 }
        baseline.actions.merge(Self.run("jmeter_thin", median: 50, samples: 100, seed: 5).actions) { $1 }
        let verdicts = Dictionary(uniqueKeysWithValues: BaselineJudge().judge(current, against: baseline).map { ($0.action, $0) })
        #expect(verdicts["jmeter_new_action"]?.outcome == .new)
        #expect(verdicts["jmeter_gone"]?.outcome == .missing)
        #expect(verdicts["jmeter_thin"]?.outcome == .inconclusive)
        #expect(verdicts["jmeter_view_issue"]?.outcome == .unchanged)
        #expect(verdicts.values.allSatisfy { $0.passed })
    }
}
