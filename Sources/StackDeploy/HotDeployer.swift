import AWSCore
import Foundation
import Logging
import RelayFoundation
import RelayHTTP
import S3Sync

/// Pushes a release to the running nodes of an application without replacing them, so users do
/// not notice. For each batch of nodes, in launch order:
///
/// 1. **drain**: deregister the nodes from every target group of the application and wait
///    until the load balancer no longer lists them (connection draining is over);
/// 2. **install**: run the release commands through SSM Run Command; they download the
///    release, check its SHA-256 before unpacking anything, install it and restart the service.
///    The command's full output goes to S3 (``Options/output``) and into the log;
/// 3. **start**: wait for each node's own `/status` to answer `RUNNING`;
/// 4. **register**: register the nodes again and wait until every target group reports them
///    `healthy`. Only then the next batch.
///
/// The first failure stops the rollout. Every node that got the new release (the ones before,
/// and the failed batch) is then rolled back to the previous release the same way, and the
/// ``Report`` says what happened to each node.
public struct HotDeployer: Sendable {
    /// A release as the nodes install it.
    public struct Release: Sendable, Equatable {
        /// The commit.
        public let version: String
        /// The SHA-256 of its archive (`releases/<commit>/code.tar`), from its manifest.
        public let sha256: String

        /// Describes a release.
        public init(version: String, sha256: String) {
            self.version = version
            self.sha256 = sha256
        }
    }

    /// An application and how to reach its nodes.
    public struct Application: Sendable {
        /// A name for reports, for example `jira`.
        public let name: String
        /// The stack whose instances run the application (CloudFormation tags them with
        /// `aws:cloudformation:stack-name`).
        public let stack: String
        /// The target groups (ARNs) the nodes are registered with; empty when no load balancer
        /// is in front of them.
        public let targetGroups: [String]
        /// The shell lines run on each node (`AWS-RunShellScript`) to install a release.
        public let commands: @Sendable (Release) -> [String]
        /// The URL of a node's status endpoint, for example `http://<private ip>:8080/status`.
        public let statusURL: @Sendable (EC2Instance) -> String?

        /// Describes an application.
        public init(
            name: String, stack: String, targetGroups: [String] = [], commands: @escaping @Sendable (Release) -> [String],
            statusURL: @escaping @Sendable (EC2Instance) -> String?
        ) {
            self.name = name
            self.stack = stack
            self.targetGroups = targetGroups
            self.commands = commands
            self.statusURL = statusURL
        }

        /// The install commands: download `releases/<commit>/code.tar` from `deployBucket` into a
        /// temporary folder and check its SHA-256 before anything is unpacked; then either run
        /// `script` (a path inside the release, given the commit, with `environment` exported),
        /// or unpack into `<directory>/releases/<commit>`, write the commit to its
        /// `.atlas-relay-release`, switch `<directory>/current` to it and restart `service`
        /// (systemd). The node's instance role must be allowed to read the bucket.
        public static func installCommands(
            _ release: Release, deployBucket: String, script: String?, directory: String, service: String,
            environment: [String: String] = [:]
        ) -> [String] {
            let quote = ShellQuoting.single
            let exports = environment.sorted { $0.key < $1.key }.map { "export \($0.key)=\(quote($0.value))" }
            var lines = [
                "set -euo pipefail",
                "export COMMIT_ID=\(quote(release.version)) DEPLOY_BUCKET=\(quote(deployBucket))",
            ] + exports + [
                "work=\"$(mktemp -d)\"; trap 'rm -rf \"$work\"' EXIT",
                "aws s3 cp --only-show-errors \"s3://${DEPLOY_BUCKET}/releases/${COMMIT_ID}/code.tar\" \"$work/code.tar\"",
                // Checked before anything is unpacked: a damaged or replaced archive stops here.
                "echo \(quote(release.sha256 + "  ") )\"$work/code.tar\" | sha256sum --check --strict",
            ]
            if let script {
                lines += [
                    "mkdir \"$work/release\" && tar -xf \"$work/code.tar\" -C \"$work/release\"",
                    "bash \"$work/release/\"\(quote(script)) \"$COMMIT_ID\"",
                ]
            } else {
                lines += [
                    "release=\(quote(directory))\"/releases/$COMMIT_ID\"",
                    "mkdir -p \"$release\" && tar -xf \"$work/code.tar\" -C \"$release\"",
                    "echo \"$COMMIT_ID\" > \"$release/.atlas-relay-release\"",
                    "ln -sfn \"$release\" \(quote(directory))/current.new && mv -T \(quote(directory))/current.new \(quote(directory))/current",
                    "systemctl restart \(quote(service))",
                ]
            }
            return lines
        }
    }

    /// Pace and patience.
    public struct Options: Sendable {
        /// Nodes taken out of the load balancer and updated together.
        public var batchSize: Int
        /// Nodes of a batch that run the install at once (SSM's `MaxConcurrency`).
        public var concurrency: Int
        /// How long one node's install may take.
        public var commandTimeout: Duration
        /// How long a restarted node may take to answer `RUNNING`, and then to be healthy in
        /// its target groups.
        public var healthTimeout: Duration
        /// How long draining may take (at least the target groups' deregistration delay).
        public var drainTimeout: Duration
        /// Time between polls.
        public var pollInterval: Duration
        /// Where SSM writes the commands' full output (bucket and key prefix), nil for none.
        public var output: (bucket: String, prefix: String)?

        /// Creates options.
        public init(
            batchSize: Int = 1, concurrency: Int? = nil, commandTimeout: Duration = .seconds(900),
            healthTimeout: Duration = .seconds(900), drainTimeout: Duration = .seconds(600),
            pollInterval: Duration = .seconds(5), output: (bucket: String, prefix: String)? = nil
        ) {
            self.batchSize = max(1, batchSize)
            self.concurrency = max(1, min(concurrency ?? batchSize, max(1, batchSize)))
            self.commandTimeout = commandTimeout
            self.healthTimeout = healthTimeout
            self.drainTimeout = drainTimeout
            self.pollInterval = pollInterval
            self.output = output
        }
    }

    /// EC2, to find the nodes.
    public let ec2: EC2Client
    /// SSM, to run the commands.
    public let ssm: SSMClient
    /// ELBv2, to take nodes out of their target groups and back.
    public let elb: ELBv2Client
    /// S3, to read the commands' full output.
    public let s3: S3Client?
    /// Pace and patience.
    public let options: Options
    /// Where progress goes.
    public let logger: Logger
    /// The transport the nodes' `/status` probes go through.
    public let transport: HTTPTransport

    /// How long one `/status` probe may take, head and body.
    static let probeTimeout: Duration = .seconds(10)

    /// Creates a hot deployer.
    ///
    /// - Parameters:
    ///   - ec2: finds the stack's running instances.
    ///   - ssm: runs the release commands on them.
    ///   - elb: drains and registers them.
    ///   - s3: reads the commands' output from ``Options/output``.
    ///   - options: batch size, timeouts and poll interval.
    ///   - logger: where progress goes.
    ///   - transport: carries the `/status` probes; `HTTPTransport.shared` by default.
    public init(
        ec2: EC2Client, ssm: SSMClient, elb: ELBv2Client, s3: S3Client? = nil, options: Options = Options(),
        logger: Logger = Logger(label: "atlas-relay.hot-deploy"), transport: HTTPTransport = .shared
    ) {
        self.ec2 = ec2
        self.ssm = ssm
        self.elb = elb
        self.s3 = s3
        self.options = options
        self.logger = logger
        self.transport = transport
    }

    /// Rolls `release` out to the application's running nodes, rolling back to `previous` on a
    /// failure.
    ///
    /// - Throws: ``DeployError`` before any node is touched when a version is not a plain
    ///   identifier, a SHA-256 is not one, or the stack has no running nodes.
    public func deploy(_ application: Application, release: Release, previous: Release?) async throws -> Report {
        for candidate in [release] + (previous.map { [$0] } ?? []) {
            guard !candidate.version.isEmpty,
                candidate.version.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) })
            else {
                throw DeployError(
                    .invalidSpec, stack: application.stack,
                    message: "the version '\(candidate.version)' is not a commit id or release name",
                    advice: "pass the COMMIT_ID that was released")
            }
            guard candidate.sha256.count == 64, candidate.sha256.allSatisfy(\.isHexDigit) else {
                throw DeployError(
                    .invalidSpec, stack: application.stack,
                    message: "'\(candidate.sha256)' is not the SHA-256 of \(candidate.version)'s archive",
                    advice: "take it from the release's manifest")
            }
        }
        let nodes = try await ec2.instances(tagged: ["aws:cloudformation:stack-name": application.stack])
        guard !nodes.isEmpty else {
            throw DeployError(
                .noInstances, stack: application.stack, message: "no running instances are tagged with this stack",
                advice: "check the stack name, or deploy cold")
        }
        var outcomes = nodes.map { NodeOutcome(instance: $0.id, state: .untouched) }
        var index = 0
        while index < nodes.count {
            let batch = Array(nodes[index..<min(index + options.batchSize, nodes.count)])
            if let failure = await cycle(batch, application: application, to: release) {
                for offset in index..<(index + batch.count) {
                    outcomes[offset].state =
                        outcomes[offset].instance == failure.instance ? .failed(failure.reason) : .failed("in the failed batch")
                }
                // Every node that may run the new release goes back to the previous one.
                if let previous {
                    for offset in 0..<(index + batch.count) {
                        outcomes[offset].rolledBack = await rollBack(nodes[offset], application: application, to: previous)
                    }
                }
                return Report(
                    application: application.name, release: release, previous: previous, nodes: outcomes,
                    failure: failure)
            }
            for offset in index..<(index + batch.count) { outcomes[offset].state = .updated }
            index += batch.count
        }
        return Report(application: application.name, release: release, previous: previous, nodes: outcomes, failure: nil)
    }

    /// Rolls every running node of `application` back to `previous` (for an application that
    /// was updated before another one failed), node by node the same way.
    public func rollBack(_ application: Application, to previous: Release) async throws -> [NodeOutcome] {
        var outcomes: [NodeOutcome] = []
        for node in try await ec2.instances(tagged: ["aws:cloudformation:stack-name": application.stack]) {
            var outcome = NodeOutcome(instance: node.id, state: .updated)
            outcome.rolledBack = await rollBack(node, application: application, to: previous)
            outcomes.append(outcome)
        }
        return outcomes
    }

    func rollBack(_ node: EC2Instance, application: Application, to previous: Release) async -> Result<Void, RollbackFailure> {
        logger.notice(
            "\(application.name): rolling \(node.id) back to \(previous.version)",
            metadata: ["instance": "\(node.id)", "version": "\(previous.version)"])
        if let failure = await cycle([node], application: application, to: previous) {
            return .failure(RollbackFailure(reason: failure.reason))
        }
        return .success(())
    }

    /// One batch through drain → install → start → register; the first failure.
    func cycle(_ batch: [EC2Instance], application: Application, to release: Release) async -> Failure? {
        let ids = batch.map(\.id)
        let metadata: Logger.Metadata = ["application": "\(application.name)", "version": "\(release.version)"]
        logger.info("\(application.name): \(ids.joined(separator: ", ")): draining", metadata: metadata)
        if let failure = await drain(ids, application: application) { return failure }
        logger.info("\(application.name): \(ids.joined(separator: ", ")): installing \(release.version)", metadata: metadata)
        let command: String
        do {
            command = try await ssm.sendCommand(
                instances: ids, document: "AWS-RunShellScript",
                parameters: [
                    "commands": application.commands(release),
                    "executionTimeout": ["\(Int(options.commandTimeout.seconds))"],
                ],
                comment: "atlas-relay hot deploy \(application.name) \(release.version)",
                output: options.output.map { ($0.bucket, "\($0.prefix)\(application.name)") },
                maxConcurrency: options.concurrency)
        } catch {
            return Failure(instance: ids[0], reason: "SSM SendCommand failed: \(error)")
        }
        for node in batch {
            if let reason = await waitForCommand(command, on: node.id, application: application) {
                return Failure(instance: node.id, reason: reason)
            }
        }
        for node in batch {
            if let reason = await waitForRunning(node, application: application) {
                return Failure(instance: node.id, reason: reason)
            }
            logger.info("\(application.name): \(node.id) is RUNNING", metadata: ["instance": "\(node.id)"])
        }
        if let failure = await register(ids, application: application) { return failure }
        logger.info("\(application.name): \(ids.joined(separator: ", ")): healthy in the load balancer", metadata: metadata)
        return nil
    }

    /// Deregisters the nodes from every target group and waits until none lists them.
    func drain(_ ids: [String], application: Application) async -> Failure? {
        do {
            for group in application.targetGroups { try await elb.deregister(ids, from: group) }
            let settled = try await poll(within: options.drainTimeout) {
                for group in application.targetGroups {
                    if try await elb.health(of: group, targets: ids).contains(where: \.isRegistered) { return false }
                }
                return true
            }
            guard settled else {
                return Failure(
                    instance: ids[0],
                    reason: "the load balancer was still draining it after \(options.drainTimeout); nothing was installed")
            }
        } catch {
            return Failure(instance: ids[0], reason: "cannot take it out of the load balancer: \(error)")
        }
        return nil
    }

    /// Registers the nodes with every target group and waits until each reports them healthy.
    func register(_ ids: [String], application: Application) async -> Failure? {
        var last: [TargetHealth] = []
        do {
            for group in application.targetGroups { try await elb.register(ids, with: group) }
            let healthy = try await poll(within: options.healthTimeout) {
                last = []
                for group in application.targetGroups { last += try await elb.health(of: group, targets: ids) }
                return last.allSatisfy { $0.state == "healthy" }
            }
            guard healthy else {
                let sick = last.first { $0.state != "healthy" }
                return Failure(
                    instance: sick?.id ?? ids[0],
                    reason: "the load balancer did not report it healthy within \(options.healthTimeout) "
                        + "(last: \(sick.map { $0.state + ($0.reason.map { ", \($0)" } ?? "") } ?? "unknown"))")
            }
        } catch {
            return Failure(instance: ids[0], reason: "cannot put it back into the load balancer: \(error)")
        }
        return nil
    }

    /// Polls `check` until it is true or `timeout` passed; whether it became true.
    func poll(within timeout: Duration, _ check: () async throws -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if try await check() { return true }
            guard clock.now < deadline else { return false }
            try await Task.sleep(for: options.pollInterval)
        }
    }

    /// Polls the invocation until it ends, logging its output; the failure, or nil on success.
    func waitForCommand(_ command: String, on instance: String, application: Application) async -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: options.commandTimeout)
        while clock.now < deadline {
            do {
                let invocation = try await ssm.invocation(command: command, instance: instance)
                if invocation.isFinished {
                    let (stdout, stderr) = await fullOutput(command, instance: instance, application: application, invocation)
                    for line in stdout.split(separator: "\n") {
                        logger.info("\(instance) | \(line)", metadata: ["instance": "\(instance)", "stream": "stdout"])
                    }
                    for line in stderr.split(separator: "\n") {
                        logger.info("\(instance) ! \(line)", metadata: ["instance": "\(instance)", "stream": "stderr"])
                    }
                    if invocation.status == "Success" { return nil }
                    let detail = [stderr, stdout].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                        .first { !$0.isEmpty }
                    return "the command ended \(invocation.status)"
                        + (invocation.statusDetails.map { " (\($0))" } ?? "")
                        + (invocation.responseCode.map { ", exit code \($0)" } ?? "")
                        + (detail.map { ": \(String($0.suffix(500)))" } ?? "")
                        + "; see command \(command) in Systems Manager"
                }
            } catch let error as AWSServiceError where error.code == "InvocationDoesNotExist" {
                // Not registered yet; poll again.
            } catch {
                return "cannot read the command's result: \(error)"
            }
            try? await Task.sleep(for: options.pollInterval)
        }
        return "the command did not finish within \(options.commandTimeout); see command \(command) in Systems Manager"
    }

    /// The command's whole output: from S3 when SSM wrote it there (where nothing is cut off),
    /// else what `GetCommandInvocation` returned (its first 24,000 and 8,000 characters).
    func fullOutput(_ command: String, instance: String, application: Application, _ invocation: CommandInvocation)
        async -> (String, String)
    {
        let fallback = (invocation.standardOutputContent ?? "", invocation.standardErrorContent ?? "")
        guard let output = options.output, let s3 else { return fallback }
        let base = "\(output.prefix)\(application.name)/\(command)/\(instance)/awsrunShellScript/0.awsrunShellScript/"
        func read(_ name: String) async -> String? {
            (try? await s3.getObjectData(bucket: output.bucket, key: base + name)).flatMap { $0 }.map {
                String(decoding: $0, as: UTF8.self)
            }
        }
        return (await read("stdout") ?? fallback.0, await read("stderr") ?? fallback.1)
    }

    /// Polls the node's `/status` until it answers `RUNNING`; the failure, or nil.
    func waitForRunning(_ node: EC2Instance, application: Application) async -> String? {
        guard let url = application.statusURL(node) else { return "the node has no address to check" }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: options.healthTimeout)
        var last = "no answer"
        while clock.now < deadline {
            do {
                let answer = try await transport.collect(
                    TransportRequest(url: url),
                    context: TransportContext(operation: "GET /status", timeout: Self.probeTimeout, logger: logger),
                    upTo: 64 * 1024)
                let body = Data(answer.body.readableBytesView)
                let state = (try? JSONDecoder().decode([String: String].self, from: body))?["state"]
                last = "HTTP \(answer.status.code)" + (state.map { ", state \($0)" } ?? "")
                if answer.status.code == 200 && state == "RUNNING" { return nil }
                if state == "ERROR" { return "\(url) answered state ERROR after the restart" }
            } catch {
                last = "\(error)"
            }
            try? await Task.sleep(for: options.pollInterval)
        }
        return "\(url) did not answer RUNNING within \(options.healthTimeout) (last: \(last))"
    }
}
