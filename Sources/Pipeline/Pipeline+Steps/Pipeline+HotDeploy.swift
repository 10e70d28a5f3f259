import AWSCore
import AtlassianAdmin
import Logging
import RelayFoundation
import StackDeploy

// The hot deployer step: the environment's applications, node by node, with rollback.

extension Pipeline {
    /// The hot deploy of one environment: its applications as `deploy.hot` lays them out.
    struct HotDeploy: Sendable {
        let deployer: HotDeployer
        let applications: [HotDeployer.Application]
        /// The SSM parameter to set per application stack when its template declares no `CodeVersion`.
        let codeVersionParameters: [String: String]
        let commit: String
        let releases: DeployBucket
        let stackDeployer: StackDeployer
        let clients: AccountClients
        let logger: Logger

        /// Rolls the release out to every application; on a failure rolls every application
        /// already updated back as well, and throws ``StepFailed`` with each node's outcome.
        /// Afterwards each stack's `CodeVersion` (or its SSM parameter) is the commit, so that
        /// replacements boot it.
        func run(specs: [StackSpec]) async throws -> [String: String] {
            guard let manifest = try await CodeReleaser.manifest(of: commit, in: releases) else {
                throw StepFailed("no release of \(commit) in \(releases.location); the code-releaser step puts it there")
            }
            let release = HotDeployer.Release(version: commit, sha256: manifest.archive.sha256)
            // The way back: what the environment ran before, if the pipeline deployed it.
            var previous: HotDeployer.Release?
            if let current = try await DeployRecord.current(in: releases), current.commit != commit,
                let earlier = try await CodeReleaser.manifest(of: current.commit, in: releases)
            {
                previous = .init(version: current.commit, sha256: earlier.archive.sha256)
            }
            var done: [HotDeployer.Application] = []
            var nodes = 0
            for application in applications {
                let report = try await deployer.deploy(application, release: release, previous: previous)
                guard report.succeeded else {
                    var summary = [report.summary]
                    if let previous {
                        for earlier in done {
                            let outcomes = try await deployer.rollBack(earlier, to: previous)
                            summary.append(
                                "\(earlier.name): rolled back to \(previous.version.prefix(12)): "
                                    + outcomes.map { "\($0.instance) \($0.rollbackText ?? "")" }.joined(separator: ", "))
                        }
                    }
                    let rolledBack = report.nodes.filter { if case .success? = $0.rolledBack { true } else { false } }.count
                    throw StepFailed(
                        summary.joined(separator: "\n"),
                        figures: ["instances": "\(nodes + report.updated.count)", "rolledBack": "\(rolledBack)"])
                }
                nodes += report.updated.count
                done.append(application)
            }
            // Replacements boot the same commit: the stack's CodeVersion, or the SSM parameter.
            for application in applications {
                if let spec = specs.first(where: { $0.name == application.stack }), spec.parameters["CodeVersion"] != nil {
                    var versioned = spec
                    versioned.parameters["CodeVersion"] = .value(commit)
                    _ = try await stackDeployer.deploy(versioned)
                } else if let parameter = codeVersionParameters[application.name] {
                    try await clients.ssm.putParameter(parameter, value: commit)
                } else {
                    logger.warning(
                        "\(application.stack) declares no CodeVersion and no codeVersionParameter is configured: an instance that replaces a node boots whatever its launch template says",
                        metadata: ["stack": "\(application.stack)"])
                }
            }
            return ["instances": "\(nodes)", "applications": "\(applications.count)"]
        }
    }

    /// The hot deploy of `target` at `commit`, from `deploy.hot` with today's layout as defaults.
    func hotDeployer(_ target: PipelineConfig.Environment, commit: String, options: Options) throws -> HotDeploy {
        let clients = clients(of: target)
        let hot = target.deploy?.hot
        let bucket = target.deployBucket
        var parameters: [String: String] = [:]
        let applications = (target.applications ?? [:]).sorted { $0.key < $1.key }.map { name, _ in
            let nodes = target.nodes?[name]
            let port = nodes?.port ?? (Product(rawValue: name) == .confluence ? 8090 : 8080)
            let scheme = nodes?.scheme ?? "http"
            let path = nodes?.statusPath ?? "/status"
            if let parameter = nodes?.codeVersionParameter { parameters[name] = parameter }
            return HotDeployer.Application(
                name: name, stack: nodes?.stack ?? "\(target.name)-\(name)", targetGroups: nodes?.targetGroups ?? [],
                commands: { release in
                    HotDeployer.Application.installCommands(
                        release, deployBucket: bucket, script: nodes?.script,
                        directory: nodes?.directory ?? "/opt/atlassian/\(name)/release", service: nodes?.service ?? name,
                        environment: nodes?.environment ?? [:])
                },
                statusURL: { instance in instance.privateIP.map { "\(scheme)://\($0):\(port)\(path)" } })
        }
        let seconds = { (value: Int?, fallback: Int) in Duration.seconds(max(1, value ?? fallback)) }
        let deployer = HotDeployer(
            ec2: clients.ec2, ssm: clients.ssm, elb: ELBv2Client(clients.aws), s3: clients.s3,
            options: .init(
                batchSize: hot?.batchSize ?? 1, concurrency: hot?.concurrency,
                commandTimeout: seconds(hot?.commandSeconds, 900), healthTimeout: seconds(hot?.healthSeconds, 900),
                drainTimeout: seconds(hot?.drainSeconds, 600), pollInterval: options.pollInterval,
                output: (bucket, hot?.outputPrefix ?? "hot-deploy-output/")),
            logger: Logger(label: "atlas-relay.hot-deploy"))
        return HotDeploy(
            deployer: deployer, applications: applications, codeVersionParameters: parameters, commit: commit,
            releases: deployBucket(target),
            stackDeployer: StackDeployer(
                cloudFormation: clients.cloudFormation,
                options: .init(
                    pollInterval: options.pollInterval, templateBucket: .init(s3: clients.s3, bucket: bucket),
                    risk: ChangeRisk(addingStatefulTypes: target.deploy?.statefulTypes ?? []))),
            clients: clients, logger: logger)
    }
}
