import ArgumentParser
import PhaseCLI
import Pipeline
import ToolSupport

/// `go-live --commit SHA --confirm-prod`: promote the commit that passed UAT into PROD, deploy,
/// smoke-test; `go-live --rollback --confirm-prod`: the same for the commit PROD ran before;
/// `go-live status`: which commit runs where.
@main
struct GoLive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "go-live",
        abstract: "Go live: promote a commit that passed UAT into PROD, deploy it and smoke-test PROD.",
        discussion:
            "Exit codes: 0 passed, 1 a step failed, 2 bad input or refused (for example without --confirm-prod).",
        subcommands: [Run.self, StatusCommand.self], defaultSubcommand: Run.self)

    /// Parses, runs, and exits 0 passed, 1 a step failed, 2 bad input or refused.
    static func main() async {
        await runAsTool("go-live", isRefusal: PhaseExit.isRefusal)
    }
}

/// `go-live [run]`: the phase (the default).
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Promote --commit (or, with --rollback, the commit PROD ran before) into PROD, deploy, smoke-test (the default).")
    @Argument(help: "Run only this step: code-releaser, deployer, smoke-tester.") var component: String?
    @OptionGroup var promotion: PromotionOption
    @Option(help: "cold or hot.") var deployer: Pipeline.Deployer = .cold
    @Flag(help: "Confirm that this run writes to PROD.") var confirmProd = false
    @OptionGroup var release: ReleaseSourceOption
    @OptionGroup var options: PhaseOptions

    func run() async throws {
        try await options.run(
            .goLive, component: component, commit: promotion.commit, deployer: deployer, confirmProduction: confirmProd,
            source: release.source, rollback: promotion.rollback)
    }
}
