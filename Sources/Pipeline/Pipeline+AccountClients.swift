import AWSCore
import Logging
import S3Sync
import StackDeploy

extension Pipeline {
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
}
