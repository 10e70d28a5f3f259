import AppTesting
import AtlassianAdmin
import Foundation

// app-tester (nightly and UAT), and the test context every tester step reads the products
// through.

extension Pipeline {
    /// The target's products as a test context.
    func context(_ environment: PipelineConfig.Environment) async throws -> TestContext {
        let secrets = secrets(environment)
        return TestContext(
            jira: try await environment.application(.jira).asyncMap {
                try JiraClient(baseURL: $0.url, credentials: try await credentials($0, secrets: secrets))
            },
            confluence: try await environment.application(.confluence).asyncMap {
                try ConfluenceClient(baseURL: $0.url, credentials: try await credentials($0, secrets: secrets))
            })
    }

    func appTester(_ phase: Phase, commit: String, options: Options) throws -> PhaseStep {
        let target = try environment(of: phase)
        let products = target.tests?.functionalProducts ?? []
        return PhaseStep(
            "app-tester", writesTo: target.name,
            plan: {
                "would run the \(products.map(\.rawValue).joined(separator: " and ")) suites against \(target.name)"
            },
            run: {
                let scenarios = Self.scenarios(products, target.tests)
                // A pass with nothing tested would say nothing; it needs an explicit waiver.
                let waiver = scenarios.isEmpty ? target.tests?.waivers?["functional"] : nil
                guard !scenarios.isEmpty || waiver != nil else {
                    throw StepFailed(
                        "\(target.name) names no products to test (tests.functional), so a pass would prove nothing; "
                            + "list them, or waive the gate with tests.waivers.functional: <why>")
                }
                let context = try await self.context(target)
                // In UAT, every node the config locates must run the commit, as go-live checks PROD.
                // (An application whose stack has no running instance yet, as before its first hot
                // deploy in the sandbox, has nothing to check; the figures say how many were.)
                var nodeChecks: [Scenario] = []
                var checkedNodes = 0
                if phase == .uat, !(target.nodes ?? [:]).isEmpty {
                    let located = try await smokeTargets(target, commit: commit).filter { !$0.nodes.isEmpty }
                    checkedNodes = located.reduce(0) { $0 + $1.nodes.count }
                    nodeChecks = SmokeTester(targets: located).scenarios().filter { $0.name.hasSuffix(": nodes running") }
                }
                let run = await AppTester().run("\(phase.rawValue)-app-tester", scenarios + nodeChecks) { context }
                if let directory = options.reportDirectory {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    try Data(Reports.junit(runs: [run]).utf8).write(
                        to: URL(fileURLWithPath: directory).appendingPathComponent(
                            "app-tester-\(commit.prefix(12)).xml"))
                }
                var figures = [
                    "passed": "\(run.results.filter { $0.outcome == .passed }.count)",
                    "failed": "\(run.results.filter { $0.outcome == .failed }.count)",
                ]
                if phase == .uat, target.nodes != nil { figures["nodes"] = "\(checkedNodes)" }
                if let waiver { figures["waived"] = waiver }
                guard run.passed else { throw StepFailed(run.summary, figures: figures) }
                return figures
            })
    }

    /// The default suites of `products` as `tests` configures them (project, space, issue type,
    /// search wait), only the scenarios it names when it names some.
    static func scenarios(_ products: [Product], _ tests: PipelineConfig.Tests?) -> [Scenario] {
        let wait = Duration.milliseconds(Int((tests?.searchWait ?? 30) * 1000))
        let all = products.flatMap {
            $0 == .jira
                ? Suites.jira(project: tests?.project ?? "DEMO", issueType: tests?.issueType ?? "Task", searchWait: wait)
                : Suites.confluence(space: tests?.space ?? "DEMO", searchWait: wait)
        }
        guard let names = tests?.scenarios else { return all }
        return all.filter { names.contains($0.name) }
    }

    /// Every scenario name the default suites have, for the config's validation.
    static let scenarioNames = Set((Suites.jira() + Suites.confluence()).map(\.name))
}
