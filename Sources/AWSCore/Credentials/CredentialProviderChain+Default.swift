import AWSSigning
import Foundation
import RelayFoundation
import RelayHTTP

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
