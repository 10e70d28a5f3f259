import AtlassianAdmin

extension DataRefresher {
    /// What ``refresh(snapshot:from:)`` would do, touching nothing: the dry run.
    public struct Plan: Sendable, Equatable {
        /// The snapshot it would restore.
        public let manifest: SnapshotManifest
        /// The steps it would run, in order.
        public let steps: [Step]
        /// The steps an unfinished run of this snapshot already did.
        public let alreadyDone: [Step]
        /// The sanitisation steps of the target's products, in the order they run, each with
        /// whether the environment's policy has it on (``Step/rewriteSettings`` runs them).
        public var sanitisation: [SanitisationListing] = []
        /// The hosts the PROD-reference scan looks for after the rewrite and after start.
        public var productionHosts: [String] = []

        /// A readable summary.
        public var text: String {
            var lines = ["snapshot \(manifest.id) from \(manifest.sourceEnvironment):"]
            for product in manifest.products {
                lines.append(
                    "  \(product.name): database dump \(product.dumpBytes) bytes, shared home "
                        + "\(product.sharedHomeObjects) objects / \(product.sharedHomeBytes) bytes")
            }
            if !alreadyDone.isEmpty {
                lines.append("resuming; done: \(alreadyDone.map(\.rawValue).joined(separator: ", "))")
            }
            lines.append("steps: \(steps.map(\.rawValue).joined(separator: " → "))")
            if !sanitisation.isEmpty {
                lines.append("sanitisation (in \(Step.rewriteSettings.rawValue), before the first start):")
                for listing in sanitisation {
                    lines.append(
                        "  \(listing.isOn ? "on " : "OFF") \(listing.step.name): \(listing.step.summary)"
                            + (listing.isOn ? "" : " (turned off in the settings: PROD's behaviour is kept)"))
                    lines.append("      changes \(listing.step.changes); source: \(listing.step.source)")
                }
            }
            lines.append(
                productionHosts.isEmpty
                    ? "PROD-reference scan: no PROD hosts known, nothing to look for"
                    : "PROD-reference scan after the rewrite and after start, for: "
                        + productionHosts.joined(separator: ", "))
            return lines.joined(separator: "\n")
        }
    }

    /// Plans a refresh (the same checks and choices as ``refresh(snapshot:from:)``).
    public func plan(snapshot: String? = nil, from: Step? = nil) async throws -> Plan {
        try checkTarget()
        let previous = try unfinished()
        let manifest = try await chooseSnapshot(snapshot ?? previous?.snapshot)
        let state = resumeState(previous, manifest: manifest, from: from)
        for target in targets { _ = try product(target.name, in: manifest) }
        var plan = Plan(
            manifest: manifest, steps: Step.allCases.filter { !state.done.contains($0) }, alreadyDone: state.done)
        plan.sanitisation = sanitisationListing
        plan.productionHosts = productionHosts(of: manifest)
        return plan
    }

    /// One sanitisation step of a dry run, on or off.
    public struct SanitisationListing: Sendable, Equatable {
        /// The step.
        public let step: SanitisationStep
        /// Whether the environment's policy has it on.
        public let isOn: Bool
    }

    /// The sanitisation steps of the targets' products, in the order they run, on or off.
    var sanitisationListing: [SanitisationListing] {
        targets.compactMap(\.product).flatMap { product in
            SanitisationStep.steps(for: product).map {
                SanitisationListing(step: $0, isOn: settings.sanitisation.isOn($0))
            }
        }
    }

    func resumeState(_ previous: RunState?, manifest: SnapshotManifest, from: Step?) -> RunState {
        var state = previous?.snapshot == manifest.id ? previous! : RunState(snapshot: manifest.id, done: [])
        if let from {
            let index = Step.allCases.firstIndex(of: from)!
            state.done.removeAll { Step.allCases.firstIndex(of: $0)! >= index }
        }
        return state
    }
}
