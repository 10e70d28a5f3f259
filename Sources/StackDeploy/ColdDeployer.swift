/// Updates every application stack of an environment to a new code version, in dependency order:
/// each stack's code-version parameter (typically `CodeVersion`, which makes the nodes pull that
/// release at boot) is set to the commit, the rest of its spec is deployed as it is.
///
/// Stacks whose specs do not declare the parameter (network, database) are deployed unchanged
/// in their place in the graph, so their outputs still reach the stacks that need them.
public struct ColdDeployer: Sendable {
    /// The stack deployer.
    public let deployer: StackDeployer
    /// The parameter that carries the code version.
    public let parameter: String
    /// Stacks deployed at once, at most.
    public let concurrency: Int

    /// Creates a cold deployer.
    public init(deployer: StackDeployer, parameter: String = "CodeVersion", concurrency: Int = 4) {
        self.deployer = deployer
        self.parameter = parameter
        self.concurrency = concurrency
    }

    /// The specs with the code version filled in where the parameter is declared.
    public func specs(_ stacks: [StackSpec], version: String) -> [StackSpec] {
        stacks.map { spec in
            var spec = spec
            if spec.parameters[parameter] != nil { spec.parameters[parameter] = .value(version) }
            return spec
        }
    }

    /// Deploys `stacks` at `version`.
    ///
    /// - Throws: ``DeployError`` when the stacks do not form a graph (a cycle, an unknown
    ///   dependency), before anything is deployed.
    public func deploy(_ stacks: [StackSpec], version: String) async throws -> StackGraph.Report {
        try await StackGraph(specs(stacks, version: version)).deploy(with: deployer, concurrency: concurrency)
    }

    /// What deploying `stacks` at `version` would change.
    public func plan(_ stacks: [StackSpec], version: String) async throws
        -> [(stack: String, plan: Result<StackPlan, DeployError>)]
    {
        try await StackGraph(specs(stacks, version: version)).plan(with: deployer)
    }
}
