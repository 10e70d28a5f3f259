extension DataRefresher {
    /// What ``refresh(snapshot:from:)`` would do, touching nothing: the dry run.
    public struct Plan: Sendable, Equatable {
        /// The snapshot it would restore.
        public let manifest: SnapshotManifest
        /// The steps it would run, in order.
        public let steps: [Step]
        /// The steps an unfinished run of this snapshot already did.
        public let alreadyDone: [Step]

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
        return Plan(
            manifest: manifest, steps: Step.allCases.filter { !state.done.contains($0) }, alreadyDone: state.done)
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
