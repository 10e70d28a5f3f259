import Foundation
import Logging
import NIOCore
import StackDeploy

extension Pipeline {
    /// What `dev-release bootstrap` needs besides `pipeline.yml`: how to reach the other accounts
    /// before the pipeline's roles exist there and, unless only the roles are deployed, where the
    /// CodeBuild template gets its tools and reports.
    public struct Bootstrap: Sendable {
        /// What the CodeBuild stack needs.
        public struct CodeBuild: Sendable {
            /// The bucket (in the pipeline's account) for the tools, the config and the reports.
            public var artifactsBucket: String
            /// The Atlas Relay tag or commit the tools project builds.
            public var toolsVersion: String
            /// The Atlas Relay repository the tools project builds.
            public var toolsRepository: String

            /// Creates the settings.
            public init(artifactsBucket: String, toolsVersion: String, toolsRepository: String) {
                self.artifactsBucket = artifactsBucket
                self.toolsVersion = toolsVersion
                self.toolsRepository = toolsRepository
            }
        }

        /// The CodeBuild stack's settings; nil deploys only the account roles (for example when
        /// the member accounts' administrators run the bootstrap, or where CodeBuild is not
        /// available, as in the sandbox), and uploads no config.
        public var codeBuild: CodeBuild?
        /// The role assumed in UAT's and PROD's accounts to create the pipeline's roles there
        /// (`OrganizationAccountAccessRole`, which AWS Organizations creates in member accounts,
        /// by default).
        public var adminRoleName: String
        /// The prefix of the CodeBuild projects and of the bootstrap's stacks.
        public var projectPrefix: String
        /// The folder holding `pipeline-codebuild.yaml` and `pipeline-account-roles.yaml`.
        public var templates: String

        /// Creates the settings.
        public init(
            codeBuild: CodeBuild?, adminRoleName: String = "OrganizationAccountAccessRole",
            projectPrefix: String = "atlas-relay", templates: String
        ) {
            self.codeBuild = codeBuild
            self.adminRoleName = adminRoleName
            self.projectPrefix = projectPrefix
            self.templates = templates
        }
    }

    /// One stack of the bootstrap, with the clients of the account it goes into.
    public struct BootstrapStack: Sendable {
        /// The stack.
        public let spec: StackSpec
        /// The account's name in `pipeline.yml`.
        public let account: String
        let cloudFormation: CloudFormationClient
    }

    /// The stacks that make the pipeline, in the order they are deployed: for UAT's and PROD's
    /// accounts (when they are not the pipeline's own), `<prefix>-roles-<environment>` from
    /// `pipeline-account-roles.yaml` with the deploy and read roles `pipeline.yml` names; then
    /// `<prefix>-codebuild` in the pipeline's (DEV's) account, its parameters taken from
    /// `pipeline.yml` (unless ``Bootstrap/codeBuild`` is nil).
    ///
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/incompleteConfig`` when the config
    ///   lacks what the stacks need (a role for PROD's account, the snapshots section).
    public func bootstrapStacks(_ settings: Bootstrap) throws -> [BootstrapStack] {
        let dev = try environment(of: .nightly)
        let uat = try environment(of: .uat)
        let prod = config.productionEnvironment
        /// `name` of `arn:aws:iam::<id>:role/<path>/<name>`.
        func roleName(_ arn: String?) -> String? {
            guard let arn, let range = arn.range(of: ":role/") else { return nil }
            return arn[range.upperBound...].split(separator: "/").last.map(String.init)
        }
        guard let prodDeploy = config.account(of: prod).role else {
            throw PipelineError(
                "bootstrap needs accounts.\(prod.account).role: go-live deploys PROD only through that role",
                kind: .incompleteConfig)
        }
        var stacks: [BootstrapStack] = []
        var done: Set<String> = [dev.account]
        for (environment, phase) in [(uat, "uat"), (prod, "go-live")] where !done.contains(environment.account) {
            done.insert(environment.account)
            let account = config.account(of: environment)
            guard let deploy = roleName(account.role) else {
                throw PipelineError(
                    "bootstrap needs accounts.\(environment.account).role (a role ARN): \(environment.name) is in an account of its own",
                    kind: .incompleteConfig)
            }
            let read = roleName(account.readRole) ?? deploy + "-read"
            let admin = "arn:aws:iam::\(account.id):role/\(settings.adminRoleName)"
            let clients = AccountClients(account, role: admin, environment: self.environment, logger: logger)
            stacks.append(
                BootstrapStack(
                    spec: StackSpec(
                        name: "\(settings.projectPrefix)-roles-\(environment.name)",
                        template: .file(settings.templates + "/pipeline-account-roles.yaml"),
                        parameters: [
                            "PipelineAccountId": .value(config.account(of: dev).id),
                            "EnvironmentName": .value(environment.name),
                            "DeployBucket": .value(environment.deployBucket), "DeployRoleName": .value(deploy),
                            "ReadRoleName": .value(read), "PassPhase": .value(phase),
                        ],
                        capabilities: ["CAPABILITY_NAMED_IAM"]),
                    account: environment.account, cloudFormation: clients.cloudFormation))
        }
        guard let codeBuild = settings.codeBuild else { return stacks }
        guard let snapshots = config.snapshots else {
            throw PipelineError("bootstrap needs the snapshots section: nightly's role is made for its bucket", kind: .incompleteConfig)
        }
        let uatAccount = config.account(of: uat)
        stacks.append(
            BootstrapStack(
                spec: StackSpec(
                    name: "\(settings.projectPrefix)-codebuild",
                    template: .file(settings.templates + "/pipeline-codebuild.yaml"),
                    parameters: [
                        "ProjectPrefix": .value(settings.projectPrefix),
                        "ToolsRepositoryUrl": .value(codeBuild.toolsRepository),
                        "ToolsVersion": .value(codeBuild.toolsVersion), "ArtifactsBucket": .value(codeBuild.artifactsBucket),
                        "DevEnvironmentName": .value(dev.name), "UatEnvironmentName": .value(uat.name),
                        "DevDeployBucket": .value(dev.deployBucket), "UatDeployBucket": .value(uat.deployBucket),
                        "SnapshotBucket": .value(snapshots.bucket), "SnapshotPrefix": .value(snapshots.prefix ?? "snapshots/"),
                        "UatRoleArn": .value(uat.account == dev.account ? "" : uatAccount.role ?? ""),
                        "ProdReadRoleArn": .value(config.account(of: prod).readRole ?? ""),
                        "ProdDeployRoleArn": .value(prodDeploy),
                    ],
                    capabilities: ["CAPABILITY_IAM"]),
                account: dev.account, cloudFormation: clients(of: dev).cloudFormation))
        return stacks
    }

    /// Deploys the pipeline itself: every stack of ``bootstrapStacks(_:)`` through StackDeploy
    /// (change sets, the root cause on failure), then `configFile` to
    /// `s3://<artifactsBucket>/atlas-relay/pipeline.yml`, where the phases start from. With
    /// `dryRun`, only the stacks' plans.
    ///
    /// - Returns: one line per stack and for the config: its plan, or what was done.
    /// - Throws: ``PipelineError``, `DeployError` with the root cause and advice, and the S3
    ///   client's errors.
    public func bootstrap(_ settings: Bootstrap, configFile: String, dryRun: Bool, pollInterval: Duration = .seconds(5))
        async throws -> [String]
    {
        var lines: [String] = []
        for stack in try bootstrapStacks(settings) {
            let deployer = StackDeployer(
                cloudFormation: stack.cloudFormation, options: .init(pollInterval: pollInterval), logger: logger)
            if dryRun {
                lines.append("\(stack.spec.name) in \(stack.account): \(try await deployer.plan(stack.spec).text)")
            } else {
                let result = try await deployer.deploy(stack.spec)
                let outputs = result.outputs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                lines.append("\(stack.spec.name) in \(stack.account): \(result.outcome) \(outputs.joined(separator: " "))")
            }
        }
        guard let codeBuild = settings.codeBuild else { return lines }
        let key = "atlas-relay/pipeline.yml"
        if dryRun {
            lines.append("would upload \(configFile) to s3://\(codeBuild.artifactsBucket)/\(key)")
        } else {
            guard let data = FileManager.default.contents(atPath: configFile) else {
                throw PipelineError("cannot read \(configFile)", kind: .incompleteConfig)
            }
            try await clients(of: try environment(of: .nightly)).s3.putObject(
                bucket: codeBuild.artifactsBucket, key: key, data: ByteBuffer(data: data))
            lines.append("uploaded \(configFile) to s3://\(codeBuild.artifactsBucket)/\(key)")
        }
        return lines
    }
}
