import AWSCore
import AWSSigning
import AppTesting
import AtlassianAdmin
import DataRefresh
import Foundation
import Logging
import S3Sync
import StackDeploy
import Synchronization

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

        /// Creates options.
        public init(
            deployer: Deployer = .cold, confirmProduction: Bool = false, reportDirectory: String? = nil,
            workDirectory: String = ".atlas-relay", pollInterval: Duration = .seconds(5), allowUncommitted: Bool = false
        ) {
            self.deployer = deployer
            self.confirmProduction = confirmProduction
            self.reportDirectory = reportDirectory
            self.workDirectory = workDirectory
            self.pollInterval = pollInterval
            self.allowUncommitted = allowUncommitted
        }
    }

    /// The AWS clients of one account.
    public struct AccountClients: Sendable {
        /// The transport, with the account's credentials.
        public let aws: AWSClient
        /// S3.
        public let s3: S3Client
        /// CloudFormation.
        public let cloudFormation: CloudFormationClient
        /// Systems Manager.
        public let ssm: SSMClient
        /// Secrets Manager.
        public let secretsManager: SecretsManagerClient
        /// EC2.
        public let ec2: EC2Client

        /// The role assumed, nil for the pipeline's own credentials.
        public let role: String?

        /// Clients for `account` with the default credential chain, or `role` assumed with it.
        public init(_ account: PipelineConfig.Account, role: String?, environment: [String: String], logger: Logger) {
            self.role = role
            let endpoints = EndpointResolver(environment: environment)
            let base = CredentialProviderChain.default(environment: environment)
            let credentials: any CredentialProvider =
                role.map {
                    .assumeRole(
                        AssumeRoleSettings(roleArn: $0, sessionName: "atlas-relay"), source: base,
                        region: account.region, endpoints: endpoints)
                } ?? base
            aws = AWSClient(
                region: account.region, credentialProvider: credentials, endpoints: endpoints, logger: logger)
            s3 = S3Client(aws)
            cloudFormation = CloudFormationClient(aws)
            ssm = SSMClient(aws)
            secretsManager = SecretsManagerClient(aws)
            ec2 = EC2Client(aws)
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

    /// `environment`'s deploy bucket.
    public func deployBucket(_ environment: PipelineConfig.Environment) -> DeployBucket {
        DeployBucket(
            s3: clients(of: environment).s3, bucket: environment.deployBucket,
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
        let report = try await runner.run(steps, selection: selection, dryRun: dryRun)
        let complete = report.steps.allSatisfy { $0.outcome == .passed }
        if complete && phase != .devRelease {
            try await CodeReleaser.recordPass(
                commit: resolved, phase: phase.rawValue, in: deployBucket(target),
                details: ["environment": target.name, "seconds": String(format: "%.1f", report.seconds)])
            logger.info("pass recorded", metadata: ["phase": "\(phase.rawValue)", "commit": "\(resolved)"])
        }
        if let directory = options.reportDirectory { try report.write(to: directory) }
        if !dryRun, let bitbucket = config.bitbucket {
            do {
                try await BuildStatus(url: bitbucket.url, token: try await secrets(target).resolve(bitbucket.token))
                    .post(report)
            } catch {
                // The phase's outcome stands (and its pass is recorded); the status is only a mirror.
                logger.warning("build status not posted", metadata: ["error": "\(error)"])
            }
        }
        return report
    }

    /// The commit's full SHA; for dev-release, the working tree's HEAD.
    func resolve(_ commit: String, phase: Phase) async throws -> String {
        let repository = GitRepository(path: config.directory)
        do { return try await repository.resolve(phase == .devRelease ? "HEAD" : commit) } catch {
            throw PipelineError("cannot resolve '\(commit)' in \(config.directory): \(error)")
        }
    }

    /// The steps of `phase` in order.
    public func steps(_ phase: Phase, commit: String, options: Options) throws -> [PhaseStep] {
        switch phase {
        case .devRelease: try [devRelease(options)]
        case .nightly:
            try [
                dataProvider(), dataRefresher(options), codeReleaser(phase, commit: commit, options: options),
                deployer(phase, commit: commit, options: options), appTester(phase, commit: commit, options: options),
            ]
        case .uat:
            try [
                codeReleaser(phase, commit: commit, options: options),
                deployer(phase, commit: commit, options: options),
                appTester(phase, commit: commit, options: options), perfTester(commit: commit, options: options),
                invite(commit: commit),
            ]
        case .goLive:
            try [
                codeReleaser(phase, commit: commit, options: options),
                deployer(phase, commit: commit, options: options),
                smokeTester(),
            ]
        }
    }

    // MARK: - Steps

    /// Whether `branch` is named for a ticket: `feature/<jira-key>-<short-name>`.
    static func isTicketBranch(_ branch: String) -> Bool {
        branch.wholeMatch(of: /feature\/[A-Za-z][A-Za-z0-9]*-[0-9]+(-[a-z0-9._-]+)?/) != nil
    }

    func devRelease(_ options: Options) throws -> PhaseStep {
        let dev = try config.environment("dev")
        let repository = GitRepository(path: config.directory)
        let bucket = deployBucket(dev)
        @Sendable func checkBranch() async throws -> String {
            let branch = try await repository.currentBranch() ?? "(detached HEAD)"
            guard Self.isTicketBranch(branch) else {
                throw PipelineError(
                    "branch '\(branch)' is not a ticket branch; name it feature/<jira-key>-<short-name>, "
                        + "for example feature/jira-1234-raise-heap")
            }
            return branch
        }
        return PhaseStep(
            "code-releaser", writesTo: dev.name,
            plan: {
                let branch = try await checkBranch()
                let changes = try await repository.uncommittedChanges()
                return
                    "would release \(branch) (HEAD\(changes.isEmpty ? "" : " + \(changes.count) uncommitted change(s)")) "
                    + "to \(bucket.location)"
            },
            run: {
                _ = try await checkBranch()
                let manifest = try await CodeReleaser(repository: repository, baseBranch: config.baseBranch)
                    .release(.workingTree(allowUncommitted: options.allowUncommitted), to: bucket)
                return [
                    "commit": String(manifest.commit.prefix(12)), "files": "\(manifest.files.count)",
                    "bytes": "\(manifest.archive.size)", "jira": manifest.jiraKeys.joined(separator: ","),
                ]
            })
    }

    func snapshotClient() throws -> (PipelineConfig.Snapshots, S3Client) {
        guard let snapshots = config.snapshots else {
            throw PipelineError("the config has no snapshots section (account, bucket) for the data steps")
        }
        return (snapshots, snapshotClients!.s3)
    }

    func dataProvider() throws -> PhaseStep {
        let prod = config.productionEnvironment
        let (snapshots, s3) = try snapshotClient()
        let location = SnapshotLocation(bucket: snapshots.bucket, prefix: snapshots.prefix ?? "snapshots/")
        let applications = (prod.applications ?? [:]).sorted { $0.key < $1.key }
        let crossAccount = snapshots.account != prod.account
        return PhaseStep(
            "data-provider",
            plan: {
                let lines = try applications.map { name, app in
                    "would dump \(try Self.database(app, name, in: prod)) and sync \(self.config.path(try Self.home(app, name, in: prod)))"
                }
                return
                    (lines + [
                        "into s3://\(location.bucket)/\(location.prefix)<new id>/, keeping \(snapshots.keep ?? 3)"
                    ])
                    .joined(separator: "\n")
            },
            run: {
                let secrets = self.secrets(prod)
                var sources: [DataProvider.Source] = []
                for (name, app) in applications {
                    sources.append(
                        DataProvider.Source(
                            name: name, database: try await self.database(app, name, in: prod, secrets: secrets),
                            sharedHome: self.config.path(try Self.home(app, name, in: prod)), version: app.version))
                }
                let manifest = try await DataProvider(
                    environment: prod.name, sources: sources, location: location, s3: s3, keep: snapshots.keep ?? 3,
                    writeOptions: .init(acl: crossAccount ? "bucket-owner-full-control" : nil),
                    logger: Logger(label: "atlas-relay.data-provider")
                ).provide()
                return [
                    "snapshot": manifest.id,
                    "dumpBytes": "\(manifest.products.reduce(0) { $0 + $1.dumpBytes })",
                    "homeObjects": "\(manifest.products.reduce(0) { $0 + $1.sharedHomeObjects })",
                    "homeBytes": "\(manifest.products.reduce(0) { $0 + $1.sharedHomeBytes })",
                ]
            })
    }

    func dataRefresher(_ options: Options) throws -> PhaseStep {
        let dev = try config.environment("dev")
        let prod = config.productionEnvironment
        let (snapshots, s3) = try snapshotClient()
        let location = SnapshotLocation(bucket: snapshots.bucket, prefix: snapshots.prefix ?? "snapshots/")
        let settings = config.settings(of: dev)
        let work = URL(fileURLWithPath: options.workDirectory).appendingPathComponent("refresh-\(dev.name)").path
        @Sendable func refresher() async throws -> DataRefresher {
            let secrets = self.secrets(dev)
            var targets: [DataRefresher.Target] = []
            for (name, app) in (dev.applications ?? [:]).sorted(by: { $0.key < $1.key }) {
                targets.append(
                    DataRefresher.Target(
                        name: name, database: try await self.database(app, name, in: dev, secrets: secrets),
                        sharedHome: self.config.path(try Self.home(app, name, in: dev)), url: app.url,
                        credentials: try await self.credentials(app, secrets: secrets)))
            }
            let production = DataRefresher.ProductionGuard(
                databases: try (prod.applications ?? [:]).sorted { $0.key < $1.key }.map {
                    try Self.database($1, $0, in: prod)
                },
                urls: config.productionURLs,
                sharedHomes: (prod.applications ?? [:]).values.compactMap(\.sharedHome).map(self.config.path))
            let control = self.applicationControl[dev.name] ?? self.control(of: dev)
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            return DataRefresher(
                settings: settings, targets: targets, location: location, s3: s3, production: production,
                control: control, workDirectory: work, logger: Logger(label: "atlas-relay.data-refresher"))
        }
        return PhaseStep(
            "data-refresher", writesTo: dev.name,
            plan: {
                let refresher = try await refresher()
                guard try await location.snapshots(s3).complete.isEmpty else { return try await refresher.plan().text }
                try refresher.checkTarget()
                return "would restore the snapshot data-provider takes into "
                    + refresher.targets.map { "\($0.name) (\($0.database), \($0.sharedHome))" }.joined(separator: ", ")
                    + ", then rewrite \(dev.name)'s settings (mail off first) and verify them"
            },
            run: {
                let manifest = try await refresher().refresh()
                return ["snapshot": manifest.id, "products": manifest.products.map(\.name).joined(separator: ",")]
            })
    }

    func codeReleaser(_ phase: Phase, commit: String, options: Options) throws -> PhaseStep {
        let target = try environment(of: phase)
        let bucket = deployBucket(target)
        if let source = try source(of: phase), let required = phase.requires {
            let from = deployBucket(source)
            @Sendable func checkPassed() async throws {
                guard try await CodeReleaser.hasPassed(commit: commit, phase: required.rawValue, in: from) else {
                    throw PipelineError(
                        "\(commit.prefix(12)) has not passed \(required.rawValue) (no record in \(from.location)/passed/); "
                            + "only a commit that passed \(required.rawValue) can go to \(target.name)")
                }
            }
            return PhaseStep(
                "code-releaser", writesTo: target.name,
                plan: {
                    try await checkPassed()
                    return
                        "would promote \(commit.prefix(12)) (passed \(required.rawValue)) from \(from.location) to \(bucket.location)"
                },
                run: {
                    try await checkPassed()
                    let manifest = try await CodeReleaser.promote(
                        commit: commit, from: from, passed: required.rawValue, to: bucket,
                        allowProduction: options.confirmProduction)
                    return [
                        "files": "\(manifest.files.count)", "bytes": "\(manifest.archive.size)",
                        "jira": manifest.jiraKeys.joined(separator: ","),
                    ]
                })
        }
        let repository = GitRepository(path: config.directory)
        return PhaseStep(
            "code-releaser", writesTo: target.name,
            plan: { "would release \(commit.prefix(12)) from \(self.config.directory) to \(bucket.location)" },
            run: {
                let manifest = try await CodeReleaser(repository: repository, baseBranch: nil)
                    .release(.commit(commit), to: bucket)
                return ["files": "\(manifest.files.count)", "bytes": "\(manifest.archive.size)"]
            })
    }

    func deployer(_ phase: Phase, commit: String, options: Options) throws -> PhaseStep {
        let target = try environment(of: phase)
        let clients = clients(of: target)
        let stacks = config.stackSpecs(of: target)
        let bucket = target.deployBucket
        let stackDeployer = StackDeployer(
            cloudFormation: clients.cloudFormation,
            options: .init(
                pollInterval: options.pollInterval,
                templateBucket: .init(s3: clients.s3, bucket: bucket)),
            logger: Logger(label: "atlas-relay.stack-deploy"))
        let name = phase == .nightly ? "cold-deployer" : "deployer"
        switch options.deployer {
        case .cold:
            let cold = ColdDeployer(deployer: stackDeployer)
            return PhaseStep(
                name, writesTo: target.name,
                plan: {
                    try await cold.plan(stacks, version: commit).map { stack, plan in
                        switch plan {
                        case .success(let plan): plan.text
                        case .failure(let error): "\(stack): \(error)"
                        }
                    }.joined(separator: "\n")
                },
                run: {
                    let report = try await cold.deploy(stacks, version: commit)
                    var counts: [String: Int] = [:]
                    for entry in report.entries {
                        switch entry.outcome {
                        case .deployed(let result): counts["\(result.outcome)", default: 0] += 1
                        case .failed: counts["failed", default: 0] += 1
                        case .skipped: counts["skipped", default: 0] += 1
                        }
                    }
                    let figures = counts.mapValues(String.init).merging(["stacks": "\(report.entries.count)"]) { $1 }
                    guard report.succeeded else { throw StepFailed(report.summary, figures: figures) }
                    return figures
                })
        case .hot:
            let applications = (target.applications ?? [:]).sorted { $0.key < $1.key }.map { name, _ in
                HotDeployer.Application(
                    name: name, stack: "\(target.name)-\(name)",
                    commands: HotDeployer.Application.releaseCommands(
                        deployBucket: bucket, directory: "/opt/atlassian/\(name)/release", service: name),
                    statusURL: { instance in
                        instance.privateIP.map { "http://\($0):\(name == "confluence" ? 8090 : 8080)/status" }
                    })
            }
            let hot = HotDeployer(ec2: clients.ec2, ssm: clients.ssm, logger: Logger(label: "atlas-relay.hot-deploy"))
            return PhaseStep(
                name, writesTo: target.name,
                plan: {
                    applications.map {
                        "would replace the code of \($0.name) on the instances of stack \($0.stack), a batch at a time"
                    }
                    .joined(separator: "\n")
                },
                run: {
                    var updated = 0
                    for application in applications {
                        let report = try await hot.deploy(application, version: commit)
                        updated += report.updated.count
                        guard report.succeeded else {
                            throw StepFailed(report.summary, figures: ["instances": "\(updated)"])
                        }
                    }
                    return ["instances": "\(updated)"]
                })
        }
    }

    /// The target's products as a test context.
    func context(_ environment: PipelineConfig.Environment) async throws -> TestContext {
        let secrets = secrets(environment)
        let apps = environment.applications ?? [:]
        return TestContext(
            jira: try await apps["jira"].asyncMap {
                try JiraClient(baseURL: $0.url, credentials: try await credentials($0, secrets: secrets))
            },
            confluence: try await apps["confluence"].asyncMap {
                try ConfluenceClient(baseURL: $0.url, credentials: try await credentials($0, secrets: secrets))
            })
    }

    func appTester(_ phase: Phase, commit: String, options: Options) throws -> PhaseStep {
        let target = try environment(of: phase)
        let products = target.tests?.functional ?? []
        return PhaseStep(
            "app-tester", writesTo: target.name,
            plan: { "would run the \(products.joined(separator: " and ")) suites against \(target.name)" },
            run: {
                let context = try await self.context(target)
                let scenarios = products.flatMap { $0 == "jira" ? Suites.jira() : Suites.confluence() }
                let run = await AppTester().run("\(phase.rawValue)-app-tester", scenarios) { context }
                if let directory = options.reportDirectory {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    try Data(Reports.junit(runs: [run]).utf8).write(
                        to: URL(fileURLWithPath: directory).appendingPathComponent(
                            "app-tester-\(commit.prefix(12)).xml"))
                }
                let figures = [
                    "passed": "\(run.results.filter { $0.outcome == .passed }.count)",
                    "failed": "\(run.results.filter { $0.outcome == .failed }.count)",
                ]
                guard run.passed else { throw StepFailed(run.summary, figures: figures) }
                return figures
            })
    }

    func perfTester(commit: String, options: Options) throws -> PhaseStep {
        let uat = try config.environment("uat")
        let perf = uat.tests?.perf
        return PhaseStep(
            "perf-tester", writesTo: uat.name,
            plan: {
                guard let perf else { return "no perf test configured" }
                return
                    "would load \(uat.name)'s \(perf.mix) with \(perf.users) users for \(perf.hold) s (p90 ≤ \(perf.p90 ?? 5000) ms)"
            },
            run: {
                guard let perf else { return ["skipped": "no perf test configured"] }
                let mix = perf.mix == "jira" ? Mixes.jira() : Mixes.confluence()
                let profile = LoadProfile(
                    virtualUsers: perf.users, rampUp: .milliseconds(Int((perf.rampUp ?? 0) * 1000)),
                    hold: .milliseconds(Int(perf.hold * 1000)))
                let result = try await PerfTester(actions: mix.actions, profile: profile, prepare: mix.prepare)
                    .run("uat-perf", context: try await self.context(uat))
                let gates = SLA(defaultP90Milliseconds: perf.p90 ?? 5000).evaluate(result)
                if let directory = options.reportDirectory {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    let base = URL(fileURLWithPath: directory).appendingPathComponent("perf-\(commit.prefix(12))")
                    try Reports.json(result).write(to: base.appendingPathExtension("json"))
                    try Data(Reports.html(result, gates: gates).utf8).write(to: base.appendingPathExtension("html"))
                }
                let figures = [
                    "requests": "\(result.actions.values.reduce(0) { $0 + $1.samples })",
                    "rps": String(format: "%.1f", result.throughput),
                    "gatesFailed": "\(gates.filter { !$0.passed }.count)",
                ]
                let failed = gates.filter { !$0.passed }
                guard failed.isEmpty else {
                    throw StepFailed(failed.map(\.message).joined(separator: "\n"), figures: figures)
                }
                return figures
            })
    }

    func invite(commit: String) throws -> PhaseStep {
        let uat = try config.environment("uat")
        let bucket = deployBucket(uat)
        let url = uat.applications?["jira"]?.url ?? uat.applications?["confluence"]?.url ?? uat.name
        let tracker = config.productionEnvironment.applications?["jira"]
        return PhaseStep(
            "invite",
            plan: {
                "would comment \"ready for UAT at \(url)\" on each Jira issue of the release (tracker: \(tracker?.url ?? "none"))"
            },
            run: {
                guard let tracker else { return ["invited": "0", "note": "no Jira to comment in"] }
                let jira = try JiraClient(
                    baseURL: tracker.url,
                    credentials: try await self.credentials(
                        tracker, secrets: self.secrets(self.config.productionEnvironment)))
                let keys = try await CodeReleaser.manifest(of: commit, in: bucket)?.jiraKeys ?? []
                var failures: [String] = []
                for key in keys {
                    do { try await jira.addComment(key, "\(commit.prefix(12)) is ready for UAT at \(url)") } catch {
                        failures.append("\(key): \(error)")
                    }
                }
                let figures = ["invited": "\(keys.count - failures.count)", "issues": keys.joined(separator: ",")]
                guard failures.isEmpty else { throw StepFailed(failures.joined(separator: "\n"), figures: figures) }
                return figures
            })
    }

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
                            client: jira, expectedVersion: prod.applications?["jira"]?.version,
                            knownContent: smoke?.jira?.issue))
                }
                if let confluence = context.confluence {
                    targets.append(
                        .init(
                            client: confluence, expectedVersion: prod.applications?["confluence"]?.version,
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

    // MARK: - Pieces

    /// The config's way of stopping and starting `environment`'s applications.
    func control(of environment: PipelineConfig.Environment) -> DataRefresher.ApplicationControl {
        guard let control = environment.control else { return .none }
        if let group = control.autoScalingGroup, let capacity = control.capacity {
            return .autoScaling(AutoScalingClient(clients(of: environment).aws), group: group, capacity: capacity)
        }
        if let stop = control.stop, let start = control.start { return .commands(stop: stop, start: start) }
        return .none
    }

    static func database(_ app: PipelineConfig.Application, _ name: String, in environment: PipelineConfig.Environment)
        throws
        -> DatabaseLocation
    {
        guard let database = app.database else {
            throw PipelineError("environments.\(environment.name).applications.\(name) has no database")
        }
        return try DatabaseLocation(url: database.url)
    }

    func database(
        _ app: PipelineConfig.Application, _ name: String, in environment: PipelineConfig.Environment,
        secrets: SecretResolver
    ) async throws -> DatabaseLocation {
        let location = try Self.database(app, name, in: environment)
        guard let reference = app.database?.password else { return location }
        return location.with(password: try await secrets.resolve(reference))
    }

    static func home(_ app: PipelineConfig.Application, _ name: String, in environment: PipelineConfig.Environment)
        throws -> String
    {
        guard let home = app.sharedHome else {
            throw PipelineError("environments.\(environment.name).applications.\(name) has no sharedHome")
        }
        return home
    }

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
