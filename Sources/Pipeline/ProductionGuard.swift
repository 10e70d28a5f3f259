import AtlassianAdmin

/// Writes to PROD happen only in go-live, only to the config's PROD environment, and only with
/// `--confirm-prod`; and no step writes to an environment that names any of PROD's resources
/// (its deploy bucket, databases, shared homes or URLs, compared by `ResourceIdentity`), so a
/// DEV that shares PROD's bucket or database is refused whatever its name.
///
/// ```swift
/// let guard_ = config.productionGuard(confirmed: options.confirmProduction)
/// try guard_.check(phase: .nightly, writingTo: "dev", step: "code-releaser")
/// ```
public struct ProductionGuard: Sendable {
    /// The config's PROD environment.
    public var production: String
    /// Whether the operator passed `--confirm-prod`.
    public var confirmed: Bool
    /// PROD's resources.
    public var productionResources: [ResourceIdentity]
    /// The other environments' resources, by environment name.
    public var environmentResources: [String: [ResourceIdentity]]

    /// Creates a guard.
    ///
    /// - Parameters:
    ///   - production: the PROD environment's name.
    ///   - confirmed: whether the operator passed `--confirm-prod`.
    ///   - productionResources: PROD's resources (``PipelineConfig/productionGuard(confirmed:)``
    ///     fills these and the next from the config).
    ///   - environmentResources: the other environments' resources, by name.
    public init(
        production: String, confirmed: Bool, productionResources: [ResourceIdentity] = [],
        environmentResources: [String: [ResourceIdentity]] = [:]
    ) {
        self.production = production
        self.confirmed = confirmed
        self.productionResources = productionResources
        self.environmentResources = environmentResources
    }

    /// Refuses a write that could reach PROD.
    ///
    /// - Throws: ``PipelineError`` when `phase`'s `step` may not write to `environment`: of kind
    ///   ``PipelineError/Kind/productionResourceShared`` when `environment` is not PROD but names
    ///   PROD's resources, ``PipelineError/Kind/productionWriteOutsideGoLive`` or
    ///   ``PipelineError/Kind/productionWriteUnconfirmed`` for PROD itself.
    public func check(phase: Phase, writingTo environment: String, step: String) throws {
        guard environment == production else {
            let conflicts = ResourceIdentity.conflicts(
                of: environmentResources[environment] ?? [], with: productionResources)
            guard conflicts.isEmpty else {
                throw PipelineError(
                    "\(phase.rawValue) would write to PROD's resources through \(environment) in \(step): "
                        + conflicts.map(\.description).joined(separator: ", ")
                        + "; give \(environment) resources of its own in the config",
                    kind: .productionResourceShared, conflicts: conflicts)
            }
            return
        }
        guard phase == .goLive else {
            throw PipelineError(
                "\(phase.rawValue) would write to PROD (\(environment)) in \(step); only go-live writes to PROD",
                kind: .productionWriteOutsideGoLive)
        }
        guard confirmed else {
            throw PipelineError(
                "go-live writes to PROD (\(environment)); add --confirm-prod to confirm, after checking --dry-run",
                kind: .productionWriteUnconfirmed)
        }
    }
}
