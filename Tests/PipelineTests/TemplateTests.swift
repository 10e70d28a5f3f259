import AWSSigning
import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import StackDeploy
import Testing
import Yams

/// The shipped CloudFormation templates: valid against the resource schemas (cfn-lint), and the
/// CodeBuild stack plans through StackDeploy in moto.
struct TemplateTests {
    static let root = Sandbox.repositoryRoot.path
    static let templates = [
        "Examples/sandbox/cloudformation/network.yaml", "Examples/sandbox/cloudformation/database.yaml",
        "Examples/sandbox/cloudformation/jira.yaml", "Examples/sandbox/cloudformation/confluence.yaml",
        "Examples/codebuild/pipeline-codebuild.yaml", "Examples/codebuild/nightly-snapshot-codebuild.yaml",
        "Examples/codebuild/pipeline-account-roles.yaml", "Examples/codebuild/uat-load-codebuild.yaml",
    ]

    @Test func templatesPassCfnLint() async throws {
        let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "/usr/bin/env"
        let arguments =
            (python == "/usr/bin/env" ? ["python3"] : [])
            + [
                "-c",
                "import sys; from cfnlint.runner import main; sys.argv = ['cfn-lint'] + sys.argv[1:]; sys.exit(main())",
            ]
            + Self.templates.map { "\(Self.root)/\($0)" }
        let output = try await ProcessRunner.run(python, arguments, timeout: .seconds(300))
        #expect(output.status == 0, "\(String(decoding: output.stdout, as: UTF8.self)) \(output.errorText)")
    }

    @Test func theCodeBuildStackPlansInMoto() async throws {
        let deployer = StackDeployer(cloudFormation: CloudFormationClient(try Sandbox.motoAWSClient()))
        let name = "relay-codebuild-\(UUID().uuidString.lowercased().prefix(8))"
        let spec = StackSpec(
            name: name, template: .file("\(Self.root)/Examples/codebuild/pipeline-codebuild.yaml"),
            parameters: [
                "ToolsRepositoryUrl": .value("https://github.com/example/atlas-relay.git"),
                "ToolsVersion": .value("v1.0.0"), "ArtifactsBucket": .value("atlas-artifacts"),
                "DevDeployBucket": .value("atlas-dev-deploy"), "UatDeployBucket": .value("atlas-uat-deploy"),
                "SnapshotBucket": .value("atlas-snapshots"),
                "ProdDeployRoleArn": .value("arn:aws:iam::333333333333:role/atlas-relay-deployer"),
            ],
            capabilities: ["CAPABILITY_NAMED_IAM"])
        let plan = try await deployer.plan(spec)
        #expect(plan.isNew)
        // Every project (tools, nightly, uat, go-live), role and the nightly schedule would be added. (moto creates the change
        // set but cannot execute it: it has no CodeBuild resources in CloudFormation, and a
        // GetAtt to one fails the whole stack.)
        let added = Dictionary(grouping: plan.changes.filter { $0.action == "Add" }, by: \.resourceType).mapValues(
            \.count)
        #expect(added["AWS::CodeBuild::Project"] == 4, "\(plan.text)")
        #expect(added["AWS::IAM::Role"] == 5, "\(plan.text)")
        #expect(added["AWS::Events::Rule"] == 1, "\(plan.text)")
        // By default the stack owns DEV's and (in one account) UAT's deploy bucket policies: only
        // nightly writes DEV's passed/, only uat UAT's. (moto's change sets ignore Conditions, so
        // the external settings cannot be shown here.)
        #expect(added["AWS::S3::BucketPolicy"] == 2, "\(plan.text)")
    }

    /// The pass-record policies deny every writer of `passed/` but the phase's own role, by
    /// role ARN: DEV's bucket nightly's, UAT's uat's.
    @Test(arguments: [("DevDeployBucketPassRecords", "NightlyRole"), ("UatDeployBucketPassRecords", "UatRole")])
    func onlyThePhasesOwnRoleMayWritePassRecords(policyName: String, role: String) throws {
        let text = try String(contentsOfFile: "\(Self.root)/Examples/codebuild/pipeline-codebuild.yaml", encoding: .utf8)
        let template = try #require(try Yams.compose(yaml: text)?.mapping)
        let policy = try #require(template["Resources"]?.mapping?[policyName]?.mapping)
        let statement = try #require(policy["Properties"]?.mapping?["PolicyDocument"]?.mapping?["Statement"]?.sequence?.first?.mapping)
        #expect(statement["Effect"]?.string == "Deny")
        #expect("\(try #require(statement["Resource"]))".contains("/passed/*"))
        let actions = statement["Action"]?.sequence?.compactMap(\.string) ?? []
        #expect(actions.contains("s3:PutObject") && actions.contains("s3:DeleteObject"), "\(actions)")
        let condition = "\(try #require(statement["Condition"]))"
        #expect(condition.contains("ArnNotEquals") && condition.contains("aws:PrincipalArn") && condition.contains(role), "\(condition)")
    }

    /// The UAT load batch for each generator count, its buildspec resolved as CloudFormation's
    /// `!Sub` and `!FindInMap` would: n generators with GENERATOR=i/n side by side, and a merge
    /// that waits for every one of them.
    @Test(arguments: [2, 4, 8])
    func theUatLoadBatchRunsEveryGeneratorThenTheMerge(_ generators: Int) throws {
        let text = try String(contentsOfFile: "\(Self.root)/Examples/codebuild/uat-load-codebuild.yaml", encoding: .utf8)
        let template = try #require(try Yams.compose(yaml: text)?.mapping)
        // The keys are quoted ("2"): look them up by their text, not as a plain scalar.
        let graphs = try #require(template["Mappings"]?.mapping?["GeneratorGraphs"]?.mapping)
        let graph = try #require(graphs.first { $0.key.string == "\(generators)" }?.value.mapping)
        let jobs = graph["Jobs"]?.sequence?.compactMap(\.string) ?? []
        let ids = graph["Ids"]?.sequence?.compactMap(\.string) ?? []
        #expect(graph["Builds"]?.int == generators + 1)
        let project = try #require(template["Resources"]?.mapping?["UatLoadProject"]?.mapping?["Properties"]?.mapping)
        let sub = try #require(project["Source"]?.mapping?["BuildSpec"]?.sequence)
        var spec = try #require(sub.first?.string)
        let values = [
            "GeneratorJobs": jobs.joined(separator: "\n    "), "GeneratorIds": ids.joined(separator: ", "),
            "LoadGenerators": "\(generators)", "ArtifactsBucket": "artifacts", "ToolsVersion": "v1",
            "SecretsPrefix": "atlas-relay", "JiraUrl": "https://jira.uat.example.com", "Project": "DEMO",
        ]
        let names = Set(spec.matches(of: /\$\{([A-Za-z][A-Za-z0-9:]*)\}/).map { String($0.output.1) })
        #expect(names.isSubset(of: Set(values.keys)), "unresolved: \(names.subtracting(values.keys))")
        for (name, value) in values { spec = spec.replacingOccurrences(of: "${\(name)}", with: value) }
        spec = spec.replacingOccurrences(of: "${!", with: "${")
        let buildspec = try #require(try Yams.load(yaml: spec) as? [String: Any])
        let entries = try #require((buildspec["batch"] as? [String: Any])?["build-graph"] as? [[String: Any]])
        #expect(entries.count == generators + 1)
        let shares = entries.compactMap { (($0["env"] as? [String: Any])?["variables"] as? [String: Any])?["GENERATOR"] as? String }
        #expect(shares == (1...generators).map { "\($0)/\(generators)" })
        let merge = try #require(entries.first { $0["identifier"] as? String == "merge" })
        #expect(merge["depend-on"] as? [String] == (1...generators).map { "generator_\($0)" })
        #expect((((merge["env"] as? [String: Any])?["variables"] as? [String: Any])?["MERGE_GENERATORS"] as? String) == "\(generators)")
        // Each generator takes its share, the merge judges them all as one.
        let build = (((buildspec["phases"] as? [String: Any])?["build"] as? [String: Any])?["commands"] as? [String] ?? []).joined()
        #expect(build.contains("--generator \"$GENERATOR\"") && build.contains("app-tester merge results/generator-*.json"))
    }
}

