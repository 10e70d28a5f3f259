import Foundation
import RelayFoundation

/// `scripts/node-standin.py` running: EC2 instances behind target groups, run through SSM Run
/// Command, written from AWS's API references. It answers EC2 `DescribeInstances`, ELBv2's
/// target registration and health (with draining and health-check transitions), and SSM's
/// `SendCommand` and `GetCommandInvocation` by running the commands in bash in each node's
/// folder (output to S3 as SSM lays it out); other calls go on to moto. Each node's application
/// answers `/status` on its own address, so a release script that restarts it is really tested.
public final class NodeStandIn: Sendable {
    /// One instance.
    public struct Node: Encodable, Sendable {
        /// The instance id.
        public let id: String
        /// Its private address (a 127.0.0.0/8 address of its own).
        public let ip: String
        /// Its folder: the install commands run there, and `bin/systemctl` is the node's own.
        public let root: String
        /// The port its application listens on.
        public let appPort: Int
        /// Its tags, for example `aws:cloudformation:stack-name`.
        public let tags: [String: String]
        /// Its launch time (the rollout order).
        public let launchTime: String

        /// Describes an instance.
        public init(id: String, ip: String, root: String, appPort: Int, tags: [String: String], launchTime: String) {
            self.id = id
            self.ip = ip
            self.root = root
            self.appPort = appPort
            self.tags = tags
            self.launchTime = launchTime
        }
    }

    /// One target group.
    public struct TargetGroup: Encodable, Sendable {
        /// Its ARN.
        public let arn: String
        /// The port it checks and sends to.
        public let port: Int
        /// The health check's path.
        public let healthCheckPath: String
        /// Instances registered at start.
        public let registered: [String]
        /// Seconds a deregistered target drains.
        public let deregistrationDelay: Double
        /// Checks in a row before `healthy`.
        public let healthyThreshold: Int
        /// Seconds between checks.
        public let interval: Double

        /// Describes a target group.
        public init(
            arn: String, port: Int, healthCheckPath: String = "/status", registered: [String],
            deregistrationDelay: Double = 1, healthyThreshold: Int = 2, interval: Double = 0.2
        ) {
            self.arn = arn
            self.port = port
            self.healthCheckPath = healthCheckPath
            self.registered = registered
            self.deregistrationDelay = deregistrationDelay
            self.healthyThreshold = healthyThreshold
            self.interval = interval
        }
    }

    /// One target-health transition.
    public struct Transition: Decodable, Sendable {
        /// Seconds since 1970.
        public let time: Double
        /// The target group.
        public let group: String
        /// The instance.
        public let target: String
        /// The state before.
        public let from: String
        /// The state after.
        public let to: String
    }

    /// One command sent.
    public struct Command: Decodable, Sendable {
        /// Its id.
        public let commandId: String
        /// The instances.
        public let instances: [String]
        /// The script's lines.
        public let commands: [String]
        /// The output bucket, if any.
        public let outputBucket: String?
    }

    /// `http://127.0.0.1:<port>`: the EC2, ELBv2 and SSM endpoint.
    public let endpoint: String
    private let state: String
    private let pid: Int32

    private init(endpoint: String, state: String, pid: Int32) {
        self.endpoint = endpoint
        self.state = state
        self.pid = pid
    }

    private func lines<T: Decodable>(_ file: String, as: T.Type) -> [T] {
        let text = (try? String(contentsOfFile: state + "/" + file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    /// The target-health transitions so far, in order.
    public var transitions: [Transition] { lines("health.jsonl", as: Transition.self) }
    /// The commands sent so far, in order.
    public var commands: [Command] { lines("commands.jsonl", as: Command.self) }

    /// Starts the stand-in for `nodes` and `targetGroups`, with `environment` (the AWS CLI's
    /// endpoints and keys for the output uploads, `ATLAS_RELAY_MOTO_ENDPOINT` for the rest).
    public static func start(
        nodes: [Node], targetGroups: [TargetGroup], environment: [String: String]
    ) async throws -> NodeStandIn {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nodes-\(UUID().uuidString)").path
        let state = root + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        for node in nodes { try FileManager.default.createDirectory(atPath: node.root, withIntermediateDirectories: true) }
        struct Config: Encodable {
            let nodes: [Node]
            let targetGroups: [TargetGroup]
        }
        let config = root + "/config.json"
        try JSONEncoder().encode(Config(nodes: nodes, targetGroups: targetGroups)).write(to: URL(fileURLWithPath: config))
        let script = Sandbox.repositoryRoot.appendingPathComponent("scripts/node-standin.py").path
        let output = try await ProcessRunner.run(
            "/bin/sh", ["-c", "python3 \"$0\" \"$1\" \"$2\" >\"$1.log\" 2>&1 & echo $!", script, state, config],
            environment: environment, timeout: .seconds(30))
        guard let pid = Int32(String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw TestSupportError("the node stand-in did not start: \(output.errorText)") }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: state + "/port", encoding: .utf8), let port = Int(text) {
                return NodeStandIn(endpoint: "http://127.0.0.1:\(port)", state: state, pid: pid)
            }
            guard kill(pid, 0) == 0 else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(pid, SIGKILL)
        let log = (try? String(contentsOfFile: state + ".log", encoding: .utf8)) ?? ""
        throw TestSupportError("the node stand-in did not start: \(log.suffix(500))")
    }

    /// Stops the server and removes its state.
    public func stop() {
        kill(pid, SIGKILL)
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: state).deletingLastPathComponent().path)
    }
}
