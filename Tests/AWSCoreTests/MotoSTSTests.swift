import AWSSigning
import AtlasRelayTestSupport
import Foundation
import Testing

@testable import AWSCore

/// STS and the STS-based credential providers against moto's server.
struct MotoSTSTests {
    static func environment() throws -> [String: String] {
        [
            "AWS_ENDPOINT_URL": try Sandbox.motoEndpoint(), "AWS_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
        ]
    }

    static func client(_ provider: any CredentialProvider) throws -> AWSClient {
        AWSClient(
            region: "us-east-1", credentialProvider: provider,
            endpoints: EndpointResolver(environment: try environment()))
    }

    static let base = StaticCredentialProvider(
        Credentials(accessKeyId: "AKIDMOTOBASE0000", secretAccessKey: "moto-secret"))

    @Test func callerIdentityOfTheBaseAccount() async throws {
        let identity = try await STSClient(try Self.client(Self.base)).getCallerIdentity()
        #expect(identity.account == "123456789012")
        #expect(identity.arn.hasPrefix("arn:aws:"))
    }

    @Test func assumedRoleInASecondAccountReportsThatAccount() async throws {
        let settings = AssumeRoleSettings(
            roleArn: "arn:aws:iam::222222222222:role/relay-deployer", sessionName: "nightly-test",
            externalId: "relay-ext",
            durationSeconds: 1800)
        let assumed = try await STSClient(try Self.client(Self.base)).assumeRole(settings)
        #expect(assumed.assumedRoleArn == "arn:aws:sts::222222222222:assumed-role/relay-deployer/nightly-test")
        #expect(assumed.credentials.accountId == "222222222222")
        #expect(assumed.credentials.sessionToken != nil)
        let expiration = try #require(assumed.credentials.expiration)
        #expect(abs(expiration.timeIntervalSinceNow - 1800) < 120)

        let asRole = try await STSClient(try Self.client(StaticCredentialProvider(assumed.credentials)))
            .getCallerIdentity()
        #expect(asRole.account == "222222222222")
        #expect(asRole.arn == "arn:aws:sts::222222222222:assumed-role/relay-deployer/nightly-test")
    }

    @Test func assumeRoleProviderIsCachedAndUsable() async throws {
        let provider = CachingCredentialProvider.assumeRole(
            AssumeRoleSettings(roleArn: "arn:aws:iam::333333333333:role/reader"), source: Self.base,
            region: "us-east-1",
            endpoints: EndpointResolver(environment: try Self.environment()))
        let first = try await provider.credentials()
        let second = try await provider.credentials()
        #expect(first == second)
        let identity = try await STSClient(try Self.client(provider)).getCallerIdentity()
        #expect(identity.account == "333333333333")
    }

    @Test func profileWithSourceProfileChainAssumesBothRoles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        [profile hop]
        role_arn = arn:aws:iam::444444444444:role/hop
        source_profile = base

        [profile target]
        role_arn = arn:aws:iam::555555555555:role/target
        source_profile = hop
        role_session_name = chained
        """.write(to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try """
        [base]
        aws_access_key_id = AKIDPROFILEBASE0
        aws_secret_access_key = profile-secret
        """.write(to: directory.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        var environment = try Self.environment()
        environment["AWS_CONFIG_FILE"] = directory.appendingPathComponent("config").path
        environment["AWS_SHARED_CREDENTIALS_FILE"] = directory.appendingPathComponent("credentials").path
        environment["AWS_PROFILE"] = "target"

        // Through the default chain, as a user with AWS_PROFILE=target would.
        let chain = CredentialProviderChain.default(environment: environment)
        let identity = try await STSClient(try Self.client(chain)).getCallerIdentity()
        #expect(identity.account == "555555555555")
        #expect(identity.arn == "arn:aws:sts::555555555555:assumed-role/target/chained")

        environment["AWS_PROFILE"] = "missing"
        do {
            _ = try await CredentialProviderChain.default(environment: environment).credentials()
            Issue.record("expected an unknown-profile error")
        } catch let error as CredentialError {
            #expect(error.kind == .unknownProfile)
            #expect(error.message.contains("known profiles: base, hop, target"))
        }
    }

    @Test func webIdentityFromTheEnvironment() async throws {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjb2RlYnVpbGQifQ.c2ln".write(
            to: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: tokenFile) }
        var environment = try Self.environment()
        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile.path
        environment["AWS_ROLE_ARN"] = "arn:aws:iam::666666666666:role/oidc"
        environment["AWS_ROLE_SESSION_NAME"] = "pipeline"
        let chain = CredentialProviderChain.default(environment: environment)
        let identity = try await STSClient(try Self.client(chain)).getCallerIdentity()
        #expect(identity.account == "666666666666")

        environment["AWS_WEB_IDENTITY_TOKEN_FILE"] = "/nonexistent/token"
        do {
            _ = try await CredentialProviderChain.default(environment: environment).credentials()
            Issue.record("expected an unreadable-token error")
        } catch let error as CredentialError {
            #expect(error.kind == .providerFailed)
            #expect(error.message.contains("/nonexistent/token"))
        }
    }
}
