import AWSCore
import Foundation
import Logging
import RelayFoundation
import RelayHTTP

/// Pushes a code version to the running nodes of an application without replacing them: node by
/// node (or in batches), an SSM Run Command pulls the release and restarts the app, and the next
/// node waits until this one's `/status` answers `RUNNING`. The first node that fails stops the
/// rollout; the nodes after it are left untouched.
public struct HotDeployer: Sendable {
    /// An application and how to reach its nodes.
    public struct Application: Sendable {
        /// A name for reports, for example `jira`.
        public let name: String
        /// The stack whose instances run the application (CloudFormation tags them with
        /// `aws:cloudformation:stack-name`).
        public let stack: String
        /// The shell lines run on each node (`AWS-RunShellScript`), after `export COMMIT_ID=<version>`.
        public let commands: [String]
        /// The URL of a node's status endpoint, for example `http://<private ip>:8080/status`.
        public let statusURL: @Sendable (EC2Instance) -> String?

        /// The usual script: fetch the release archive from the deploy bucket, unpack it into
        /// `directory` and restart `service` (systemd). The node's instance role must be allowed to
        /// read the bucket.
        public static func releaseCommands(deployBucket: String, directory: String, service: String) -> [String] {
            [
                "set -euo pipefail",
                "aws s3 cp \"s3://\(deployBucket)/releases/${COMMIT_ID}/code.tar\" \"/tmp/release-${COMMIT_ID}.tar\"",
                "mkdir -p '\(directory)' && tar -xf \"/tmp/release-${COMMIT_ID}.tar\" -C '\(directory)'",
                "rm -f \"/tmp/release-${COMMIT_ID}.tar\"",
                "systemctl restart '\(service)'",
            ]
        }

        /// Describes an application.
        public init(
            name: String, stack: String, commands: [String], statusURL: @escaping @Sendable (EC2Instance) -> String?
        ) {
            self.name = name
            self.stack = stack
            self.commands = commands
            self.statusURL = statusURL
        }
    }

    /// Pace and patience.
    public struct Options: Sendable {
        /// Nodes updated at once.
        public var batchSize: Int
        /// How long one node's command may take.
        public var commandTimeout: Duration
        /// How long a restarted node may take to answer `RUNNING`.
        public var healthTimeout: Duration
        /// Time between polls.
        public var pollInterval: Duration

        /// Creates options.
        public init(
            batchSize: Int = 1, commandTimeout: Duration = .seconds(900), healthTimeout: Duration = .seconds(900),
            pollInterval: Duration = .seconds(5)
        ) {
            self.batchSize = max(1, batchSize)
            self.commandTimeout = commandTimeout
            self.healthTimeout = healthTimeout
            self.pollInterval = pollInterval
        }
    }

    /// The node a rollout stopped at, and why.
    public struct Failure: Sendable, Equatable {
        /// The instance id.
        public let instance: String
        /// What went wrong.
        public let reason: String
    }

    /// What a rollout did.
    public struct Report: Sendable, Equatable {
        /// The application.
        public let application: String
        /// Nodes updated and healthy, in order.
        public let updated: [String]
        /// The node that failed and why, if one did.
        public let failure: Failure?
        /// Nodes of the failed batch that got the command but were not confirmed healthy.
        public let unconfirmed: [String]
        /// Nodes never touched because an earlier one failed.
        public let untouched: [String]

        /// Whether every node was updated.
        public var succeeded: Bool { failure == nil }

        /// A readable summary.
        public var summary: String {
            var lines = [
                "\(application): \(updated.count) node(s) updated"
                    + (updated.isEmpty ? "" : " (\(updated.joined(separator: ", ")))")
            ]
            if let failure { lines.append("\(application): FAILED on \(failure.instance): \(failure.reason)") }
            if !unconfirmed.isEmpty {
                lines.append("\(application): sent but not confirmed: \(unconfirmed.joined(separator: ", "))")
            }
            if !untouched.isEmpty { lines.append("\(application): untouched: \(untouched.joined(separator: ", "))") }
            return lines.joined(separator: "\n")
        }
    }

    /// EC2, to find the nodes.
    public let ec2: EC2Client
    /// SSM, to run the commands.
    public let ssm: SSMClient
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
    ///   - options: batch size, timeouts and poll interval.
    ///   - logger: where progress goes.
    ///   - transport: carries the `/status` probes; `HTTPTransport.shared` by default.
    public init(
        ec2: EC2Client, ssm: SSMClient, options: Options = Options(),
        logger: Logger = Logger(label: "atlas-relay.hot-deploy"), transport: HTTPTransport = .shared
    ) {
        self.ec2 = ec2
        self.ssm = ssm
        self.options = options
        self.logger = logger
        self.transport = transport
    }

    /// Rolls `version` out to the application's running nodes.
    ///
    /// - Throws: ``DeployError`` before any node is touched when the version is not a plain
    ///   identifier or the stack has no running nodes.
    public func deploy(_ application: Application, version: String) async throws -> Report {
        guard !version.isEmpty, version.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
            throw DeployError(
                .invalidSpec, stack: application.stack,
                message: "the version '\(version)' is not a commit id or release name",
                advice: "pass the COMMIT_ID that was released")
        }
        let nodes = try await ec2.instances(tagged: ["aws:cloudformation:stack-name": application.stack])
        guard !nodes.isEmpty else {
            throw DeployError(
                .noInstances, stack: application.stack, message: "no running instances are tagged with this stack",
                advice: "check the stack name, or deploy cold")
        }
        var updated: [String] = []
        var index = 0
        while index < nodes.count {
            let batch = Array(nodes[index..<min(index + options.batchSize, nodes.count)])
            index += batch.count
            if let failure = await update(batch, application: application, version: version) {
                return Report(
                    application: application.name, updated: updated, failure: failure,
                    unconfirmed: batch.map(\.id).filter { $0 != failure.instance },
                    untouched: nodes[index...].map(\.id))
            }
            updated += batch.map(\.id)
        }
        return Report(application: application.name, updated: updated, failure: nil, unconfirmed: [], untouched: [])
    }

    /// Runs the commands on one batch and waits for every node to be healthy; the first failure.
    func update(_ batch: [EC2Instance], application: Application, version: String) async
        -> Failure?
    {
        let ids = batch.map(\.id)
        logger.info(
            "\(application.name): updating \(ids.joined(separator: ", ")) to \(version)",
            metadata: ["application": "\(application.name)", "version": "\(version)"])
        let command: String
        do {
            command = try await ssm.sendCommand(
                instances: ids, document: "AWS-RunShellScript",
                parameters: ["commands": ["export COMMIT_ID=\(version)"] + application.commands],
                comment: "atlas-relay hot deploy \(application.name) \(version)")
        } catch {
            return Failure(instance: ids[0], reason: "SSM SendCommand failed: \(error)")
        }
        for node in batch {
            if let reason = await waitForCommand(command, on: node.id) {
                return Failure(instance: node.id, reason: reason)
            }
        }
        for node in batch {
            if let reason = await waitForRunning(node, application: application) {
                return Failure(instance: node.id, reason: reason)
            }
            logger.info("\(application.name): \(node.id) is RUNNING", metadata: ["instance": "\(node.id)"])
        }
        return nil
    }

    /// Polls the invocation until it ends; the failure, or nil on success.
    func waitForCommand(_ command: String, on instance: String) async -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: options.commandTimeout)
        while clock.now < deadline {
            do {
                let invocation = try await ssm.invocation(command: command, instance: instance)
                if invocation.isFinished {
                    if invocation.status == "Success" { return nil }
                    let detail = [invocation.standardErrorContent, invocation.standardOutputContent]
                        .compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }
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
