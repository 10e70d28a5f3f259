import AWSSigning
import Foundation
import RelayFoundation
import RelayHTTP

/// Credentials of a role assumed with STS AssumeRole, using another provider's credentials.
///
/// Wrap it in a `CachingCredentialProvider` (`CredentialProvider.assumeRole(_:source:region:endpoints:transport:)``
/// does) so the role is assumed once and refreshed before it expires.
public struct AssumeRoleCredentialProvider: CredentialProvider {
    /// The role and session parameters.
    public let settings: AssumeRoleSettings
    /// The credentials that call AssumeRole.
    public let source: any CredentialProvider
    let region: String
    let endpoints: EndpointResolver
    let transport: HTTPTransport

    /// Creates a provider.
    public init(
        _ settings: AssumeRoleSettings, source: any CredentialProvider, region: String,
        endpoints: EndpointResolver = EndpointResolver(), transport: HTTPTransport = .shared
    ) {
        self.settings = settings
        self.source = source
        self.region = region
        self.endpoints = endpoints
        self.transport = transport
    }

    public func credentials() async throws -> Credentials {
        let sts = STSClient(
            AWSClient(region: region, credentialProvider: source, endpoints: endpoints, transport: transport))
        do {
            return try await sts.assumeRole(settings).credentials
        } catch let error as CredentialError where error.kind == .notConfigured {
            throw CredentialError(
                .providerFailed,
                "cannot assume \(settings.roleArn): its source credentials are missing (\(error.message))")
        }
    }

    public var description: String { "assume-role(\(settings.roleArn))" }
}

extension CredentialProvider where Self == CachingCredentialProvider {
    /// A role assumed with `source`'s credentials, cached and refreshed before expiry.
    public static func assumeRole(
        _ settings: AssumeRoleSettings, source: any CredentialProvider, region: String,
        endpoints: EndpointResolver = EndpointResolver(), transport: HTTPTransport = .shared
    ) -> CachingCredentialProvider {
        CachingCredentialProvider(
            AssumeRoleCredentialProvider(
                settings, source: source, region: region, endpoints: endpoints, transport: transport))
    }
}

/// Credentials from an OIDC token file exchanged with STS AssumeRoleWithWebIdentity
/// (EKS IRSA, GitHub Actions, CodeBuild with OIDC): `AWS_WEB_IDENTITY_TOKEN_FILE` and
/// `AWS_ROLE_ARN`, optionally `AWS_ROLE_SESSION_NAME`. The token file is read on every refresh,
/// since the platform rotates it.
public struct WebIdentityCredentialProvider: CredentialProvider {
    /// The role to assume.
    public let roleArn: String?
    /// The file holding the token.
    public let tokenFile: String?
    /// The session name.
    public let sessionName: String?
    let region: String
    let endpoints: EndpointResolver
    let transport: HTTPTransport

    /// Creates a provider for explicit settings.
    public init(
        roleArn: String?, tokenFile: String?, sessionName: String? = nil, region: String,
        endpoints: EndpointResolver = EndpointResolver(), transport: HTTPTransport = .shared
    ) {
        self.roleArn = roleArn
        self.tokenFile = tokenFile
        self.sessionName = sessionName
        self.region = region
        self.endpoints = endpoints
        self.transport = transport
    }

    /// Creates a provider from `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN` and `AWS_ROLE_SESSION_NAME`.
    public init(
        environment: [String: String], region: String, endpoints: EndpointResolver,
        transport: HTTPTransport = .shared
    ) {
        self.init(
            roleArn: environment["AWS_ROLE_ARN"], tokenFile: environment["AWS_WEB_IDENTITY_TOKEN_FILE"],
            sessionName: environment["AWS_ROLE_SESSION_NAME"], region: region, endpoints: endpoints,
            transport: transport)
    }

    public func credentials() async throws -> Credentials {
        switch (roleArn?.isEmpty == false ? roleArn : nil, tokenFile?.isEmpty == false ? tokenFile : nil) {
        case (nil, nil):
            throw CredentialError(.notConfigured, "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not set")
        case (nil, _):
            throw CredentialError(
                .invalidProfile, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: set both")
        case (_, nil):
            throw CredentialError(
                .invalidProfile, "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not: set both")
        case (let roleArn?, let tokenFile?):
            let token: String
            do {
                token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)
            } catch {
                throw CredentialError(
                    .providerFailed,
                    "cannot read the web identity token file \(tokenFile): \(error.localizedDescription); check the path and permissions"
                )
            }
            guard !token.isEmpty else {
                throw CredentialError(.providerFailed, "the web identity token file \(tokenFile) is empty")
            }
            let sts = STSClient(
                AWSClient(
                    region: region,
                    credentialProvider: StaticCredentialProvider(Credentials(accessKeyId: "", secretAccessKey: "")),
                    endpoints: endpoints, transport: transport))
            return try await sts.assumeRoleWithWebIdentity(roleArn: roleArn, token: token, sessionName: sessionName)
                .credentials
        }
    }

    public var description: String { "web identity" }
}
