import Foundation
import Testing

@testable import AppTesting

/// Load split across generators: the merged result has the percentiles of one generator that
/// had recorded every sample, overall and in every 10-second window.
struct PerfMergeTests {
    @Test(arguments: [2, 3, 7])
    func theMergedPercentilesOfNGeneratorsAreThoseOfOne(_ generators: Int) throws {
        var random = BaselineJudgeTests.Seeded(state: UInt64(generators))
        var one = PerfResult(name: "one")
        var split = (0..<generators).map { PerfResult(name: "generator \($0 + 1) of \(generators)") }
        let actions = ["jmeter_view_issue", "jmeter_search_jql", "jmeter_create_issue"]
        for index in 0..<30_000 {
            let action = actions[index % actions.count]
            let micros = UInt64.random(in: 2_000...2_000_000, using: &random)
            let second = Int.random(in: 0..<95, using: &random)
            let error = index % 97 == 0 ? "HTTP 500" : nil
            one.record(action, microseconds: micros, error: error, second: second)
            split[Int.random(in: 0..<generators, using: &random)]
                .record(action, microseconds: micros, error: error, second: second)
        }
        let merged = try #require(PerfResult.merged(split))
        #expect(merged.generators == generators)
        for action in actions {
            let whole = try #require(one.actions[action])
            let parts = try #require(merged.actions[action])
            #expect(parts.histogram == whole.histogram)
            #expect(parts.samples == whole.samples && parts.errors == whole.errors)
            for percentile in [50.0, 90, 95, 99, 99.9] {
                #expect(parts.milliseconds(at: percentile) == whole.milliseconds(at: percentile))
            }
        }
        #expect(merged.timeline == one.timeline)
        #expect(merged.windows.count == 10)
        for (index, window) in merged.windows.enumerated() {
            #expect(window.latencies == one.windows[index].latencies, "window \(index)")
            #expect(window.errors == one.windows[index].errors)
            for action in actions {
                #expect(window.milliseconds(action, at: 90) == one.windows[index].milliseconds(action, at: 90))
            }
        }
    }

    @Test func aWindowsPercentileIsTheHistogramsAtItsResolution() throws {
        var result = PerfResult(name: "windows")
        for value in 1...1000 { result.record("a", microseconds: UInt64(value) * 1000, error: nil, second: 3) }
        for _ in 0..<10 { result.record("a", microseconds: 50_000, error: "timeout", second: 12, activeUsers: 4) }
        #expect(result.windows.count == 2)
        let p90 = try #require(result.windows[0].milliseconds("a", at: 90))
        #expect(abs(p90 - 900) <= 0.5)
        #expect(result.windows[0].samples == 1000 && result.windows[1].errors == 10)
        #expect(result.windows[1].activeUsers == 4 && result.peakUsers == 4)
        #expect(result.windows[0].milliseconds("b", at: 50) == nil)
        // Archived and read back whole.
        let back = try PerfResult(archive: try result.archived())
        #expect(back.windows == result.windows)
        #expect(back.actions["a"]?.histogram == result.actions["a"]?.histogram)
    }

    @Test func somethingThatIsNotAnArchivedResultIsRefusedClearly() {
        #expect(throws: PerfArchiveError.self) { try PerfResult(archive: Data([0x1f, 0x8b, 0, 1])) }
        #expect(throws: PerfArchiveError.self) { try PerfResult(archive: Data("{\"name\": 1}".utf8)) }
    }
}
