import ArgumentParser
import PhaseCLI
import Pipeline
import ToolSupport

/// `dev-release`: the checked-out ticket branch's code into DEV's deploy bucket, from a laptop.
@main
struct DevRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-release",
        abstract: "Release the current feature/<jira-key>-… branch's committed code to DEV's deploy bucket.",
        discussion:
            "Exit codes: 0 released, 1 failed, 2 bad input or refused (for example a branch not named for a ticket).")
    @Flag(help: "Include uncommitted changes to tracked files.") var allowUncommitted = false
    @OptionGroup var options: PhaseOptions

    /// Parses, runs, and exits 0 passed, 1 a step failed, 2 bad input or refused.
    static func main() async {
        await runAsTool("dev-release", isRefusal: PhaseExit.isRefusal)
    }

    func run() async throws {
        try await options.run(.devRelease, component: nil, commit: "HEAD", allowUncommitted: allowUncommitted)
    }
}
