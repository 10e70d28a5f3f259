import AWSSigning
import Foundation
import RelayFoundation
import RelayHTTP

/// Credentials of a named profile in the shared config and credentials files.
///
/// Supports static keys, `credential_process`, `role_arn` with `source_profile` chains or
/// `credential_source`, and `role_arn` with `web_identity_token_file`. The files are read on first
/// use; the resulting providers are cached, so roles are assumed once and refreshed before expiry.
public actor ProfileCredentialProvider: CredentialProvider {
    /// The profile name.
    public nonisolated let profile: String
    let environment: [String: String]
    let explicitlySelected: Bool
    let endpoints: EndpointResolver
    let transport: HTTPTransport
    private var resolved: (any CredentialProvider)?

    /// Creates a provider for `profile` (by default `AWS_PROFILE`, else `default`).
    public init(
        profile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        endpoints: EndpointResolver? = nil, transport: HTTPTransport = .shared
    ) {
        self.profile = profile ?? SharedConfig.selectedProfile(environment: environment)
        self.explicitlySelected = profile != nil || environment["AWS_PROFILE"] != nil
        self.environment = environment
        self.endpoints = endpoints ?? EndpointResolver(environment: environment)
        self.transport = transport
    }

    public func credentials() async throws -> Credentials {
        if let resolved { return try await resolved.credentials() }
        let config = try SharedConfig.load(environment: environment)
        if config.profiles[profile] == nil && !explicitlySelected {
            throw CredentialError(.notConfigured, "no [default] profile in the AWS config or credentials file")
        }
        let region = RegionResolver.region(environment: environment, config: config, profile: profile) ?? "us-east-1"
        let provider = try build(config.credentialSource(profile: profile), region: region)
        resolved = provider
        return try await provider.credentials()
    }

    func build(_ source: ProfileCredentialSource, region: String) throws -> any CredentialProvider {
        switch source {
        case .staticKeys(let credentials):
            return StaticCredentialProvider(credentials)
        case .process(let command):
            return CachingCredentialProvider(ProcessCredentialProvider(command: command))
        case .environment:
            return EnvironmentCredentialProvider(environment: environment)
        case .container:
            return CachingCredentialProvider(
                ContainerCredentialProvider(environment: environment, transport: transport))
        case .instanceMetadata:
            return CachingCredentialProvider(
                InstanceMetadataCredentialProvider(environment: environment, transport: transport))
        case .webIdentity(let roleArn, let tokenFile, let sessionName):
            return CachingCredentialProvider(
                WebIdentityCredentialProvider(
                    roleArn: roleArn, tokenFile: tokenFile, sessionName: sessionName, region: region,
                    endpoints: endpoints, transport: transport))
        case .assumeRole(let settings, let inner):
            return CachingCredentialProvider.assumeRole(
                settings, source: try build(inner, region: region), region: region, endpoints: endpoints,
                transport: transport)
        }
    }

    public nonisolated var description: String { "profile '\(profile)'" }
}
