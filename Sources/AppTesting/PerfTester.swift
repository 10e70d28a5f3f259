import AtlassianAdmin
import Foundation
import Histogram
import Logging
import RelayFoundation
import Synchronization

/// One action of a load mix: a name (DCAPT's, for comparable reports), a weight, and what it does.
public struct PerfAction: Sendable {
    /// The name, for example `jmeter_view_issue`.
    public var name: String
    /// The relative weight in the mix.
    public var weight: Int
    /// The action; throwing counts as an error.
    public var run: @Sendable (TestContext) async throws -> Void

    /// Creates an action.
    public init(_ name: String, weight: Int, _ run: @escaping @Sendable (TestContext) async throws -> Void) {
        self.name = name
        self.weight = weight
        self.run = run
    }
}

/// How the load is shaped.
public struct LoadProfile: Sendable, Codable, Equatable {
    /// Concurrent virtual users (the closed model), or the cap on requests in flight (open model).
    public var virtualUsers: Int
    /// Time to bring all users in, evenly.
    public var rampUp: Duration
    /// Time at full load.
    public var hold: Duration
    /// Time to take them out again, evenly.
    public var rampDown: Duration
    /// Pause between one user's actions (closed model).
    public var thinkTime: Duration
    /// Requests per second at full load (open model); nil for the closed model.
    public var arrivalRate: Double?

    /// Creates a profile.
    public init(
        virtualUsers: Int, rampUp: Duration = .zero, hold: Duration, rampDown: Duration = .zero,
        thinkTime: Duration = .zero, arrivalRate: Double? = nil
    ) {
        self.virtualUsers = max(1, virtualUsers)
        self.rampUp = rampUp
        self.hold = hold
        self.rampDown = rampDown
        self.thinkTime = thinkTime
        self.arrivalRate = arrivalRate
    }
}

/// Limits that decide a load run's exit code.
public struct SLA: Sendable, Codable, Equatable {
    /// The 90th-percentile limit per action, in milliseconds.
    public var p90Milliseconds: [String: Double]
    /// The limit for actions not named in ``p90Milliseconds``; nil: none.
    public var defaultP90Milliseconds: Double?
    /// The least share of successful samples (DCAPT: 95 %).
    public var minimumSuccess: Double

    /// Creates an SLA.
    public init(
        p90Milliseconds: [String: Double] = [:], defaultP90Milliseconds: Double? = nil, minimumSuccess: Double = 0.95
    ) {
        self.p90Milliseconds = p90Milliseconds
        self.defaultP90Milliseconds = defaultP90Milliseconds
        self.minimumSuccess = minimumSuccess
    }

    /// One action's verdict.
    public struct Gate: Sendable, Codable, Equatable {
        /// The action.
        public var action: String
        /// Whether it met the SLA.
        public var passed: Bool
        /// Why not (or the figures when it did).
        public var message: String
    }

    /// Each action's verdict, by name.
    public func evaluate(_ result: PerfResult) -> [Gate] {
        result.actions.keys.sorted().map { name in
            let stats = result.actions[name]!
            var problems: [String] = []
            if stats.successRate < minimumSuccess {
                problems.append(
                    String(format: "%.1f %% succeeded, below %.1f %%", stats.successRate * 100, minimumSuccess * 100)
                        + (stats.firstError.map { " (first error: \($0))" } ?? ""))
            }
            let p90 = stats.milliseconds(at: 90)
            if let limit = p90Milliseconds[name] ?? defaultP90Milliseconds, p90 > limit {
                problems.append(String(format: "p90 %.1f ms over the %.1f ms limit", p90, limit))
            }
            let figures = String(
                format: "p90 %.1f ms, %.1f %% succeeded, %d samples", p90, stats.successRate * 100, stats.samples)
            return Gate(
                action: name, passed: problems.isEmpty,
                message: problems.isEmpty ? figures : problems.joined(separator: "; "))
        }
    }
}

/// Drives virtual users through a weighted action mix and measures every action.
public struct PerfTester: Sendable {
    /// The mix.
    public var actions: [PerfAction]
    /// The load's shape.
    public var profile: LoadProfile
    /// Runs once before the load, for example to look up existing issues to view.
    public var prepare: @Sendable (TestContext) async throws -> Void
    /// Where progress goes.
    public var logger: Logger

    /// Creates a tester.
    public init(
        actions: [PerfAction], profile: LoadProfile,
        prepare: @escaping @Sendable (TestContext) async throws -> Void = { _ in },
        logger: Logger = Logger(label: "atlas-relay.perf-tester")
    ) {
        self.actions = actions.filter { $0.weight > 0 }
        self.profile = profile
        self.prepare = prepare
        self.logger = logger
    }

    /// Picks actions by weight.
    struct Mix: Sendable {
        let cumulative: [Int]
        let total: Int

        init(_ actions: [PerfAction]) {
            var sum = 0
            cumulative = actions.map {
                sum += $0.weight
                return sum
            }
            total = max(1, sum)
        }

        func pick(_ random: inout some RandomNumberGenerator) -> Int {
            let value = Int.random(in: 0..<total, using: &random)
            return cumulative.firstIndex { value < $0 } ?? 0
        }
    }

    /// Runs the load and returns the measurements.
    ///
    /// - Parameters:
    ///   - name: the run's name, as reports show it.
    ///   - context: the set-up's context (`prepare` runs with it: the admin account), and every
    ///     virtual user's when `users` is empty.
    ///   - pool: one context per account of a pool (the `users:` argument), each with its own
    ///     clients (credentials and connections); virtual user `i` acts as `pool[i % pool.count]`,
    ///     and in the open model the requests take the accounts in turn. Each gets the values
    ///     `prepare` left.
    /// - Throws: only when `prepare` fails (then no load was sent).
    public func run(_ name: String, context: TestContext, users pool: [TestContext] = []) async throws -> PerfResult {
        try await prepare(context)
        for user in pool { user.adoptValues(of: context) }
        let accounts = pool.isEmpty ? [context] : pool
        let recorder = Recorder(PerfResult(name: name))
        let clock = ContinuousClock()
        let start = clock.now
        let mix = Mix(actions)
        let actions = self.actions
        let profile = self.profile
        let users = profile.virtualUsers
        let end = start + profile.rampUp + profile.hold + profile.rampDown

        @Sendable func perform(_ index: Int, as context: TestContext, scheduled: ContinuousClock.Instant? = nil) async {
            let action = actions[index]
            let begin = clock.now
            if let scheduled {
                let lag = UInt64(max(0, (begin - scheduled) / .microseconds(1)))
                recorder.state.withLock { $0.recordLag(microseconds: lag) }
            }
            var failure: String?
            if scheduled != nil { recorder.active.add(1, ordering: .relaxed) }
            do { try await action.run(context) } catch { failure = "\(error)".prefix(300).description }
            let finished = clock.now
            let active = recorder.active.load(ordering: .relaxed)
            if scheduled != nil { recorder.active.subtract(1, ordering: .relaxed) }
            let micros = UInt64(max(0, (finished - begin) / .microseconds(1)))
            let second = Int((finished - start) / .seconds(1))
            recorder.state.withLock {
                $0.record(action.name, microseconds: micros, error: failure, second: second, activeUsers: active)
            }
        }

        // Discarding groups free each finished request at once (a plain task group keeps every
        // child until it is awaited: memory grew with the request count).
        if let rate = profile.arrivalRate, rate > 0 {
            // Open model: arrivals on a schedule, whatever the answers' speed, capped in flight.
            let permits = AsyncSemaphore(users)
            await withDiscardingTaskGroup { group in
                var random = SystemRandomNumberGenerator()
                var turn = 0
                var next = start
                while next < end {
                    try? await Task.sleep(until: next, clock: clock)
                    let index = mix.pick(&random)
                    await permits.acquire()
                    let scheduled = next
                    let account = accounts[turn % accounts.count]
                    turn += 1
                    group.addTask {
                        await perform(index, as: account, scheduled: scheduled)
                        await permits.release()
                    }
                    let elapsed = next - start
                    let scale = Self.rampFactor(elapsed, profile)
                    next = next + .nanoseconds(Int64(1e9 / (rate * max(scale, 0.05))))
                }
            }
        } else {
            await withDiscardingTaskGroup { group in
                for user in 0..<users {
                    let joins = start + profile.rampUp * (Double(user) / Double(users))
                    let leaves =
                        start + profile.rampUp + profile.hold + profile.rampDown
                        * (Double(users - user) / Double(users))
                    group.addTask {
                        try? await Task.sleep(until: joins, clock: clock)
                        @Sendable func note(_ change: Int) {
                            let active = recorder.active.add(change, ordering: .relaxed).newValue
                            let second = Int((clock.now - start) / .seconds(1))
                            recorder.state.withLock { $0.noteUsers(active, second: second) }
                        }
                        note(1)
                        var random = SystemRandomNumberGenerator()
                        while clock.now < leaves && !Task.isCancelled {
                            await perform(mix.pick(&random), as: accounts[user % accounts.count])
                            if profile.thinkTime > .zero { try? await Task.sleep(for: profile.thinkTime) }
                        }
                        note(-1)
                    }
                }
            }
        }
        var result = recorder.state.withLock { $0 }
        result.seconds = AppTester.seconds(clock.now - start)
        result.profile = profile
        logger.info(
            "load finished",
            metadata: [
                "run": "\(name)", "requests": "\(result.actions.values.reduce(0) { $0 + $1.samples })",
                "seconds": "\(result.seconds)",
            ])
        return result
    }

    /// The share of full load at `elapsed` into the run.
    static func rampFactor(_ elapsed: Duration, _ profile: LoadProfile) -> Double {
        if elapsed < profile.rampUp { return elapsed / profile.rampUp }
        let holdEnd = profile.rampUp + profile.hold
        if elapsed < holdEnd || profile.rampDown == .zero { return 1 }
        return max(0, 1 - (elapsed - holdEnd) / profile.rampDown)
    }
}

/// The shared measurements of a load run.
final class Recorder: Sendable {
    let state: Mutex<PerfResult>
    /// Virtual users between joining and leaving (closed model), requests in flight (open model).
    let active = Atomic<Int>(0)

    init(_ result: PerfResult) { state = Mutex(result) }
}
