import AWSSigning
import AtlasRelayTestSupport
import Foundation
import Testing

@testable import AWSCore

/// Container (CodeBuild/ECS) and EC2 instance metadata providers against real loopback servers
/// that speak the documented JSON.
struct CredentialEndpointTests {
    static let containerAnswer: [String: String] = [
        "AccessKeyId": "ASIACONTAINER0001", "SecretAccessKey": "container-secret", "Token": "container-token",
        "Expiration": "2031-06-01T12:00:00Z", "AccountId": "123456789012",
    ]

    @Test func containerFullURIWithTokenFile() async throws {
        try await withTestServer { request in
            guard request.header("Authorization") == "Bearer rotated-token" else {
                return .json(["code": "AccessDenied", "message": "bad token"], status: 403)
            }
            return .json(Self.containerAnswer)
        } body: { server in
            let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent(
                "ctoken-\(UUID().uuidString)")
            try "Bearer rotated-token\n".write(to: tokenFile, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: tokenFile) }

            let provider = ContainerCredentialProvider(environment: [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": "\(server.baseURL)/v2/credentials/abc",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-file-set",
            ])
            let credentials = try await provider.credentials()
            #expect(credentials.accessKeyId == "ASIACONTAINER0001")
            #expect(credentials.sessionToken == "container-token")
            #expect(credentials.accountId == "123456789012")
            #expect(credentials.expiration == ISO8601DateFormatter().date(from: "2031-06-01T12:00:00Z"))
            #expect(server.requests.last?.path == "/v2/credentials/abc")

            let refused = ContainerCredentialProvider(environment: [
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": "\(server.baseURL)/v2/credentials/abc",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "Bearer wrong",
            ])
            do {
                _ = try await refused.credentials()
                Issue.record("expected a refusal")
            } catch let error as CredentialError {
                #expect(error.kind == .providerFailed)
                #expect(error.message.contains("HTTP 403"))
                #expect(error.message.contains("AccessDenied: bad token"))
            }
        }
    }

    @Test func containerRelativeURIAsInCodeBuild() async throws {
        try await withTestServer { _ in .json(Self.containerAnswer) } body: { server async throws in
            let provider = ContainerCredentialProvider(
                environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/codebuild-guid"],
                relativeBase: server.baseURL)
            #expect(try await provider.credentials().accessKeyId == "ASIACONTAINER0001")
            #expect(server.requests.first?.path == "/v2/credentials/codebuild-guid")
            #expect(server.requests.first?.header("Authorization") == nil)
        }
    }

    @Test func containerFullURIHostRules() throws {
        func check(_ url: String) -> CredentialError? {
            do {
                _ = try ContainerCredentialProvider(environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url]).endpoint()
                return nil
            } catch {
                return error as? CredentialError
            }
        }
        #expect(check("http://127.0.0.1:8080/creds") == nil)
        #expect(check("http://127.2.3.4/creds") == nil)
        #expect(check("http://localhost/creds") == nil)
        #expect(check("http://[::1]:80/creds") == nil)
        #expect(check("http://169.254.170.23/v1/credentials") == nil)
        #expect(check("https://creds.example.com/x") == nil)
        #expect(check("http://10.0.0.5/creds")?.kind == .invalidProfile)
        #expect(check("http://10.0.0.5/creds")?.message.contains("must use https") == true)
        #expect(check("http://evil.example.com/creds")?.kind == .invalidProfile)
        #expect(check("not a url")?.kind == .invalidProfile)
        #expect(throws: CredentialError.self) { try ContainerCredentialProvider(environment: [:]).endpoint() }
    }

    /// A scripted IMDS (a ``TestHTTPServer`` handler): IMDSv2 tokens, one role, and a switch to
    /// behave like an IMDSv1-only host.
    static func imds(
        v1Only: Bool = false, role: String? = "relay-ec2-role"
    ) -> @Sendable (RecordedRequest) async -> TestResponse {
        { request in
            switch (request.method, request.path) {
            case ("PUT", "/latest/api/token"):
                if v1Only { return TestResponse(status: 405) }
                guard request.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600" else {
                    return TestResponse(status: 400)
                }
                return .text("imds-session-token")
            case ("GET", _) where !v1Only && request.header("X-aws-ec2-metadata-token") != "imds-session-token":
                return TestResponse(status: 401)
            case ("GET", "/latest/meta-data/iam/security-credentials/"):
                guard let role else { return TestResponse(status: 404) }
                return .text(role + "\n")
            case ("GET", "/latest/meta-data/iam/security-credentials/relay-ec2-role"):
                return .json([
                    "Code": "Success", "LastUpdated": "2026-11-27T10:00:00Z", "Type": "AWS-HMAC",
                    "AccessKeyId": "ASIAIMDS00000001", "SecretAccessKey": "imds-secret", "Token": "imds-token",
                    "Expiration": "2031-06-01T18:00:00Z",
                ])
            default:
                return TestResponse(status: 404)
            }
        }
    }

    @Test func instanceMetadataV2() async throws {
        try await withTestServer(Self.imds()) { server in
            let provider = InstanceMetadataCredentialProvider(environment: [
                "AWS_METADATA_SERVICE_TIMEOUT": "10", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL + "/",
            ])
            let credentials = try await provider.credentials()
            #expect(credentials.accessKeyId == "ASIAIMDS00000001")
            #expect(credentials.sessionToken == "imds-token")
            #expect(server.requests.map(\.method) == ["PUT", "GET", "GET"])
        }
    }

    @Test func instanceMetadataTimeoutFollowsTheAWSCLISetting() {
        #expect(InstanceMetadataCredentialProvider(environment: [:]).timeout == .seconds(1))
        #expect(
            InstanceMetadataCredentialProvider(environment: ["AWS_METADATA_SERVICE_TIMEOUT": "2.5"]).timeout
                == .milliseconds(2500))
        #expect(
            InstanceMetadataCredentialProvider(
                environment: ["AWS_METADATA_SERVICE_TIMEOUT": "2.5"], timeout: .seconds(3)
            ).timeout
                == .seconds(3))
    }

    @Test func instanceMetadataV1FallbackAndRefusal() async throws {
        try await withTestServer(Self.imds(v1Only: true)) { server async throws in
            let environment = [
                "AWS_METADATA_SERVICE_TIMEOUT": "10", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL,
            ]
            #expect(
                try await InstanceMetadataCredentialProvider(environment: environment).credentials().accessKeyId
                    == "ASIAIMDS00000001")
            var strict = environment
            strict["AWS_EC2_METADATA_V1_DISABLED"] = "true"
            await #expect(throws: CredentialError.self) {
                try await InstanceMetadataCredentialProvider(environment: strict).credentials()
            }
        }
    }

    @Test func instanceMetadataWithoutRoleOrServiceIsNotConfigured() async throws {
        try await withTestServer(Self.imds(role: nil)) { server in
            do {
                _ = try await InstanceMetadataCredentialProvider(environment: [
                    "AWS_METADATA_SERVICE_TIMEOUT": "10", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.baseURL,
                ]).credentials()
                Issue.record("expected notConfigured")
            } catch let error as CredentialError {
                #expect(error.kind == .notConfigured)
                #expect(error.message.contains("no IAM role"))
            }
        }
        do {
            _ = try await InstanceMetadataCredentialProvider(environment: ["AWS_EC2_METADATA_DISABLED": "true"])
                .credentials()
            Issue.record("expected notConfigured")
        } catch let error as CredentialError {
            #expect(error.kind == .notConfigured)
        }
    }

    @Test func defaultChainOrder() async throws {
        try await withTestServer { _ in .json(Self.containerAnswer) } body: { container in
            try await withTestServer(Self.imds()) { imds async throws in
                var environment = [
                    "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
                    "AWS_METADATA_SERVICE_TIMEOUT": "10", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.baseURL,
                ]
                #expect(
                    try await CredentialProviderChain.default(environment: environment).credentials().accessKeyId
                        == "ASIAIMDS00000001")
                environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.baseURL + "/creds"
                #expect(
                    try await CredentialProviderChain.default(environment: environment).credentials().accessKeyId
                        == "ASIACONTAINER0001")
                environment["AWS_ACCESS_KEY_ID"] = "AKIDFROMENV00001"
                environment["AWS_SECRET_ACCESS_KEY"] = "env-secret"
                #expect(
                    try await CredentialProviderChain.default(environment: environment).credentials().accessKeyId
                        == "AKIDFROMENV00001")
            }
        }
    }
}
