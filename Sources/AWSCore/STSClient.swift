import AWSSigning
import Foundation

/// Who a set of credentials is, as STS GetCallerIdentity reports it.
public struct CallerIdentity: Sendable, Equatable {
    /// The 12-digit account id.
    public let account: String
    /// The ARN of the user or assumed role.
    public let arn: String
    /// The unique id of the principal.
    public let userId: String
}

/// Temporary credentials for an assumed role.
public struct AssumedRole: Sendable {
    /// The role's temporary credentials (with `expiration` and `accountId` set).
    public let credentials: Credentials
    /// The ARN of the assumed-role session, `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    public let assumedRoleArn: String
}

/// The AWS Security Token Service operations the pipeline needs.
public struct STSClient: Sendable {
    let client: AWSClient

    /// Creates an STS client on top of `client`.
    public init(_ client: AWSClient) { self.client = client }

    /// Returns the account and ARN of the caller's credentials.
    public func getCallerIdentity() async throws -> CallerIdentity {
        let result = try await client.query(.sts, action: "GetCallerIdentity")
        guard let account = result.string("Account"), let arn = result.string("Arn") else {
            throw AWSClientError(.malformedResponse, "STS GetCallerIdentity answered without Account or Arn")
        }
        return CallerIdentity(account: account, arn: arn, userId: result.string("UserId") ?? "")
    }

    /// Assumes `settings.roleArn` with the client's credentials.
    ///
    /// - Throws: ``AWSServiceError`` (for example `AccessDenied` when the trust policy refuses,
    ///   or the external id is wrong).
    public func assumeRole(_ settings: AssumeRoleSettings) async throws -> AssumedRole {
        var parameters = QueryParameters()
        parameters.set("RoleArn", settings.roleArn)
        parameters.set("RoleSessionName", settings.sessionName ?? Self.defaultSessionName())
        parameters.set("ExternalId", settings.externalId)
        parameters.set("DurationSeconds", settings.durationSeconds)
        let result = try await client.query(.sts, action: "AssumeRole", parameters: parameters, idempotent: true)
        return try Self.assumedRole(from: result, action: "AssumeRole")
    }

    /// Exchanges an OIDC token for role credentials (unsigned, as the API requires).
    public func assumeRoleWithWebIdentity(
        roleArn: String, token: String, sessionName: String? = nil, durationSeconds: Int? = nil
    ) async throws -> AssumedRole {
        var parameters = QueryParameters()
        parameters.set("RoleArn", roleArn)
        parameters.set("RoleSessionName", sessionName ?? Self.defaultSessionName())
        parameters.set("WebIdentityToken", token)
        parameters.set("DurationSeconds", durationSeconds)
        let result = try await client.query(
            .sts, action: "AssumeRoleWithWebIdentity", parameters: parameters, idempotent: true, unsigned: true)
        return try Self.assumedRole(from: result, action: "AssumeRoleWithWebIdentity")
    }

    static func defaultSessionName() -> String {
        "atlas-relay-\(Int(Date().timeIntervalSince1970))"
    }

    static func assumedRole(from result: XMLNode, action: String) throws -> AssumedRole {
        guard let node = result.child("Credentials"), let key = node.string("AccessKeyId"),
            let secret = node.string("SecretAccessKey"), let token = node.string("SessionToken")
        else {
            throw AWSClientError(.malformedResponse, "STS \(action) answered without credentials")
        }
        let arn = result.descendant("AssumedRoleUser", "Arn")?.text ?? ""
        let account = arn.split(separator: ":", omittingEmptySubsequences: false).dropFirst(4).first.map(String.init)
        return AssumedRole(
            credentials: Credentials(
                accessKeyId: key, secretAccessKey: secret, sessionToken: token,
                expiration: node.string("Expiration").flatMap(ISO8601.parse), accountId: account),
            assumedRoleArn: arn)
    }
}
