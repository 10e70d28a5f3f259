import ArgumentParser
import Foundation
import Logging
import Pipeline
import ToolSupport

/// The options every phase executable shares; the executables in `Examples/` are thin mains
/// around ``run(_:component:commit:deployer:confirmProduction:allowUncommitted:refresh:source:rollback:)`` and
/// ``PhaseExit``.
///
/// ```swift
/// @main struct Nightly: AsyncParsableCommand {
///     @OptionGroup var options: PhaseOptions
///     static func main() async { await runAsTool("nightly", isRefusal: PhaseExit.isRefusal) }
///     func run() async throws { try await options.run(.nightly, component: nil, commit: nil) }
/// }
/// ```
public struct PhaseOptions: ParsableArguments {
    @Option(help: "The pipeline config.") public var config = "pipeline.yml"
    @Option(help: "Run only these steps (comma-separated).") public var only: String?
    @Option(help: "Leave out these steps (comma-separated).") public var skip: String?
    @Flag(help: "Print what each step would do and change nothing.") public var dryRun = false
    @Flag(help: "Print the run report as JSON instead of text.") public var json = false
    @Option(help: "Write <phase>-<commit>.json and .xml (JUnit) and the testers' reports here.") public var reportDir:
        String?
    @Option(help: "Where run state (the refresh's) and downloads go.") public var work = ".atlas-relay"
    @Option(help: "Seconds between stack polls.") public var pollSeconds = 5.0

    public init() {}

    /// Where a phase's code and config come from.
    public enum Source: Sendable {
        /// The checkout `--config` lives in.
        case checkout
        /// The repository on Bitbucket Server that `--config`'s `bitbucket` section names,
        /// fetched at the commit (nightly in a CodeBuild project without a source).
        case bitbucket
        /// The commit's verified release in the deploy bucket the phase promotes from (uat
        /// and go-live without a repository).
        case release
    }

    /// Loads the config, runs `phase` for `commit` (nil: the head of the config's base branch)
    /// and prints the report (text, or JSON with `--json`). With `source` `.bitbucket`, the config
    /// only says where the repository is: the commit is fetched from Bitbucket Server into
    /// `--work` and the phase runs on its own `pipeline.yml` (`Pipeline.fetchSource(for:commit:workDirectory:configName:)`);
    /// with `.release`, on the `pipeline.yml` and files of the commit's verified release
    /// (`Pipeline.fetchRelease(for:commit:workDirectory:configName:)`).
    ///
    /// - Throws: `ExitCode(1)` when a step failed (the report is printed first);
    ///   `PipelineConfigError` and `PipelineError` for what was refused before any step ran,
    ///   `ValidationError` for a bad option, and the errors of recording the pass or writing the
    ///   reports. `runAsTool` with ``PhaseExit/isRefusal(_:)`` turns them into exit statuses.
    public func run(
        _ phase: Phase, component: String?, commit: String?, deployer: Pipeline.Deployer = .cold,
        confirmProduction: Bool = false, allowUncommitted: Bool = false, refresh: Bool = false,
        source: Source = .checkout, rollback: Bool = false
    ) async throws {
        var logger = Logger(label: "atlas-relay.pipeline")
        logger.logLevel =
            ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        // With the code elsewhere, the config given only says where; its templates are not here.
        var loaded = try PipelineConfig.load(config, checkingFiles: source == .checkout)
        var commit = commit
        if rollback {
            let target = try await Pipeline(config: loaded, logger: logger).rollbackTarget(for: phase)
            logger.notice("rolling back to \(target): the newest earlier deploy that passed \(phase.rawValue)")
            commit = target
        }
        let name = URL(fileURLWithPath: config).lastPathComponent
        // The config given says where the code is; the run uses the commit's own.
        switch source {
        case .checkout: break
        case .bitbucket:
            let fetched = try await Pipeline(config: loaded, logger: logger).fetchSource(
                for: phase, commit: commit, workDirectory: work, configName: name)
            (commit, loaded) = (fetched.commit, fetched.config)
        case .release:
            guard let commit else { throw ValidationError("--from-release needs --commit") }
            loaded = try await Pipeline(config: loaded, logger: logger).fetchRelease(
                for: phase, commit: commit, workDirectory: work, configName: name)
        }
        let pipeline = Pipeline(config: loaded, logger: logger)
        var selection = PhaseRunner.Selection(only: Self.list(only), skip: Self.list(skip))
        if let component { selection.only.append(component) }
        let report = try await pipeline.run(
            phase, commit: commit ?? loaded.baseBranch, selection: selection, dryRun: dryRun,
            options: .init(
                deployer: deployer, confirmProduction: confirmProduction, reportDirectory: reportDir,
                workDirectory: work,
                pollInterval: try ToolInput.seconds(pollSeconds, option: "--poll-seconds", within: 0.01...3600),
                allowUncommitted: allowUncommitted, refresh: refresh))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.passed { throw ExitCode(ToolExit.failed) }
    }

    /// The names of a comma-separated list, trimmed, empty ones left out.
    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

extension Pipeline.Deployer: ExpressibleByArgument {}

/// `--commit SHA` or `--rollback`, for the phases that promote (uat, go-live).
public struct PromotionOption: ParsableArguments {
    @Option(help: "The COMMIT_ID to promote (it must have passed the phase before).") public var commit: String?
    @Flag(
        help: """
            Roll back: promote and deploy the newest earlier commit that passed this phase in the \
            target environment, with every gate, instead of --commit.
            """)
    public var rollback = false

    public init() {}

    public func validate() throws {
        if rollback == (commit != nil) { throw ValidationError("give --commit SHA or --rollback, not both or neither") }
    }
}

/// `<phase> status`: which commit runs in each environment, since when and by which run, and
/// which commits passed each phase (reads only).
public struct StatusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print which commit runs where, when and by which run, and which commits passed each phase.")
    @Option(help: "The pipeline config.") var config = "pipeline.yml"
    @Option(help: "Earlier deploys to list per environment.") var history = 5
    @Flag(help: "JSON instead of text.") var json = false

    public init() {}

    public func run() async throws {
        let pipeline = Pipeline(config: try PipelineConfig.load(config, checkingFiles: false))
        let statuses = try await pipeline.status(historyLimit: max(1, history + 1))
        guard json else { return print(Pipeline.statusText(statuses)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(statuses), as: UTF8.self))
    }
}

/// `--from-release`, for the phases that promote (uat, go-live): run on the commit's verified
/// release instead of a checkout.
public struct ReleaseSourceOption: ParsableArguments {
    @Flag(
        help: """
            Run on the pipeline.yml, stacks and templates of the commit's verified release in the \
            bucket it is promoted from (for a CodeBuild project without a repository); --config \
            then only says where the buckets are.
            """)
    public var fromRelease = false

    public init() {}

    /// Where the phase's code and config come from.
    public var source: PhaseOptions.Source { fromRelease ? .release : .checkout }
}

