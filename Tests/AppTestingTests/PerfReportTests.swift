import Foundation
import RelayFoundation
import Testing

@testable import AppTesting

/// DCAPT's compliance checks and what the HTML report shows of a baseline and of time.
struct PerfReportTests {
    static func run(seconds: Double, users: Int) -> PerfResult {
        var result = BaselineJudgeTests.run(median: 300, samples: 500, seed: 11)
        result.seconds = seconds
        result.noteUsers(users, second: 0)
        return result
    }

    @Test func aRunShorterOrSmallerThanDCAPTsMinimumsIsNotCompliant() {
        let short = DCAPTCompliance.dcapt.check(Self.run(seconds: 600, users: 200))
        #expect(short.map(\.name) == ["duration", "concurrency"])
        #expect(short.map(\.compliant) == [false, true])
        let small = DCAPTCompliance.dcapt.check(Self.run(seconds: 46 * 60, users: 150))
        #expect(small.map(\.compliant) == [true, false])
        #expect(DCAPTCompliance.dcapt.check(Self.run(seconds: 45 * 60, users: 200)).allSatisfy { $0.compliant })
        // Lowered for a sandbox's short runs.
        #expect(DCAPTCompliance(minimumSeconds: 5, minimumUsers: 4).check(Self.run(seconds: 12, users: 4)).allSatisfy { $0.compliant })
    }

    @Test func theReportShowsTheVerdictsTheWindowsAndTheBaselinesCurves() throws {
        var baseline = BaselineJudgeTests.run(median: 300, samples: 2000, seed: 21)
        var current = BaselineJudgeTests.run(median: 420, samples: 2000, seed: 22)
        // Spread the samples over three windows each.
        for run in [0, 1] {
            var result = run == 0 ? baseline : current
            result.windows = []
            var random = BaselineJudgeTests.Seeded(state: UInt64(run))
            for _ in 0..<300 {
                result.record("jmeter_view_issue", microseconds: UInt64.random(in: 200_000...500_000, using: &random), error: nil, second: Int.random(in: 0..<30, using: &random), activeUsers: 8)
            }
            if run == 0 { baseline = result } else { current = result }
        }
        let verdicts = BaselineJudge().judge(current, against: baseline)
        let compliance = DCAPTCompliance.dcapt.check(current)
        let html = Reports.html(
            current, gates: SLA().evaluate(current), baseline: verdicts, baselineResult: baseline, compliance: compliance)
        #expect(verdicts.first?.outcome == .regressed)
        #expect(html.contains("FAILED"))  // the verdict at the top counts the baseline's
        #expect(html.contains("<td>jmeter_view_issue</td><td>regressed</td>"))
        #expect(html.contains("NOT compliant"))
        // Each window chart: this run's line and the baseline's dashed one.
        let latency = try #require(html.range(of: #"aria-label="p90 per action per window""#))
        let chart = html[latency.lowerBound...].prefix { $0 != "\n" }
        #expect(chart.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(chart.contains(#"stroke-dasharray="5,4""#))
        let points = try #require(chart.range(of: #"points=""#)).upperBound
        #expect(chart[points...].prefix { $0 != "\"" }.split(separator: " ").count == 3)
        #expect(html.contains(#"aria-label="active users and errors per window""#))
    }
}

/// The HTML report in a real browser: Debian's Chromium, headless (scripts/setup.sh installs it).
struct PerfReportBrowserTests {
    @Test func theReportRendersInAHeadlessBrowserAndItsChartsHaveData() async throws {
        let chromium = "/usr/bin/chromium"
        try #require(
            FileManager.default.isExecutableFile(atPath: chromium),
            "Chromium is missing: scripts/setup.sh (make test) installs Debian's chromium package")
        var baseline = PerfResult(name: "baseline")
        var current = PerfResult(name: "uat-perf")
        var random = BaselineJudgeTests.Seeded(state: 5)
        for second in 0..<40 {
            for _ in 0..<20 {
                for (run, median) in [(0, 200_000), (1, 260_000)] {
                    let micros = UInt64(median + Int.random(in: -50_000...50_000, using: &random))
                    if run == 0 {
                        baseline.record("jmeter_view_issue", microseconds: micros, error: nil, second: second, activeUsers: 8)
                    } else {
                        current.record(
                            "jmeter_view_issue", microseconds: micros, error: second == 25 ? "HTTP 503" : nil,
                            second: second, activeUsers: 8)
                    }
                }
            }
        }
        current.seconds = 40
        baseline.seconds = 40
        let html = Reports.html(
            current, gates: SLA().evaluate(current), baseline: BaselineJudge().judge(current, against: baseline),
            baselineResult: baseline, compliance: DCAPTCompliance.dcapt.check(current))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("perf.html")
        try Data(html.utf8).write(to: page)
        let flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(folder.path)/profile",
            "--window-size=1100,2200",
        ]
        // The DOM after the browser parsed and laid out the page: the charts are there with points.
        let dom = try await ProcessRunner.run(chromium, flags + ["--dump-dom", page.absoluteString], timeout: .seconds(120))
        #expect(dom.status == 0, "\(dom.errorText)")
        let text = String(decoding: dom.stdout, as: UTF8.self)
        for label in ["p90 per action per window", "active users and errors per window", "throughput and errors over time"] {
            let start = try #require(text.range(of: #"aria-label="\#(label)""#), "no chart '\(label)' in the rendered page")
            let rest = text[start.upperBound...]
            let end = rest.range(of: "</svg>").map { rest[..<$0.lowerBound] } ?? rest
            let points = end.components(separatedBy: #"points=""#).dropFirst().map { $0.prefix { $0 != "\"" } }
            #expect(points.contains { $0.split(separator: " ").count >= 3 }, "chart '\(label)' has no line with data")
        }
        #expect(text.contains("FAILED") && text.contains("regressed"))
        // And a screenshot: a PNG of the whole window, not a blank page.
        let shot = folder.appendingPathComponent("perf.png")
        let screenshot = try await ProcessRunner.run(
            chromium, flags + ["--screenshot=\(shot.path)", page.absoluteString], timeout: .seconds(120))
        #expect(screenshot.status == 0, "\(screenshot.errorText)")
        let png = try Data(contentsOf: shot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 20_000, "a \(png.count)-byte screenshot is a blank page")
        if let keep = ProcessInfo.processInfo.environment["ATLAS_RELAY_KEEP_REPORT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: keep))
        }
    }
}
