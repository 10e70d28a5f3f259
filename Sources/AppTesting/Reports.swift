import Foundation
import RelayFoundation

/// Reports CodeBuild and people read: JUnit XML, JSON, DCAPT-style CSV and one offline HTML page.
public enum Reports {
    /// JUnit XML that CodeBuild test reports accept: one `testsuite` per functional run (a
    /// `testcase` per step) and one per load run (a `testcase` per action's SLA gate).
    public static func junit(runs: [TestRun], load: [(result: PerfResult, gates: [SLA.Gate])] = []) -> String {
        var suites: [String] = []
        var total = (tests: 0, failures: 0, skipped: 0, time: 0.0)
        for run in runs {
            let failures = run.results.filter { $0.outcome == .failed }.count
            let skipped = run.results.filter { $0.outcome == .skipped }.count
            total.tests += run.results.count
            total.failures += failures
            total.skipped += skipped
            total.time += run.seconds
            var cases: [String] = []
            for result in run.results {
                let open =
                    #"    <testcase classname="\#(xml(run.name + "." + result.scenario))" name="\#(xml(result.step))" time="\#(String(format: "%.3f", result.seconds))""#
                switch result.outcome {
                case .passed: cases.append(open + "/>")
                case .failed:
                    cases.append(
                        open
                            + ">\n      <failure message=\"\(xml(result.message ?? "failed"))\" type=\"AssertionError\">"
                            + xml(result.message ?? "") + "</failure>\n    </testcase>")
                case .skipped:
                    cases.append(open + ">\n      <skipped message=\"\(xml(result.message ?? ""))\"/>\n    </testcase>")
                }
            }
            suites.append(
                #"  <testsuite name="\#(xml(run.name))" tests="\#(run.results.count)" failures="\#(failures)" errors="0" skipped="\#(skipped)" time="\#(String(format: "%.3f", run.seconds))" timestamp="\#(timestamp(run.started))">"#
                    + "\n" + cases.joined(separator: "\n") + (cases.isEmpty ? "" : "\n") + "  </testsuite>")
        }
        for (result, gates) in load {
            let failures = gates.filter { !$0.passed }.count
            total.tests += gates.count
            total.failures += failures
            total.time += result.seconds
            let cases = gates.map { gate -> String in
                let seconds = (result.actions[gate.action]?.milliseconds(at: 90) ?? 0) / 1000
                let open =
                    #"    <testcase classname="\#(xml(result.name)).sla" name="\#(xml(gate.action))" time="\#(String(format: "%.3f", seconds))""#
                return gate.passed
                    ? open + "/>"
                    : open
                        + ">\n      <failure message=\"\(xml(gate.message))\" type=\"SLA\">\(xml(gate.message))</failure>\n    </testcase>"
            }
            suites.append(
                #"  <testsuite name="\#(xml(result.name))" tests="\#(gates.count)" failures="\#(failures)" errors="0" skipped="0" time="\#(String(format: "%.3f", result.seconds))" timestamp="\#(timestamp(result.started))">"#
                    + "\n" + cases.joined(separator: "\n") + (cases.isEmpty ? "" : "\n") + "  </testsuite>")
        }
        return #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
            + #"<testsuites name="atlas-relay" tests="\#(total.tests)" failures="\#(total.failures)" errors="0" skipped="\#(total.skipped)" time="\#(String(format: "%.3f", total.time))">"#
            + "\n" + suites.joined(separator: "\n") + (suites.isEmpty ? "" : "\n") + "</testsuites>\n"
    }

    /// The DCAPT aggregate columns (its reports index by `Action` and compare `90% Line`), times
    /// in milliseconds.
    public static func csv(_ result: PerfResult) -> String {
        var lines = ["Action,Samples,Average,Median,90% Line,95% Line,99% Line,Min,Max,Error %"]
        for name in result.actions.keys.sorted() {
            let stats = result.actions[name]!
            let ms = { (value: Double) in String(format: "%.1f", value) }
            lines.append(
                [
                    name, String(stats.samples), ms(stats.histogram.mean / 1000), ms(stats.milliseconds(at: 50)),
                    ms(stats.milliseconds(at: 90)), ms(stats.milliseconds(at: 95)), ms(stats.milliseconds(at: 99)),
                    ms(Double(stats.histogram.min) / 1000), ms(Double(stats.histogram.max) / 1000),
                    String(format: "%.2f", stats.errorRate * 100),
                ].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A JSON document of any report value (sorted keys, ISO 8601 dates).
    public static func json(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(value)
    }

    /// One self-contained HTML page (inline CSS and SVG, no scripts or downloads): the SLA
    /// verdicts, a table and a chart of latency percentiles per action, throughput and errors
    /// over time, each action's p90 and the active users and errors per 10-second window (the
    /// baseline's curves dashed beside them), each action's verdict against the baseline, and
    /// the DCAPT compliance checks.
    public static func html(
        _ result: PerfResult, gates: [SLA.Gate], baseline: [BaselineVerdict] = [], baselineResult: PerfResult? = nil,
        compliance: [DCAPTCompliance.Check] = [], functional: [TestRun] = []
    ) -> String {
        let names = result.actions.keys.sorted()
        let percentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)]
        let colours = ["#4c78a8", "#f58518", "#e45756", "#72b7b2"]
        // Latency chart: grouped bars per action.
        let maxLatency = max(1, names.map { result.actions[$0]!.milliseconds(at: 99) }.max() ?? 1)
        let rowHeight = 34.0
        var bars: [String] = []
        for (row, name) in names.enumerated() {
            let y = 30 + Double(row) * rowHeight
            bars.append(#"<text x="0" y="\#(y + 14)" class="label">\#(xml(name))</text>"#)
            for (index, (label, percentile)) in percentiles.enumerated() {
                let value = result.actions[name]!.milliseconds(at: percentile)
                let width = 520 * value / maxLatency
                bars.append(
                    #"<rect x="220" y="\#(y + Double(index) * 7)" width="\#(String(format: "%.1f", width))" height="6" fill="\#(colours[index])"><title>\#(xml(name)) \#(label): \#(String(format: "%.1f", value)) ms</title></rect>"#
                )
            }
        }
        let legend = percentiles.enumerated().map { index, entry in
            #"<rect x="\#(220 + index * 90)" y="4" width="10" height="10" fill="\#(colours[index])"/><text x="\#(234 + index * 90)" y="13" class="label">\#(entry.0)</text>"#
        }.joined()
        let latencySVG =
            #"<svg role="img" aria-label="latency percentiles per action" width="800" height="\#(Int(40 + Double(names.count) * rowHeight))" xmlns="http://www.w3.org/2000/svg">\#(legend)\#(bars.joined())<text x="220" y="\#(Int(36 + Double(names.count) * rowHeight))" class="label">0</text><text x="700" y="\#(Int(36 + Double(names.count) * rowHeight))" class="label">\#(String(format: "%.0f ms", maxLatency))</text></svg>"#
        // Timeline chart: requests and errors per second, whole seconds only (a last, partial
        // second would look like a drop in throughput).
        let seconds = result.timeline.prefix(max(1, min(result.timeline.count, Int(result.seconds))))
        let peak = max(1, seconds.map(\.requests).max() ?? 1)
        let step = seconds.count > 1 ? 740.0 / Double(seconds.count - 1) : 0
        func points(_ values: [Int]) -> String {
            values.enumerated().map {
                String(format: "%.1f,%.1f", 40 + Double($0) * step, 190 - 170 * Double($1) / Double(peak))
            }
            .joined(separator: " ")
        }
        let timelineSVG =
            ##"<svg role="img" aria-label="throughput and errors over time" width="800" height="215" xmlns="http://www.w3.org/2000/svg"><line x1="40" y1="190" x2="780" y2="190" stroke="#999"/><polyline fill="none" stroke="#4c78a8" stroke-width="2" points="\##(points(seconds.map(\.requests)))"/><polyline fill="none" stroke="#e45756" stroke-width="2" points="\##(points(seconds.map(\.errors)))"/><text x="0" y="24" class="label">\##(peak)/s</text><text x="0" y="190" class="label">0</text><text x="40" y="205" class="label">0 s</text><text x="745" y="205" class="label">\##(seconds.count - 1) s</text><rect x="580" y="4" width="10" height="10" fill="#4c78a8"/><text x="594" y="13" class="label">requests/s</text><rect x="680" y="4" width="10" height="10" fill="#e45756"/><text x="694" y="13" class="label">errors/s</text></svg>"##
        let rows = names.map { name -> String in
            let stats = result.actions[name]!
            let gate = gates.first { $0.action == name }
            let cells = [50.0, 90, 95, 99].map { String(format: "%.1f", stats.milliseconds(at: $0)) }
            return
                "<tr class=\"\(gate?.passed == false ? "fail" : "pass")\"><td>\(xml(name))</td><td>\(stats.samples)</td>"
                + cells.map { "<td>\($0)</td>" }.joined()
                + "<td>\(String(format: "%.1f", Double(stats.histogram.max) / 1000))</td><td>\(String(format: "%.2f", stats.errorRate * 100))</td>"
                + "<td>\(gate.map { ($0.passed ? "pass: " : "FAIL: ") + xml($0.message) } ?? "")</td></tr>"
        }
        let number = { (value: Double?, format: String) in value.map { String(format: format, $0) } ?? "–" }
        let baselineRows = baseline.map {
            "<tr class=\"\($0.passed ? "pass" : "fail")\"><td>\(xml($0.action))</td><td>\($0.outcome.rawValue)</td>"
                + "<td>\(number($0.baselineMedian, "%.1f"))</td><td>\(number($0.median, "%.1f"))</td>"
                + "<td>\(number($0.medianChangePercent, "%+.1f %%"))</td><td>\(String(format: "%.0f %%", $0.tolerance * 100))</td>"
                + "<td>\(number($0.pValue, "%.3g"))</td><td>\(number($0.probabilitySlower, "%.2f"))</td>"
                + "<td>\($0.baselineSamples)</td><td>\($0.samples)</td></tr>"
        }
        let functionalRows = functional.flatMap { run in
            run.results.map {
                "<tr class=\"\($0.outcome == .failed ? "fail" : "pass")\"><td>\(xml(run.name))</td><td>\(xml($0.scenario))</td><td>\(xml($0.step))</td><td>\($0.outcome.rawValue)</td><td>\(String(format: "%.3f", $0.seconds))</td><td>\(xml($0.message ?? ""))</td></tr>"
            }
        }
        let complianceRows = compliance.map {
            "<tr class=\"\($0.compliant ? "pass" : "fail")\"><td>\(xml($0.name))</td><td>\($0.compliant ? "compliant" : "NOT compliant")</td><td>\(xml($0.detail))</td></tr>"
        }
        let verdict = gates.allSatisfy(\.passed) && baseline.allSatisfy(\.passed) && functional.allSatisfy(\.passed)
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(xml(result.name)) — Atlas Relay report</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
            table { border-collapse: collapse; margin: 12px 0 24px; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
            td:first-child, th:first-child { text-align: left; } tr.fail td { background: #fde2e1; }
            .label { font: 11px system-ui, sans-serif; fill: #333; } .verdict { font-size: 20px; font-weight: 600; }
            .ok { color: #1a7f37; } .bad { color: #cf222e; }
            </style></head><body>
            <h1>\(xml(result.name))</h1>
            <p class="verdict \(verdict ? "ok" : "bad")">\(verdict ? "PASSED" : "FAILED")</p>
            <p>Started \(timestamp(result.started)) UTC, \(String(format: "%.1f", result.seconds)) s, \(result.generators) load generator(s), \(String(format: "%.1f", result.throughput)) requests/s.</p>
            <h2>Latency per action (ms)</h2>
            <table><tr><th>Action</th><th>Samples</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>Max</th><th>Error %</th><th>SLA</th></tr>
            \(rows.joined(separator: "\n"))
            </table>
            \(latencySVG)
            <h2>Throughput and errors over time</h2>
            \(timelineSVG)
            <h2>p90 per action over time (\(PerfResult.windowSeconds)-second windows\(baselineResult == nil ? "" : "; the baseline dashed"))</h2>
            \(windowLatencySVG(result, baseline: baselineResult))
            <h2>Active users and errors over time (\(PerfResult.windowSeconds)-second windows\(baselineResult == nil ? "" : "; the baseline dashed"))</h2>
            \(windowUsersSVG(result, baseline: baselineResult))
            \(compliance.isEmpty ? "" : "<h2>DCAPT compliance</h2><table><tr><th>Check</th><th>Result</th><th>Figures</th></tr>\n" + complianceRows.joined(separator: "\n") + "</table>")
            \(baseline.isEmpty ? "" : "<h2>Against the baseline (one-sided Mann–Whitney U, α \(baseline[0].alpha))</h2><table><tr><th>Action</th><th>Verdict</th><th>Baseline median (ms)</th><th>Median (ms)</th><th>Change</th><th>Tolerance</th><th>p</th><th>P(slower)</th><th>Baseline samples</th><th>Samples</th></tr>\n" + baselineRows.joined(separator: "\n") + "</table>")
            \(functional.isEmpty ? "" : "<h2>Functional steps</h2><table><tr><th>Suite</th><th>Scenario</th><th>Step</th><th>Outcome</th><th>s</th><th>Message</th></tr>\n" + functionalRows.joined(separator: "\n") + "</table>")
            </body></html>

            """
    }

    static let palette = [
        "#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac",
        "#1f77b4", "#2ca02c",
    ]

    /// Polylines over windows: x from the window index, y from the value (nil values break the line).
    static func polyline(_ values: [Double?], peak: Double, width: Double, colour: String, dashed: Bool, title: String)
        -> String
    {
        let step = values.count > 1 ? width / Double(values.count - 1) : 0
        var segments: [[String]] = [[]]
        for (index, value) in values.enumerated() {
            guard let value else {
                segments.append([])
                continue
            }
            segments[segments.count - 1].append(
                String(format: "%.1f,%.1f", 60 + Double(index) * step, 190 - 170 * value / max(peak, 0.001)))
        }
        return segments.filter { !$0.isEmpty }.map {
            #"<polyline fill="none" stroke="\#(colour)" stroke-width="2"\#(dashed ? #" stroke-dasharray="5,4""# : "") points="\#($0.joined(separator: " "))"><title>\#(xml(title))</title></polyline>"#
        }.joined()
    }

    static func windowLatencySVG(_ result: PerfResult, baseline: PerfResult?) -> String {
        let names = result.actions.keys.sorted()
        let windows = max(result.windows.count, baseline?.windows.count ?? 0)
        guard windows > 0 else { return "<p>No windows recorded.</p>" }
        func series(_ run: PerfResult?, _ name: String) -> [Double?] {
            (0..<windows).map { index in
                guard let run, index < run.windows.count else { return nil }
                return run.windows[index].milliseconds(name, at: 90)
            }
        }
        let all = names.flatMap { series(result, $0) + series(baseline, $0) }.compactMap { $0 }
        let peak = max(1, all.max() ?? 1)
        var lines: [String] = []
        var legend: [String] = []
        for (index, name) in names.enumerated() {
            let colour = palette[index % palette.count]
            if baseline != nil {
                lines.append(
                    polyline(series(baseline, name), peak: peak, width: 700, colour: colour, dashed: true, title: "\(name) baseline p90"))
            }
            lines.append(polyline(series(result, name), peak: peak, width: 700, colour: colour, dashed: false, title: "\(name) p90"))
            legend.append(
                #"<rect x="770" y="\#(8 + index * 16)" width="10" height="10" fill="\#(colour)"/><text x="784" y="\#(17 + index * 16)" class="label">\#(xml(name))</text>"#
            )
        }
        let height = max(215, 20 + names.count * 16)
        return
            ##"<svg role="img" aria-label="p90 per action per window" width="1000" height="\##(height)" xmlns="http://www.w3.org/2000/svg"><line x1="60" y1="190" x2="760" y2="190" stroke="#999"/>\##(lines.joined())\##(legend.joined())<text x="0" y="24" class="label">\##(String(format: "%.0f ms", peak))</text><text x="0" y="190" class="label">0</text><text x="60" y="205" class="label">0 s</text><text x="700" y="205" class="label">\##((windows - 1) * PerfResult.windowSeconds) s</text></svg>"##
    }

    static func windowUsersSVG(_ result: PerfResult, baseline: PerfResult?) -> String {
        let windows = max(result.windows.count, baseline?.windows.count ?? 0)
        guard windows > 0 else { return "<p>No windows recorded.</p>" }
        func series(_ run: PerfResult?, _ value: (PerfResult.Window) -> Int) -> [Double?] {
            (0..<windows).map { index in
                guard let run, index < run.windows.count else { return nil }
                return Double(value(run.windows[index]))
            }
        }
        let runs = [result] + (baseline.map { [$0] } ?? [])
        let peak = Double(max(1, runs.flatMap { $0.windows.map { max($0.activeUsers, $0.errors) } }.max() ?? 1))
        var lines = [
            polyline(series(result, \.activeUsers), peak: peak, width: 700, colour: "#4c78a8", dashed: false, title: "active users"),
            polyline(series(result, \.errors), peak: peak, width: 700, colour: "#e45756", dashed: false, title: "errors"),
        ]
        if baseline != nil {
            lines.append(
                polyline(series(baseline, \.activeUsers), peak: peak, width: 700, colour: "#4c78a8", dashed: true, title: "baseline active users"))
            lines.append(polyline(series(baseline, \.errors), peak: peak, width: 700, colour: "#e45756", dashed: true, title: "baseline errors"))
        }
        return
            ##"<svg role="img" aria-label="active users and errors per window" width="1000" height="215" xmlns="http://www.w3.org/2000/svg"><line x1="60" y1="190" x2="760" y2="190" stroke="#999"/>\##(lines.joined())<rect x="770" y="8" width="10" height="10" fill="#4c78a8"/><text x="784" y="17" class="label">active users</text><rect x="770" y="24" width="10" height="10" fill="#e45756"/><text x="784" y="33" class="label">errors</text><text x="0" y="24" class="label">\##(Int(peak))</text><text x="0" y="190" class="label">0</text><text x="60" y="205" class="label">0 s</text><text x="700" y="205" class="label">\##((windows - 1) * PerfResult.windowSeconds) s</text></svg>"##
    }

    static func xml(_ text: String) -> String { XMLEscaping.escape(text) }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return String(formatter.string(from: date).dropLast())  // JUnit's timestamp has no zone
    }
}
