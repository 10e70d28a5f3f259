import AWSCore
import AtlasRelayTestSupport
import Foundation
import StackDeploy
import Testing

@testable import Pipeline

/// `uat --deployer hot` as the phase runs it: UAT's Jira nodes from `environments.uat.nodes` in
/// the node stand-in (EC2, ELBv2 and SSM there; CloudFormation and parameters in moto), the way
/// back from UAT's deploy record, a broken node rolled back, and the stack's CodeVersion set only
/// when the rollout succeeded.
struct HotDeployPhaseTests {
    @Test func aHotDeployRollsBackToWhatUATRanAndSetsTheCodeVersionWhenItSucceeds() async throws {
        let tag = PromotionWorld.newTag()
        let net = "127.\(Int.random(in: 30...250)).\(Int.random(in: 1...250))"
        let port = Int.random(in: 20000...40000)
        let ids = ["i-00000000000000b01", "i-00000000000000b02"]
        let group = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/uat-jira/0b1c2d3e4f5a6b7c"
        let nodesRoot = FileManager.default.temporaryDirectory.appendingPathComponent("hot-\(tag)").path
        defer { try? FileManager.default.removeItem(atPath: nodesRoot) }
        let nodes = ids.enumerated().map { index, id in
            NodeStandIn.Node(
                id: id, ip: "\(net).\(11 + index)", root: "\(nodesRoot)/node\(index + 1)", appPort: port,
                tags: ["aws:cloudformation:stack-name": "\(tag)-uat-app"], launchTime: "2026-11-01T10:0\(index):00.000Z")
        }
        var standInEnvironment = ProcessInfo.processInfo.environment
        standInEnvironment.merge(Sandbox.environment) { $1 }
        let fleet = try await NodeStandIn.start(
            nodes: nodes, targetGroups: [.init(arn: group, port: port, registered: ids)], environment: standInEnvironment)
        defer { fleet.stop() }
        try await withResource {
            try await PromotionWorld(
                tag: tag,
                uat: """
                        applications: { jira: { url: "http://\(net).11:\(port)", credentials: { token: env:RELAY_TEST_TOKEN } } }
                        nodes:
                          jira: { stack: \(tag)-uat-app, targetGroups: ["\(group)"], port: \(port), releasePath: /atlas-relay/release, directory: . }
                        deploy: { hot: { drainSeconds: 60, commandSeconds: 60, healthSeconds: 60 } }
                        tests: { waivers: { functional: "the nodes here are the stand-in's, not a Jira" } }
                    """,
                environment: [
                    "AWS_ENDPOINT_URL_EC2": fleet.endpoint, "AWS_ENDPOINT_URL_SSM": fleet.endpoint,
                    "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2": fleet.endpoint, "RELAY_TEST_TOKEN": "unused",
                ])
        } cleanup: { await $0.close() } body: { world in
            let ssm = SSMClient(try Sandbox.motoAWSClient())
            func marker(_ index: Int) -> String? {
                (try? String(contentsOfFile: "\(nodesRoot)/node\(index + 1)/current/.atlas-relay-release", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            // A: through nightly and a hot UAT deploy (nothing to go back to yet, and nothing fails).
            let a = try await world.commit("TEST-1: first")
            #expect(try await world.run(.nightly, a).passed)
            let first = try await world.run(.uat, a, deployer: .hot)
            #expect(first.passed, "\(first.text)")
            #expect(marker(0) == a && marker(1) == a)
            #expect(try await ssm.parameter("/\(tag)-uat/code-version") == a)

            // B breaks the second node: both go back to A, and the stack keeps A.
            let b = try await world.commit("TEST-2: second")
            #expect(try await world.run(.nightly, b).passed)
            try "\(b)\n".write(toFile: "\(nodesRoot)/node2/broken", atomically: true, encoding: .utf8)
            let broken = try await world.run(.uat, b, deployer: .hot)
            #expect(!broken.passed)
            let step = try #require(broken.steps.first { $0.name == "deployer" })
            #expect(step.outcome == .failed && step.figures["rolledBack"] == "2", "\(broken.text)")
            #expect(marker(0) == a && marker(1) == a)
            #expect(try await ssm.parameter("/\(tag)-uat/code-version") == a)
            #expect(try await world.pipeline.status()[1].deployed?.commit == a)

            // Repaired: B on both, the stack's CodeVersion is B, recorded as a hot deploy.
            try FileManager.default.removeItem(atPath: "\(nodesRoot)/node2/broken")
            let repaired = try await world.run(.uat, b, deployer: .hot)
            #expect(repaired.passed, "\(repaired.text)")
            #expect(marker(0) == b && marker(1) == b)
            #expect(try await ssm.parameter("/\(tag)-uat/code-version") == b)
            let deployed = try await world.pipeline.status()[1].deployed
            #expect(deployed?.commit == b && deployed?.deployer == "hot")

            // UAT's app-tester checks every node: RUNNING, the commit its marker answers, and the
            // target group seeing both healthy; a node that runs another commit fails it.
            func appTester(_ commit: String) async throws -> RunReport.Step {
                let report = try await world.pipeline.run(.uat, commit: commit, selection: .init(only: ["app-tester"]), options: world.options)
                return try #require(report.steps.first { $0.name == "app-tester" })
            }
            let checked = try await appTester(b)
            #expect(checked.outcome == .passed && checked.figures["nodes"] == "2", "\(checked)")
            let stale = try await appTester(a)
            #expect(stale.outcome == .failed && stale.message?.contains("runs \(b)") == true, "\(stale)")
        }
    }
}
