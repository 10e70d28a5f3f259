import AWSSigning
import Foundation
import RelayFoundation

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

/// Finds the region the way the AWS CLI does: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the
/// profile's `region`.
public enum RegionResolver {
    /// The region, or `nil` when none is configured.
    public static func region(
        environment: [String: String] = ProcessInfo.processInfo.environment, config: SharedConfig? = nil,
        profile: String? = nil
    ) -> String? {
        if let region = environment["AWS_REGION"], !region.isEmpty { return region }
        if let region = environment["AWS_DEFAULT_REGION"], !region.isEmpty { return region }
        let config = config ?? (try? SharedConfig.load(environment: environment))
        return config?.region(profile: profile ?? SharedConfig.selectedProfile(environment: environment))
    }
}

extension CredentialProvider where Self == CredentialProviderChain {
    /// The AWS SDKs' default chain: environment variables, web identity (`AWS_WEB_IDENTITY_TOKEN_FILE`),
    /// the shared config profile (`AWS_PROFILE`), container credentials (CodeBuild, ECS), then EC2
    /// instance metadata. Temporary credentials are cached and refreshed before they expire.
    ///
    /// - Parameters:
    ///   - environment: the process environment by default.
    ///   - transport: what the network providers (web identity, container, instance metadata) ask through.
    public static func `default`(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: HTTPTransport = .shared
    ) -> CredentialProviderChain {
        let endpoints = EndpointResolver(environment: environment)
        let region = RegionResolver.region(environment: environment) ?? "us-east-1"
        return CredentialProviderChain([
            EnvironmentCredentialProvider(environment: environment),
            CachingCredentialProvider(
                WebIdentityCredentialProvider(
                    environment: environment, region: region, endpoints: endpoints, transport: transport)),
            ProfileCredentialProvider(environment: environment, endpoints: endpoints, transport: transport),
            CachingCredentialProvider(ContainerCredentialProvider(environment: environment, transport: transport)),
            CachingCredentialProvider(
                InstanceMetadataCredentialProvider(environment: environment, transport: transport)),
        ])
    }
}
