import AtlassianAdmin

// Which resources each environment names, by identity, and the PROD guard built from them.

extension PipelineConfig {
    /// Whether `environment` is PROD: the config's PROD environment, or one that names any of
    /// PROD's resources (a loaded config has none such; one changed in code may).
    public func isProduction(_ environment: Environment) -> Bool {
        environment.name == production || !productionResources(namedBy: environment).isEmpty
    }

    /// The resources `environment` would write, by identity: its deploy bucket (with its
    /// account), and each application's URL, database and shared home.
    public func resources(of environment: Environment) -> [ResourceIdentity] {
        namedResources(of: environment).map(\.identity)
    }

    /// PROD's resources: its own, and the snapshot bucket.
    public var productionResources: [ResourceIdentity] {
        var prod = environments[production].map { resources(of: $0) } ?? []
        if let snapshots {
            prod.append(.bucket(snapshots.bucket, account: accounts[snapshots.account]?.id))
        }
        return prod
    }

    /// The resources of `environment` that are PROD's, each with PROD's name for it; none for
    /// PROD itself.
    public func productionResources(namedBy environment: Environment) -> [ResourceIdentity.Conflict] {
        guard environment.name != production else { return [] }
        return ResourceIdentity.conflicts(of: resources(of: environment), with: productionResources)
    }

    /// The PROD guard for this config's phases: PROD by name, and every other environment with
    /// its resources, so one that names PROD's is refused too.
    public func productionGuard(confirmed: Bool) -> ProductionGuard {
        ProductionGuard(
            production: production, confirmed: confirmed, productionResources: productionResources,
            environmentResources: environments.filter { $0.key != production }.mapValues { resources(of: $0) })
    }

    /// `environment`'s resources, each with its key path in the config.
    func namedResources(of environment: Environment) -> [(path: [String], identity: ResourceIdentity)] {
        let here = ["environments", environment.name]
        var resources: [(path: [String], identity: ResourceIdentity)] = [
            (here + ["deployBucket"], .bucket(environment.deployBucket, account: accounts[environment.account]?.id))
        ]
        for (product, application) in (environment.applications ?? [:]).sorted(by: { $0.key < $1.key }) {
            let at = here + ["applications", product]
            resources.append((at + ["url"], .url(application.url)))
            if let database = application.database, let location = try? DatabaseLocation(url: database.url) {
                resources.append((at + ["database", "url"], .database(location)))
            }
            if let home = application.sharedHome {
                resources.append((at + ["sharedHome"], .sharedHome(path(home), efs: application.sharedHomeEFS)))
            }
        }
        return resources
    }

}
