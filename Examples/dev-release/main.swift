import ArgumentParser
import Foundation
import Logging
import PhaseCLI
import Pipeline
import ToolSupport

/// `dev-release`: the checked-out ticket branch's code into DEV's deploy bucket, from a laptop;
/// `dev-release bootstrap`: the pipeline itself into its accounts.
@main
struct DevRelease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-release",
        abstract: "Release the current feature/<jira-key>-… branch's committed code to DEV's deploy bucket.",
        discussion:
            "Exit codes: 0 released, 1 failed, 2 bad input or refused (for example a branch not named for a ticket).",
        subcommands: [Release.self, Bootstrap.self], defaultSubcommand: Release.self)

    /// Parses, runs, and exits 0 passed, 1 a step failed, 2 bad input or refused.
    static func main() async {
        await runAsTool("dev-release", isRefusal: PhaseExit.isRefusal)
    }
}

/// `dev-release [release]`: the ticket branch's release.
struct Release: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Release the current feature/<jira-key>-… branch's committed code to DEV's deploy bucket (the default).")
    @Flag(help: "Include uncommitted changes to tracked files.") var allowUncommitted = false
    @OptionGroup var options: PhaseOptions

    func run() async throws {
        try await options.run(.devRelease, component: nil, commit: "HEAD", allowUncommitted: allowUncommitted)
    }
}

/// `dev-release bootstrap`: the account roles in UAT and PROD, the CodeBuild stack in DEV and the
/// config the phases start from.
struct Bootstrap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deploy the pipeline itself: its roles in UAT's and PROD's accounts, the CodeBuild stack, the config.",
        discussion: """
            Deploys <prefix>-roles-<environment> (Examples/codebuild/pipeline-account-roles.yaml) in each \
            account of UAT and PROD that is not DEV's, through --admin-role-name there, then \
            <prefix>-codebuild (pipeline-codebuild.yaml) in DEV's account with parameters from the \
            config, and uploads the config to s3://<artifacts-bucket>/atlas-relay/pipeline.yml. \
            Start the tools project afterwards. With --roles-only, only the roles stacks (the \
            CodeBuild options are then not needed).
            """)
    @Option(help: "The pipeline config.") var config = "pipeline.yml"
    @Option(help: "The artifacts bucket in DEV's account (tools, config, reports).") var artifactsBucket: String?
    @Option(help: "The Atlas Relay tag or commit the tools project builds.") var toolsVersion: String?
    @Option(help: "The Atlas Relay repository the tools project builds.") var toolsRepository: String?
    @Option(help: "The role assumed in UAT's and PROD's accounts to create the pipeline's roles.")
    var adminRoleName = "OrganizationAccountAccessRole"
    @Option(help: "The prefix of the projects and stacks.") var prefix = "atlas-relay"
    @Option(help: "The folder with pipeline-codebuild.yaml and pipeline-account-roles.yaml.")
    var templates = "Examples/codebuild"
    @Flag(help: "Deploy only the roles in UAT's and PROD's accounts: no CodeBuild stack, no config upload.")
    var rolesOnly = false
    @Flag(help: "Print each stack's plan and change nothing.") var dryRun = false
    @Option(help: "Seconds between stack polls.") var pollSeconds = 5.0

    func validate() throws {
        let codeBuild = [("--artifacts-bucket", artifactsBucket), ("--tools-version", toolsVersion), ("--tools-repository", toolsRepository)]
        let missing = codeBuild.filter { $0.1 == nil }.map(\.0)
        if rolesOnly, missing.count < codeBuild.count {
            throw ValidationError("--roles-only deploys no CodeBuild stack: leave out \(codeBuild.filter { $0.1 != nil }.map(\.0).joined(separator: ", "))")
        }
        if !rolesOnly, !missing.isEmpty {
            throw ValidationError("the CodeBuild stack needs \(missing.joined(separator: ", ")) (or pass --roles-only)")
        }
    }

    func run() async throws {
        let loaded = try PipelineConfig.load(config)
        let pipeline = Pipeline(config: loaded, logger: Logger(label: "atlas-relay.bootstrap"))
        let codeBuild = rolesOnly
            ? nil
            : Pipeline.Bootstrap.CodeBuild(
                artifactsBucket: artifactsBucket!, toolsVersion: toolsVersion!, toolsRepository: toolsRepository!)
        let lines = try await pipeline.bootstrap(
            .init(codeBuild: codeBuild, adminRoleName: adminRoleName, projectPrefix: prefix, templates: templates),
            configFile: config, dryRun: dryRun, pollInterval: try ToolInput.seconds(pollSeconds, option: "--poll-seconds", within: 0.01...3600))
        for line in lines { print(line) }
    }
}
