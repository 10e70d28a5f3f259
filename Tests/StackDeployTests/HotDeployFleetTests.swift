import AWSCore
import AWSSigning
import AtlasRelayTestSupport
import Foundation
import NIOCore
import RelayFoundation
import S3Sync
import Testing

@testable import StackDeploy

/// A hot deploy against the node stand-in (`scripts/node-standin.py`, written from AWS's API
/// references): two nodes behind a target group, the install commands really run in bash on
/// each node with the release from the sandbox's S3, drained and put back; then a release that
/// breaks the second node, rolled back on both.
struct HotDeployFleetTests {
    @Test func eachNodeIsDrainedInstalledStartedAndRegisteredAndAFailureIsRolledBack() async throws {
        let s3 = S3Client(try Sandbox.s3AWSClient())
        try await withSandboxBucket(s3.aws, prefix: "fleet") { bucket in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            // Two releases in the bucket, as the code-releaser lays them out.
            var releases: [String: HotDeployer.Release] = [:]
            for version in ["v1", "v2", "v3"] {
                let tree = "\(root)/tree-\(version)"
                try FileManager.default.createDirectory(atPath: tree + "/config", withIntermediateDirectories: true)
                try "release \(version)\n".write(toFile: tree + "/config/app.properties", atomically: true, encoding: .utf8)
                let tar = try await ProcessRunner.run("/bin/tar", ["-cf", "\(root)/\(version).tar", "-C", tree, "."], timeout: .seconds(30))
                #expect(tar.status == 0)
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(version).tar"))
                try await s3.putObject(bucket: bucket, key: "releases/\(version)/code.tar", data: ByteBuffer(data: data))
                releases[version] = .init(version: version, sha256: Hex.sha256(data))
            }
            // Two nodes on addresses of their own, one port, one target group.
            let net = "127.\(Int.random(in: 30...250)).\(Int.random(in: 1...250))"
            let port = Int.random(in: 20000...40000)
            let ids = ["i-00000000000000a01", "i-00000000000000a02"]
            let nodes = ids.enumerated().map { index, id in
                NodeStandIn.Node(
                    id: id, ip: "\(net).\(11 + index)", root: "\(root)/node\(index + 1)", appPort: port,
                    tags: ["aws:cloudformation:stack-name": "uat-jira"], launchTime: "2026-11-01T10:0\(index):00.000Z")
            }
            let group = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/uat-jira/0a1b2c3d4e5f6a7b"
            var environment = ProcessInfo.processInfo.environment
            environment.merge(Sandbox.environment) { $1 }
            let fleet = try await NodeStandIn.start(
                nodes: nodes, targetGroups: [.init(arn: group, port: port, registered: ids)], environment: environment)
            defer { fleet.stop() }
            let aws = AWSClient(
                region: "us-east-1",
                credentialProvider: StaticCredentialProvider(Credentials(accessKeyId: "AKIDFLEET", secretAccessKey: "s")),
                endpoints: EndpointResolver(explicitEndpoint: fleet.endpoint))
            let deployer = HotDeployer(
                ec2: EC2Client(aws), ssm: SSMClient(aws), elb: ELBv2Client(aws), s3: s3,
                options: .init(
                    commandTimeout: .seconds(60), healthTimeout: .seconds(60), drainTimeout: .seconds(60),
                    pollInterval: .milliseconds(100), output: (bucket, "hot-deploy-output/")))
            let application = HotDeployer.Application(
                name: "jira", stack: "uat-jira", targetGroups: [group],
                commands: {
                    HotDeployer.Application.installCommands(
                        $0, deployBucket: bucket, script: nil, directory: ".", service: "jira")
                },
                statusURL: { "http://\($0.privateIP ?? ""):\(port)/status" })
            func marker(_ index: Int) -> String? {
                try? String(contentsOfFile: "\(root)/node\(index + 1)/current/.atlas-relay-release", encoding: .utf8)
            }

            // v1 on both, one after the other: out of the group, installed, RUNNING, back and healthy.
            let first = try await deployer.deploy(application, release: releases["v1"]!, previous: nil)
            #expect(first.succeeded, "\(first.summary)")
            #expect(first.updated == ids)
            #expect(marker(0) == "v1\n" && marker(1) == "v1\n")
            let moves = fleet.transitions.map { "\($0.target) \($0.from)>\($0.to)" }
            let cycle = ["healthy>draining", "draining>unused", "unused>initial", "initial>healthy"]
            #expect(moves == ids.flatMap { id in cycle.map { "\(id) \($0)" } }, "\(moves)")
            // The commands checked the archive and their whole output is in the bucket.
            let sent = fleet.commands
            #expect(sent.count == 2 && sent.allSatisfy { $0.outputBucket == bucket })
            #expect(sent.first?.commands.contains { $0.contains("sha256sum --check --strict") } == true)
            let outputs = try await s3.listAllObjects(bucket: bucket, prefix: "hot-deploy-output/jira/")
            #expect(outputs.contains { $0.key.hasSuffix("/\(ids[0])/awsrunShellScript/0.awsrunShellScript/stdout") }, "\(outputs.map(\.key))")

            // v2 breaks the second node: the rollout stops there and both go back to v1.
            try "v2\n".write(toFile: "\(root)/node2/broken", atomically: true, encoding: .utf8)
            let second = try await deployer.deploy(application, release: releases["v2"]!, previous: releases["v1"]!)
            #expect(!second.succeeded)
            #expect(second.failure?.instance == ids[1])
            #expect(second.failure?.reason.contains("ERROR") == true, "\(second.summary)")
            #expect(second.nodes.map(\.rollbackText) == ["rolled back", "rolled back"], "\(second.summary)")
            #expect(marker(0) == "v1\n" && marker(1) == "v1\n")
            let health = try await ELBv2Client(aws).health(of: group)
            #expect(Set(health.filter { $0.state == "healthy" }.map(\.id)) == Set(ids), "\(health)")

            // A damaged archive never gets unpacked: the node keeps v1.
            let damaged = HotDeployer.Release(version: "v3", sha256: String(repeating: "0", count: 64))
            try FileManager.default.removeItem(atPath: "\(root)/node2/broken")
            let refused = try await deployer.deploy(application, release: damaged, previous: releases["v1"]!)
            #expect(refused.failure?.instance == ids[0])
            #expect(refused.failure?.reason.contains("exit code") == true, "\(refused.summary)")
            #expect(!FileManager.default.fileExists(atPath: "\(root)/node1/releases/v3"))
            #expect(marker(0) == "v1\n")
        }
    }
}
