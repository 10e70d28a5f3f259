/// The wire protocol a service speaks.
public enum AWSProtocol: Sendable, Hashable {
    /// AWS Query: form-encoded `Action`/`Version` body, XML answers, `ErrorResponse` errors.
    case query(apiVersion: String)
    /// The EC2 variant of Query: lists without `member`, `Response/Errors/Error` errors.
    case ec2(apiVersion: String)
    /// JSON 1.0 or 1.1 with `X-Amz-Target: <prefix>.<Operation>`.
    case json(version: String, targetPrefix: String)
    /// REST with JSON bodies.
    case restJSON
    /// REST with XML bodies (S3).
    case restXML
}

/// A service the client can call: how it is signed, addressed and spoken to.
public struct AWSService: Sendable, Hashable, CustomStringConvertible {
    /// The name used in the signature's credential scope, for example `s3`, `sts`.
    public let signingName: String
    /// The host prefix of the default endpoint, for example `sts` in `sts.eu-west-1.amazonaws.com`.
    public let endpointPrefix: String
    /// The service identifier for `AWS_ENDPOINT_URL_<ID>`, for example `S3`, `SECRETS_MANAGER`.
    public let environmentId: String
    /// The wire protocol.
    public let wireProtocol: AWSProtocol

    /// Describes a service.
    public init(signingName: String, endpointPrefix: String? = nil, environmentId: String, wireProtocol: AWSProtocol) {
        self.signingName = signingName
        self.endpointPrefix = endpointPrefix ?? signingName
        self.environmentId = environmentId
        self.wireProtocol = wireProtocol
    }

    public var description: String { endpointPrefix }

    /// Amazon S3.
    public static let s3 = AWSService(signingName: "s3", environmentId: "S3", wireProtocol: .restXML)
    /// AWS Security Token Service.
    public static let sts = AWSService(
        signingName: "sts", environmentId: "STS", wireProtocol: .query(apiVersion: "2011-06-15"))
    /// AWS CloudFormation.
    public static let cloudFormation = AWSService(
        signingName: "cloudformation", environmentId: "CLOUDFORMATION", wireProtocol: .query(apiVersion: "2010-05-15"))
    /// Amazon EC2.
    public static let ec2 = AWSService(
        signingName: "ec2", environmentId: "EC2", wireProtocol: .ec2(apiVersion: "2016-11-15"))
    /// Amazon EC2 Auto Scaling.
    public static let autoScaling = AWSService(
        signingName: "autoscaling", environmentId: "AUTO_SCALING", wireProtocol: .query(apiVersion: "2011-01-01"))
    /// Elastic Load Balancing (Application and Network Load Balancers).
    public static let elasticLoadBalancingV2 = AWSService(
        signingName: "elasticloadbalancing", environmentId: "ELASTIC_LOAD_BALANCING_V2",
        wireProtocol: .query(apiVersion: "2015-12-01"))
    /// AWS Systems Manager.
    public static let ssm = AWSService(
        signingName: "ssm", environmentId: "SSM", wireProtocol: .json(version: "1.1", targetPrefix: "AmazonSSM"))
    /// AWS Secrets Manager.
    public static let secretsManager = AWSService(
        signingName: "secretsmanager", environmentId: "SECRETS_MANAGER",
        wireProtocol: .json(version: "1.1", targetPrefix: "secretsmanager"))
    /// AWS CodeBuild.
    public static let codeBuild = AWSService(
        signingName: "codebuild", environmentId: "CODEBUILD",
        wireProtocol: .json(version: "1.1", targetPrefix: "CodeBuild_20161006"))
}
