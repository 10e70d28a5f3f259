import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Synchronization
import Testing

@testable import StackDeploy

/// Hot-Deployer: instances and Run Command on moto, node health from real HTTP servers, and the
/// failed invocations moto cannot produce from a scripted endpoint.
struct HotDeployerTests {
    static let options = HotDeployer.Options(
        commandTimeout: .seconds(10), healthTimeout: .seconds(10), pollInterval: .milliseconds(20))

    static func motoClient() throws -> AWSClient { try Sandbox.motoAWSClient() }

    /// Launches `count` instances tagged as the stack's, in moto.
    static func launch(_ count: Int, stack: String, aws: AWSClient) async throws -> [String] {
        var parameters = QueryParameters(style: .flat)
        parameters.set("ImageId", "ami-12c6146b")
        parameters.set("InstanceType", "t3.micro")
        parameters.set("MinCount", count)
        parameters.set("MaxCount", count)
        parameters.set("TagSpecification.1.ResourceType", "instance")
        parameters.set("TagSpecification.1.Tag.1.Key", "aws:cloudformation:stack-name")
        parameters.set("TagSpecification.1.Tag.1.Value", stack)
        let result = try await aws.query(.ec2, action: "RunInstances", parameters: parameters)
        return result.child("instancesSet")?.children("item").compactMap { $0.string("instanceId") } ?? []
    }

    /// The launched nodes in the order a rollout visits them (launch time, then id: moto's launch
    /// times can differ by a second within one RunInstances call).
    static func rolloutOrder(_ launched: [String], stack: String, aws: AWSClient) async throws -> [String] {
        let order = try await EC2Client(aws).instances(tagged: ["aws:cloudformation:stack-name": stack]).map(\.id)
        #expect(Set(order) == Set(launched))
        return order
    }

    /// A status server per test: `/<instance>/status` answers STARTING once, then RUNNING (or
    /// what `states` says for that instance).
    /// A status endpoint (a ``TestHTTPServer`` handler) for `/<instance>/status`: STARTING at each
    /// node's first poll, then `states[instance]` or RUNNING.
    static func statusServer(states: [String: String] = [:]) -> @Sendable (RecordedRequest) async -> TestResponse {
        let seen = Mutex<Set<String>>([])
        return { request in
            let instance = request.path.split(separator: "/").first.map(String.init) ?? ""
            let first = seen.withLock { $0.insert(instance).inserted }
            let state = first ? "STARTING" : states[instance] ?? "RUNNING"
            return .json(["state": state], status: state == "RUNNING" ? 200 : 503)
        }
    }

    static let release = HotDeployer.Release(version: "c0ffee1", sha256: String(repeating: "a", count: 64))

    static func application(stack: String, server: TestHTTPServer) -> HotDeployer.Application {
        HotDeployer.Application(
            name: "jira", stack: stack,
            commands: {
                HotDeployer.Application.installCommands(
                    $0, deployBucket: "dev-deploy", script: nil, directory: "/opt/atlassian/jira", service: "jira")
            }
        ) { "\(server.baseURL)/\($0.id)/status" }
    }

    @Test func theSummaryHasOneLinePerNode() {
        var nodes = [
            HotDeployer.NodeOutcome(instance: "i-1", state: .updated),
            HotDeployer.NodeOutcome(instance: "i-2", state: .failed("exit code 1")),
            HotDeployer.NodeOutcome(instance: "i-3", state: .untouched),
        ]
        nodes[0].rolledBack = .success(())
        nodes[1].rolledBack = .failure(.init(reason: "exit code 1"))
        let report = HotDeployer.Report(
            application: "jira", release: Self.release, previous: .init(version: "bad1dea", sha256: Self.release.sha256),
            nodes: nodes, failure: .init(instance: "i-2", reason: "exit code 1"))
        #expect(
            report.summary.split(separator: "\n") == [
                "jira: c0ffee1 reached 1 of 3 node(s) before the failure", "jira: FAILED on i-2: exit code 1", "  i-1: updated; rolled back",
                "  i-2: failed: exit code 1; rollback FAILED: exit code 1", "  i-3: untouched",
            ])
    }

    /// The built-in install commands, run in bash on this machine with the node's `aws` and
    /// `systemctl` as scripts that record what they were asked.
    @Test func theInstallChecksTheArchivesSHA256BeforeUnpackingAnything() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("install-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/tree/config", withIntermediateDirectories: true)
        try "heap=2g\n".write(toFile: root + "/tree/config/jira.properties", atomically: true, encoding: .utf8)
        let tar = try await ProcessRunner.run("/bin/tar", ["-cf", root + "/code.tar", "-C", root + "/tree", "."], timeout: .seconds(30))
        #expect(tar.status == 0)
        let sha = Hex.sha256(try Data(contentsOf: URL(fileURLWithPath: root + "/code.tar")))
        // `aws s3 cp s3://… DEST` copies the archive; `systemctl` records the restart.
        try "#!/bin/bash\necho \"$@\" >> \(root)/aws.log\ncp \(root)/code.tar \"${@: -1}\"\n"
            .write(toFile: root + "/bin/aws", atomically: true, encoding: .utf8)
        try "#!/bin/bash\necho \"$@\" >> \(root)/systemctl.log\n".write(toFile: root + "/bin/systemctl", atomically: true, encoding: .utf8)
        for tool in ["aws", "systemctl"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root + "/bin/" + tool)
        }
        func install(_ sha256: String) async throws -> ProcessRunner.Output {
            let lines = HotDeployer.Application.installCommands(
                .init(version: "c0ffee1", sha256: sha256), deployBucket: "dev-deploy", script: nil,
                directory: root + "/opt jira", service: "jira's")
            var environment = ProcessInfo.processInfo.environment
            environment["PATH"] = root + "/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
            return try await ProcessRunner.run(
                "/bin/bash", ["-c", lines.joined(separator: "\n")], environment: environment, timeout: .seconds(30))
        }
        let damaged = try await install(String(repeating: "0", count: 64))
        #expect(damaged.status != 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/opt jira"), "unpacked a damaged archive")
        #expect(!FileManager.default.fileExists(atPath: root + "/systemctl.log"))

        let good = try await install(sha)
        #expect(good.status == 0, "\(good.errorText)")
        #expect(try String(contentsOfFile: root + "/aws.log", encoding: .utf8).contains("s3://dev-deploy/releases/c0ffee1/code.tar"))
        let current = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/opt jira/current")
        #expect(current == root + "/opt jira/releases/c0ffee1")
        #expect(try String(contentsOfFile: current + "/.atlas-relay-release", encoding: .utf8) == "c0ffee1\n")
        #expect(FileManager.default.fileExists(atPath: current + "/config/jira.properties"))
        #expect(try String(contentsOfFile: root + "/systemctl.log", encoding: .utf8) == "restart jira's\n")
    }

    /// The instance ids of the status requests, in order.
    static func statusOrder(_ server: TestHTTPServer) -> [String] {
        server.requests.compactMap { $0.path.split(separator: "/").first.map(String.init) }
    }

    @Test func rollsOutNodeByNodeWaitingForEachToRun() async throws {
        let aws = try Self.motoClient()
        let stack = "dev-jira-\(UUID().uuidString.prefix(8))"
        let launched = try await Self.rolloutOrder(Self.launch(3, stack: stack, aws: aws), stack: stack, aws: aws)
        try await withTestServer(Self.statusServer()) { server in
            let deployer = HotDeployer(ec2: EC2Client(aws), ssm: SSMClient(aws), elb: ELBv2Client(aws), options: Self.options)
            let report = try await deployer.deploy(Self.application(stack: stack, server: server), release: Self.release, previous: nil)
            #expect(report.succeeded, "\(report.summary)")
            #expect(report.updated == launched)
            // Each node was polled until RUNNING before the next one was touched.
            let order = Self.statusOrder(server)
            #expect(order == report.updated.flatMap { [$0, $0] })
        }
    }

    @Test func aNodeThatDoesNotComeBackStopsTheRollout() async throws {
        let aws = try Self.motoClient()
        let stack = "dev-jira-\(UUID().uuidString.prefix(8))"
        let nodes = try await Self.rolloutOrder(Self.launch(3, stack: stack, aws: aws), stack: stack, aws: aws)
        try await withTestServer(Self.statusServer(states: [nodes[1]: "ERROR"])) { server in
            let deployer = HotDeployer(ec2: EC2Client(aws), ssm: SSMClient(aws), elb: ELBv2Client(aws), options: Self.options)
            let report = try await deployer.deploy(Self.application(stack: stack, server: server), release: Self.release, previous: nil)
            #expect(!report.succeeded)
            #expect(report.updated == [nodes[0]])
            #expect(report.failure?.instance == nodes[1])
            #expect(report.failure?.reason.contains("answered state ERROR") == true)
            #expect(report.untouched == [nodes[2]])
            #expect(!Self.statusOrder(server).contains(nodes[2]))
        }
    }

    @Test func aFailedCommandIsReportedWithItsErrorAndLaterNodesAreNotSent() async throws {
        let sent = Mutex<[Data]>([])
        let polls = Mutex(0)
        try await withTestServer { request in
            if let target = request.header("X-Amz-Target") {
                switch target {
                case "AmazonSSM.SendCommand":
                    sent.withLock { $0.append(request.body) }
                    return .json(["Command": ["CommandId": "cmd-1"]])
                case "AmazonSSM.GetCommandInvocation":
                    let count = polls.withLock {
                        $0 += 1; return $0
                    }
                    if count == 1 {  // not registered yet, as right after SendCommand
                        return .json(["__type": "InvocationDoesNotExist", "message": ""], status: 400)
                    }
                    return .json([
                        "Status": "Failed", "StatusDetails": "Failed", "ResponseCode": 1,
                        "StandardOutputContent": "", "StandardErrorContent": "Job for jira.service failed.\n",
                    ])
                default: return .json(["__type": "UnknownOperationException"], status: 400)
                }
            }
            // EC2 DescribeInstances, in the shape of the EC2 API reference's example.
            return .text(
                """
                <DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">\
                <requestId>8f7724cf-496f-496e-8fe3-example</requestId><reservationSet><item>\
                <reservationId>r-1</reservationId><instancesSet>\
                <item><instanceId>i-0000000000000aaaa</instanceId><instanceState><code>16</code><name>running</name>\
                </instanceState><privateIpAddress>10.0.1.10</privateIpAddress><launchTime>2026-11-01T10:00:00.000Z</launchTime></item>\
                <item><instanceId>i-0000000000000bbbb</instanceId><instanceState><code>16</code><name>running</name>\
                </instanceState><privateIpAddress>10.0.1.11</privateIpAddress><launchTime>2026-11-01T09:00:00.000Z</launchTime></item>\
                </instancesSet></item></reservationSet></DescribeInstancesResponse>
                """, headers: [("Content-Type", "text/xml")])
        } body: { endpoint in
            let aws = AWSClient(
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(
                    Credentials(accessKeyId: "AKIDSCRIPTED", secretAccessKey: "s")),
                endpoints: EndpointResolver(explicitEndpoint: endpoint.baseURL),
                retryPolicy: RetryPolicy(maxAttempts: 1))
            let deployer = HotDeployer(ec2: EC2Client(aws), ssm: SSMClient(aws), elb: ELBv2Client(aws), options: Self.options)
            let application = HotDeployer.Application(
                name: "jira", stack: "dev-jira", commands: { _ in ["systemctl restart jira"] }
            ) {
                _ in "http://127.0.0.1:1/status"  // never reached: the command fails first
            }

            let refused = try await #require(throws: DeployError.self) {
                try await deployer.deploy(
                    application, release: .init(version: "abc; rm -rf /", sha256: Self.release.sha256), previous: nil)
            }
            #expect(refused.kind == .invalidSpec)
            #expect(endpoint.requests.isEmpty)

            let report = try await deployer.deploy(
                application, release: .init(version: "abc123", sha256: Self.release.sha256), previous: nil)
            // The older node goes first.
            #expect(report.failure?.instance == "i-0000000000000bbbb")
            let reason = try #require(report.failure?.reason)
            #expect(reason.contains("the command ended Failed (Failed), exit code 1: Job for jira.service failed."))
            #expect(report.untouched == ["i-0000000000000aaaa"])
            let commands = sent.withLock { $0 }.map {
                (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] ?? [:]
            }
            #expect(commands.count == 1)
            #expect(commands.first?["InstanceIds"] as? [String] == ["i-0000000000000bbbb"])
            let parameters = commands.first?["Parameters"] as? [String: [String]]
            #expect(parameters?["commands"] == ["systemctl restart jira"])
            let describe = try #require(endpoint.requests.first)
            let form = String(decoding: describe.body, as: UTF8.self)
            #expect(form.contains("Filter.1.Name=tag%3Aaws%3Acloudformation%3Astack-name&Filter.1.Value.1=dev-jira"))
            #expect(form.contains("Filter.2.Name=instance-state-name&Filter.2.Value.1=running"))
        }
    }
}

/// `bash -n` over a script: parse without running.
enum ProcessRunnerCheck {
    static func syntax(_ script: String) async throws -> Int32 {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(UUID().uuidString).sh")
        try Data(script.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await ProcessRunner.run("/bin/bash", ["-n", file.path], timeout: .seconds(10)).status
    }
}
