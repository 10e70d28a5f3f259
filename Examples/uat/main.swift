import ArgumentParser
import PhaseCLI
import Pipeline
import ToolSupport

/// `uat --commit SHA`: promote the commit that passed nightly into UAT, deploy, test, invite;
/// `uat --rollback`: the same for the commit UAT ran before; `uat status`: which commit runs where.
@main
struct UAT: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uat",
        abstract: "UAT: promote a commit that passed nightly, deploy it, run App- and Perf-Tester, invite users.",
        discussion: "Exit codes: 0 passed (recorded as passed uat), 1 a step failed, 2 bad input or refused.",
        subcommands: [Run.self, StatusCommand.self], defaultSubcommand: Run.self)

    /// Parses, runs, and exits 0 passed, 1 a step failed, 2 bad input or refused.
    static func main() async {
        await runAsTool("uat", isRefusal: PhaseExit.isRefusal)
    }
}

/// `uat [run]`: the phase (the default).
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Promote --commit (or, with --rollback, the commit UAT ran before) into UAT, deploy and test it (the default).")
    @Argument(help: "Run only this step: data-refresher (with --refresh), code-releaser, deployer, app-tester, perf-tester, invite.")
    var component: String?
    @OptionGroup var promotion: PromotionOption
    @Option(help: "cold or hot.") var deployer: Pipeline.Deployer = .cold
    @Flag(help: "Refresh UAT from the newest complete PROD snapshot first (UAT needs a refresh section in the config).")
    var refresh = false
    @OptionGroup var release: ReleaseSourceOption
    @OptionGroup var options: PhaseOptions

    func run() async throws {
        try await options.run(
            .uat, component: component, commit: promotion.commit, deployer: deployer, refresh: refresh,
            source: release.source, rollback: promotion.rollback)
    }
}
