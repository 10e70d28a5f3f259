import ArgumentParser
import PhaseCLI
import Pipeline
import ToolSupport

/// `nightly`: Data-Provider → Data-Refresher → Code-Releaser → Cold-Deployer → App-Tester in DEV.
@main
struct Nightly: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nightly",
        abstract: "Nightly integration in DEV: PROD data in, master's code released, deployed and tested.",
        discussion: "Exit codes: 0 passed (recorded as passed nightly), 1 a step failed, 2 bad input or refused.")
    @Argument(help: "Run only this step: data-provider, data-refresher, code-releaser, cold-deployer, app-tester.")
    var component: String?
    @Option(help: "The commit to release (default: the head of the config's baseBranch).") var commit: String?
    @Flag(
        help: """
            Fetch the commit from the Bitbucket Server in --config's bitbucket section (for a CodeBuild \
            project without a source) and run on the commit's own pipeline.yml.
            """)
    var fromBitbucket = false
    @OptionGroup var options: PhaseOptions

    /// Parses, runs, and exits 0 passed, 1 a step failed, 2 bad input or refused.
    static func main() async {
        await runAsTool("nightly", isRefusal: PhaseExit.isRefusal)
    }

    func run() async throws {
        try await options.run(.nightly, component: component, commit: commit, source: fromBitbucket ? .bitbucket : .checkout)
    }
}
