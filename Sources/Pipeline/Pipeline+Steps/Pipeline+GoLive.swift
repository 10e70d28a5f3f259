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
                let figures = [
                    "passed": "\(run.results.filter { $0.outcome == .passed }.count)",
                    "failed": "\(run.results.filter { $0.outcome == .failed }.count)",
                ]
                guard run.passed else { throw StepFailed(run.summary, figures: figures) }
                return figures
            })
    }
}
