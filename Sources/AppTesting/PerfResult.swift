import Foundation
import Histogram

/// One action's measurements: a latency histogram in microseconds and the error count.
public struct ActionStats: Sendable, Codable {
    /// Latencies in microseconds (3 significant digits), successes and errors alike.
    public var histogram = Histogram<UInt64>(
        highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    /// Samples that succeeded.
    public var successes = 0
    /// Samples that failed.
    public var errors = 0
    /// The first error, as a hint.
    public var firstError: String?

    /// All samples.
    public var samples: Int { successes + errors }
    /// Errors as a fraction of the samples.
    public var errorRate: Double { samples == 0 ? 0 : Double(errors) / Double(samples) }
    /// Successes as a fraction of the samples.
    public var successRate: Double { samples == 0 ? 0 : Double(successes) / Double(samples) }

    /// The latency at `percentile` (0–100), in milliseconds.
    public func milliseconds(at percentile: Double) -> Double {
        Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    func adding(_ other: ActionStats) -> ActionStats {
        var sum = self
        sum.add(other)
        return sum
    }

    mutating func add(_ other: ActionStats) {
        histogram.add(other.histogram)
        successes += other.successes
        errors += other.errors
        firstError = firstError ?? other.firstError
    }
}

/// The outcome of a load run (or several merged): per-action statistics, a per-second timeline
/// and each action's latencies per 10-second window.
public struct PerfResult: Sendable, Codable {
    /// The length of a ``Window``.
    public static let windowSeconds = 10

    /// Ten seconds of the run (``windowSeconds``): each action's latencies in it, and the users.
    public struct Window: Sendable, Codable, Equatable {
        /// Latencies (microseconds, each at its histogram bucket's median: 3 significant digits)
        /// with their counts, per action.
        public var latencies: [String: [UInt64: Int]] = [:]
        /// Requests that failed in it.
        public var errors = 0
        /// The most virtual users active at once in it (requests in flight for the open model),
        /// summed over the load generators.
        public var activeUsers = 0

        /// `action`'s latency at `percentile` (0–100) in the window, in milliseconds; nil
        /// without samples.
        public func milliseconds(_ action: String, at percentile: Double) -> Double? {
            guard let counts = latencies[action], !counts.isEmpty else { return nil }
            let total = counts.values.reduce(0, +)
            let rank = max(1, Int((percentile / 100 * Double(total)).rounded(.up)))
            var seen = 0
            for value in counts.keys.sorted() {
                seen += counts[value]!
                if seen >= rank { return Double(value) / 1000 }
            }
            return counts.keys.max().map { Double($0) / 1000 }
        }

        /// Samples in the window, all actions.
        public var samples: Int { latencies.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

        mutating func add(_ other: Window) {
            for (action, counts) in other.latencies {
                latencies[action, default: [:]].merge(counts, uniquingKeysWith: +)
            }
            errors += other.errors
            activeUsers += other.activeUsers
        }
    }

    /// One second of the run.
    public struct Second: Sendable, Codable, Equatable {
        /// Requests that finished in it.
        public var requests: Int
        /// Of which failed.
        public var errors: Int
    }

    /// The run's name.
    public var name: String
    /// When it started.
    public var started: Date
    /// How long it ran.
    public var seconds: Double
    /// Load generators whose results are in here.
    public var generators: Int
    /// The statistics per action.
    public var actions: [String: ActionStats]
    /// Requests and errors per second since the start.
    public var timeline: [Second]
    /// Open model only: how late each request left against its schedule (the load generator's
    /// own overhead and its in-flight cap); nil for the closed model.
    public var dispatchLag: ActionStats?
    /// The load's shape (one generator's, when split); nil in results older than it.
    public var profile: LoadProfile?
    /// Each action's latencies, errors and active users per ``windowSeconds`` since the start.
    public var windows: [Window] = []

    /// Creates an empty result.
    public init(name: String, started: Date = Date()) {
        self.name = name
        self.started = started
        self.seconds = 0
        self.generators = 1
        self.actions = [:]
        self.timeline = []
    }

    enum CodingKeys: String, CodingKey {
        case name, started, seconds, generators, actions, timeline, dispatchLag, profile, windows
    }

    /// Reads a result; one written before windows were recorded reads with none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        started = try container.decode(Date.self, forKey: .started)
        seconds = try container.decode(Double.self, forKey: .seconds)
        generators = try container.decode(Int.self, forKey: .generators)
        actions = try container.decode([String: ActionStats].self, forKey: .actions)
        timeline = try container.decode([Second].self, forKey: .timeline)
        dispatchLag = try container.decodeIfPresent(ActionStats.self, forKey: .dispatchLag)
        profile = try container.decodeIfPresent(LoadProfile.self, forKey: .profile)
        windows = try container.decodeIfPresent([Window].self, forKey: .windows) ?? []
    }

    mutating func record(_ action: String, microseconds: UInt64, error: String?, second: Int, activeUsers: Int = 0) {
        // In place: a copy of the stats would copy the histogram's counts on every request.
        Self.record(&actions[action, default: ActionStats()], microseconds: microseconds, error: error)
        while timeline.count <= second { timeline.append(Second(requests: 0, errors: 0)) }
        timeline[second].requests += 1
        if error != nil { timeline[second].errors += 1 }
        let window = second / Self.windowSeconds
        while windows.count <= window { windows.append(Window()) }
        let value = actions[action]!.histogram.medianEquivalentForValue(max(1, microseconds))
        windows[window].latencies[action, default: [:]][value, default: 0] += 1
        if error != nil { windows[window].errors += 1 }
        windows[window].activeUsers = max(windows[window].activeUsers, activeUsers)
    }

    /// Notes `activeUsers` in the window of `second`, with or without requests finishing in it.
    mutating func noteUsers(_ activeUsers: Int, second: Int) {
        let window = second / Self.windowSeconds
        while windows.count <= window { windows.append(Window()) }
        windows[window].activeUsers = max(windows[window].activeUsers, activeUsers)
    }

    /// How late a request left against its schedule.
    mutating func recordLag(microseconds: UInt64) {
        if dispatchLag == nil { dispatchLag = ActionStats() }
        Self.record(&dispatchLag!, microseconds: microseconds, error: nil)
    }

    static func record(_ stats: inout ActionStats, microseconds: UInt64, error: String?) {
        _ = stats.histogram.record(max(1, microseconds))
        if let error {
            stats.errors += 1
            if stats.firstError == nil { stats.firstError = error }
        } else {
            stats.successes += 1
        }
    }

    /// Results of several load generators as one: histograms added, timelines added second by
    /// second and windows window by window (runs are aligned at their start), active users
    /// summed. The percentiles of the merged result are those of one generator that had
    /// recorded every sample.
    public static func merged(_ results: [PerfResult]) -> PerfResult? {
        guard var merged = results.first else { return nil }
        for other in results.dropFirst() {
            merged.generators += other.generators
            merged.seconds = max(merged.seconds, other.seconds)
            merged.started = min(merged.started, other.started)
            for (name, stats) in other.actions { merged.actions[name, default: ActionStats()].add(stats) }
            if let lag = other.dispatchLag { merged.dispatchLag = (merged.dispatchLag ?? ActionStats()).adding(lag) }
            for (index, window) in other.windows.enumerated() {
                while merged.windows.count <= index { merged.windows.append(Window()) }
                merged.windows[index].add(window)
            }
            if let profile = other.profile, var total = merged.profile {
                total.virtualUsers += profile.virtualUsers
                total.arrivalRate = total.arrivalRate.map { $0 + (profile.arrivalRate ?? 0) }
                merged.profile = total
            }
            for (second, value) in other.timeline.enumerated() {
                while merged.timeline.count <= second { merged.timeline.append(Second(requests: 0, errors: 0)) }
                merged.timeline[second].requests += value.requests
                merged.timeline[second].errors += value.errors
            }
        }
        return merged
    }

    /// The most virtual users active at once (from the windows; the profile's when there are none).
    public var peakUsers: Int { windows.map(\.activeUsers).max() ?? profile?.virtualUsers ?? 0 }

    /// All requests per second over the run.
    public var throughput: Double { seconds > 0 ? Double(actions.values.reduce(0) { $0 + $1.samples }) / seconds : 0 }
}
