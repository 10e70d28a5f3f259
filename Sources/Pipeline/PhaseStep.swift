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
