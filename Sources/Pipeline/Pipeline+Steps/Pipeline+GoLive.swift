import AppTesting
import AtlassianAdmin

// The step only go-live has: read-only smoke checks against PROD.

extension Pipeline {
    func smokeTester() throws -> PhaseStep {
        let prod = config.productionEnvironment
        return PhaseStep(
            "smoke-tester",
            plan: {
                "would run read-only smoke checks against \(prod.name)'s \((prod.applications ?? [:]).keys.sorted().joined(separator: " and "))"
            },
            run: {
                let context = try await self.context(prod)
                let smoke = prod.tests?.smoke
                var targets: [SmokeTester.Target] = []
                if let jira = context.jira {
                    targets.append(
                        .init(
                            client: jira, expectedVersion: prod.application(.jira)?.version,
                            knownContent: smoke?.jira?.issue))
                }
                if let confluence = context.confluence {
                    targets.append(
                        .init(
                            client: confluence, expectedVersion: prod.application(.confluence)?.version,
                            knownContent: smoke?.confluence?.page))
                }
                let run = await SmokeTester(targets: targets).run()
                var figures = [
                    "passed": "\(run.results.filter { $0.outcome == .passed }.count)",
                    "failed": "\(run.results.filter { $0.outcome == .failed }.count)",
                ]
                // Without the version the deploy should have brought, "PROD runs the release" is
                // unproven: that needs an explicit waiver.
                let unversioned = targets.filter { $0.expectedVersion == nil }.map { "\($0.client.product)" }
                let waiver = prod.tests?.waivers?["version"]
                if !unversioned.isEmpty, let waiver { figures["waived"] = waiver }
                guard run.passed else { throw StepFailed(run.summary, figures: figures) }
                guard unversioned.isEmpty || waiver != nil else {
                    throw StepFailed(
                        "no expected version for \(unversioned.joined(separator: " and ")) in \(prod.name), so the smoke "
                            + "test cannot show that the deploy brought it: set "
                            + unversioned.map { "environments.\(prod.name).applications.\($0).version" }
                            .joined(separator: " and ")
                            + ", or waive the gate with tests.waivers.version: <why>",
                        figures: figures)
                }
                return figures
            })
    }
}
