import AtlassianAdmin
import DataRefresh
import Foundation
import Logging
import StackDeploy

/// Composes the modules into the pipeline's phases: DEV release, nightly integration, UAT and
/// go-live, each a list of ``PhaseStep``s run by a ``PhaseRunner`` from one ``PipelineConfig``.
///
/// ```swift
/// let pipeline = try Pipeline(config: PipelineConfig.load("pipeline.yml"))
/// let report = try await pipeline.run(.nightly, commit: "master")
/// print(report.text)
/// ```
public struct Pipeline: Sendable {
    /// How the phase deploys.
    public enum Deployer: String, Sendable, CaseIterable {
        /// Update every stack's `CodeVersion` through change sets.
        case cold
        /// Replace the code on running instances through SSM, a batch at a time.
        case hot
    }

    /// Options of one run.
    public struct Options: Sendable {
        /// Cold or hot.
        public var deployer: Deployer
        /// `--confirm-prod`.
        public var confirmProduction: Bool
        /// Where reports go (the phase's and the testers').
        public var reportDirectory: String?
        /// Where run state (the refresh's) and downloads go.
        public var workDirectory: String
        /// How often stacks are polled.
        public var pollInterval: Duration
        /// For dev-release: include uncommitted changes of tracked files.
        public var allowUncommitted: Bool
        /// For uat: refresh UAT from the newest complete PROD snapshot before the deploy (UAT
        /// needs a `refresh` section).
        public var refresh: Bool

        /// Creates options.
        public init(
            deployer: Deployer = .cold, confirmProduction: Bool = false, reportDirectory: String? = nil,
            workDirectory: String = ".atlas-relay", pollInterval: Duration = .seconds(5), allowUncommitted: Bool = false,
            refresh: Bool = false
        ) {
            self.refresh = refresh
            self.deployer = deployer
            self.confirmProduction = confirmProduction
            self.reportDirectory = reportDirectory
            self.workDirectory = workDirectory
            self.pollInterval = pollInterval
            self.allowUncommitted = allowUncommitted
        }
    }

    /// The config.
    public let config: PipelineConfig
    /// Clients by account name, with the account's `role`: deploys and releases.
    public let clients: [String: AccountClients]
    /// Clients by account name, with the account's `readRole` (else its `role`): secrets.
    public let readers: [String: AccountClients]
    /// The snapshot bucket's clients, with `snapshots.role` (else its account's `role`).
    public let snapshotClients: AccountClients?
    /// The process environment (for `env:` secrets and endpoints).
    public let environment: [String: String]
    /// Where progress goes.
    public let logger: Logger
    /// How Data-Refresher stops and starts applications, by environment, when Swift code knows
    /// better than the config's `control` commands (an ASG scaled from Swift, a test's simulators).
    public var applicationControl: [String: DataRefresher.ApplicationControl] = [:]

    /// Creates a pipeline for `config`.
    public init(
        config: PipelineConfig, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "atlas-relay.pipeline")
    ) {
        self.config = config
        self.environment = environment
        self.logger = logger
        var awsLogger = logger
        awsLogger.logLevel = .warning
        let clients = config.accounts.mapValues {
            AccountClients($0, role: $0.role, environment: environment, logger: awsLogger)
        }
        // Another purpose's clients: the deploy clients when the role is the same, so each role
        // is assumed (and its credentials cached) once.
        func withRole(_ name: String, _ role: String?) -> AccountClients? {
            guard let account = config.accounts[name] else { return nil }
            return role == account.role
                ? clients[name] : AccountClients(account, role: role, environment: environment, logger: awsLogger)
        }
        self.clients = clients
        readers = Dictionary(
            uniqueKeysWithValues: config.accounts.compactMap { name, account in
                withRole(name, account.readRole ?? account.role).map { (name, $0) }
            })
        snapshotClients = config.snapshots.flatMap { snapshots in
            withRole(snapshots.account, snapshots.role ?? config.accounts[snapshots.account]?.role)
        }
    }

    /// The environment a phase works on: `dev` for dev-release and nightly, `uat`, and PROD.
    public func environment(of phase: Phase) throws -> PipelineConfig.Environment {
        switch phase {
        case .devRelease, .nightly: try config.environment("dev")
        case .uat: try config.environment("uat")
        case .goLive: config.productionEnvironment
        }
    }

    /// The environment whose deploy bucket holds the passed records `phase`'s promotion needs.
    func source(of phase: Phase) throws -> PipelineConfig.Environment? {
        switch phase {
        case .devRelease, .nightly: nil
        case .uat: try config.environment("dev")
        case .goLive: try config.environment("uat")
        }
    }

    /// The clients of `environment`'s account.
    public func clients(of environment: PipelineConfig.Environment) -> AccountClients {
        clients[environment.account]!
    }

    /// `environment`'s deploy bucket; with `reading`, through the account's read role (where it
    /// has one), for what only reads it.
    public func deployBucket(_ environment: PipelineConfig.Environment, reading: Bool = false) -> DeployBucket {
        DeployBucket(
            s3: (reading ? readers[environment.account]! : clients(of: environment)).s3, bucket: environment.deployBucket,
            isProduction: config.isProduction(environment), expectedAccount: config.account(of: environment).id)
    }

    /// Resolves secrets with `environment`'s account's SSM and Secrets Manager.
    func secrets(_ environment: PipelineConfig.Environment) -> SecretResolver {
        let clients = readers[environment.account]!
        return SecretResolver(environment: self.environment, ssm: clients.ssm, secretsManager: clients.secretsManager)
    }

    /// Runs `phase` for `commit` (a SHA, branch or tag; resolved in the repository) and, when
    /// every step ran and passed, records the pass in the environment's deploy bucket.
    ///
    /// - Throws: ``PipelineError`` or ``PipelineConfigError`` for what is refused before any
    ///   step runs (the PROD guard, an unknown step, a missing environment). Step failures are
    ///   in the report.
    public func run(
        _ phase: Phase, commit: String, selection: PhaseRunner.Selection = .init(), dryRun: Bool = false,
        options: Options = Options()
    ) async throws -> RunReport {
        let target = try environment(of: phase)
        let resolved = try await resolve(commit, phase: phase)
        let steps = try steps(phase, commit: resolved, options: options)
        let runner = PhaseRunner(
            phase: phase, commit: resolved, environment: target.name,
            guard: config.productionGuard(confirmed: options.confirmProduction),
            logger: logger)
        // Bitbucket shows the phase's status, and the phase records a pass, only for a whole run:
        // a partial one (--only, --skip, one component) proves nothing about the phase.
        let whole = selection.only.isEmpty && selection.skip.isEmpty
        /// Posts to Bitbucket when configured; the phase's outcome stands whatever happens there.
        func status(_ post: (BuildStatus, String?) async throws -> Void) async {
            guard !dryRun, whole, let bitbucket = config.bitbucket else { return }
            do {
                try await post(
                    BuildStatus(
                        url: bitbucket.url, token: try await secrets(target).resolve(bitbucket.token),
                        project: bitbucket.project, repository: bitbucket.repository,
                        caFile: bitbucket.caFile.map(config.path)),
                    BuildStatus.buildLink(environment: environment))
            } catch {
                logger.warning("build status not posted", metadata: ["error": "\(error)"])
            }
        }
        await status {
            try await $0.post(
                .inProgress, commit: resolved, phase: phase, environment: target.name, description: "running", link: $1)
        }
        let report = try await runner.run(steps, selection: selection, dryRun: dryRun)
        let complete = report.steps.allSatisfy { $0.outcome == .passed }
        if complete && whole && phase != .devRelease {
            // A gate passed by waiver says so in the record, with its reason.
            let waived = report.steps.compactMap { step in step.figures["waived"].map { "\(step.name): \($0)" } }
            var details = ["environment": target.name, "seconds": String(format: "%.1f", report.seconds)]
            if !waived.isEmpty { details["waivers"] = waived.joined(separator: "; ") }
            try await CodeReleaser.recordPass(
                commit: resolved, phase: phase.rawValue, in: deployBucket(target), details: details)
            logger.info("pass recorded", metadata: ["phase": "\(phase.rawValue)", "commit": "\(resolved)"])
        }
        if let directory = options.reportDirectory { try report.write(to: directory) }
        if !whole && !dryRun {
            logger.info("partial run: no pass recorded and no build status posted", metadata: ["phase": "\(phase.rawValue)"])
        }
        await status { try await $0.post(report, link: $1) }
        return report
    }

    /// The commit's full SHA; for dev-release, the working tree's HEAD. uat and go-live work
    /// from releases and pass records only, so a full hash needs no repository there (their
    /// CodeBuild projects have none); a branch, tag or short hash is resolved in the repository.
    func resolve(_ commit: String, phase: Phase) async throws -> String {
        if phase == .uat || phase == .goLive, BitbucketSource.isFullHash(commit) { return commit.lowercased() }
        let repository = GitRepository(path: config.directory)
        do { return try await repository.resolve(phase == .devRelease ? "HEAD" : commit) } catch {
            throw PipelineError(
                "cannot resolve '\(commit)' in \(config.directory): \(error)"
                    + (phase == .uat || phase == .goLive ? "; without a repository, give the full 40-character hash" : ""),
                kind: .unknownCommit, underlying: error)
        }
    }

    /// The steps of `phase` in order.
    public func steps(_ phase: Phase, commit: String, options: Options) throws -> [PhaseStep] {
        switch phase {
        case .devRelease: try [devRelease(options)]
        case .nightly:
            try [
                dataProvider(options)
            ] + nightlyRefreshers(options) + [
                codeReleaser(phase, commit: commit, options: options),
                deployer(phase, commit: commit, options: options), appTester(phase, commit: commit, options: options),
            ]
        case .uat:
            try (options.refresh ? [dataRefresher(try environment(of: phase), options)] : []) + [
                codeReleaser(phase, commit: commit, options: options),
                deployer(phase, commit: commit, options: options),
                appTester(phase, commit: commit, options: options), perfTester(commit: commit, options: options),
                invite(commit: commit),
            ]
        case .goLive:
            try [
                codeReleaser(phase, commit: commit, options: options),
                deployer(phase, commit: commit, options: options),
                smokeTester(commit: commit),
            ]
        }
    }

    // MARK: - Pieces the steps share

    /// `app`'s database as the config names it (without its password).
    ///
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/incompleteConfig`` when the
    ///   config gives none; `DatabaseLocation`'s error for a malformed URL.
    static func database(_ app: PipelineConfig.Application, _ name: String, in environment: PipelineConfig.Environment)
        throws
        -> DatabaseLocation
    {
        guard let database = app.database else {
            throw PipelineError(
                "environments.\(environment.name).applications.\(name) has no database", kind: .incompleteConfig)
        }
        return try DatabaseLocation(url: database.url)
    }

    /// `app`'s database with its password resolved from the config's reference.
    func database(
        _ app: PipelineConfig.Application, _ name: String, in environment: PipelineConfig.Environment,
        secrets: SecretResolver
    ) async throws -> DatabaseLocation {
        let location = try Self.database(app, name, in: environment)
        guard let reference = app.database?.password else { return location }
        return location.with(password: try await secrets.resolve(reference))
    }

    /// `app`'s shared home as the config gives it (relative to the config's folder).
    ///
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/incompleteConfig`` when the
    ///   config gives none.
    static func home(_ app: PipelineConfig.Application, _ name: String, in environment: PipelineConfig.Environment)
        throws -> String
    {
        guard let home = app.sharedHome else {
            throw PipelineError(
                "environments.\(environment.name).applications.\(name) has no sharedHome", kind: .incompleteConfig)
        }
        return home
    }

    /// `app`'s REST credentials with their secrets resolved; nil when the config gives none.
    func credentials(_ app: PipelineConfig.Application, secrets: SecretResolver) async throws -> AtlassianCredentials? {
        guard let credentials = app.credentials else { return nil }
        if let token = credentials.token { return .token(try await secrets.resolve(token)) }
        if let user = credentials.user, let password = credentials.password {
            return .basic(user: user, password: try await secrets.resolve(password))
        }
        return nil
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
