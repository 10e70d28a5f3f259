import Testing

@testable import AWSCore

struct EndpointResolverTests {
    @Test func precedence() throws {
        let environment = [
            "AWS_ENDPOINT_URL": "http://127.0.0.1:5055", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8333/",
        ]
        let resolver = EndpointResolver(environment: environment)
        #expect(try resolver.endpoint(for: .s3, region: "eu-west-1").hostHeader == "127.0.0.1:8333")
        #expect(try resolver.endpoint(for: .sts, region: "eu-west-1").hostHeader == "127.0.0.1:5055")
        #expect(try resolver.endpoint(for: .secretsManager, region: "eu-west-1").isCustom)
        let explicit = EndpointResolver(
            explicitEndpoint: "https://vpce-1.sts.eu-west-1.vpce.amazonaws.com", environment: environment)
        #expect(
            try explicit.endpoint(for: .sts, region: "eu-west-1").hostHeader
                == "vpce-1.sts.eu-west-1.vpce.amazonaws.com")
        var ignoring = environment
        ignoring["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        #expect(
            try EndpointResolver(environment: ignoring).endpoint(for: .sts, region: "eu-west-1").host
                == "sts.eu-west-1.amazonaws.com")
        #expect(
            try EndpointResolver(environment: [:]).endpoint(for: .cloudFormation, region: "cn-north-1").host
                == "cloudformation.cn-north-1.amazonaws.com.cn")
        let withSecretsManager = EndpointResolver(environment: [
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://localhost:4566"
        ])
        #expect(
            try withSecretsManager.endpoint(for: .secretsManager, region: "us-east-1").hostHeader == "localhost:4566")
    }

    @Test func badEndpointsAndRegionsSayWhatToFix() {
        #expect(throws: AWSClientError.self) {
            try EndpointResolver(environment: ["AWS_ENDPOINT_URL": "127.0.0.1:5055"]).endpoint(
                for: .sts, region: "us-east-1")
        }
        do {
            _ = try EndpointResolver(environment: ["AWS_ENDPOINT_URL_S3": "ftp://x"]).endpoint(
                for: .s3, region: "us-east-1")
        } catch let error as AWSClientError {
            #expect(error.kind == .invalidConfiguration)
            #expect(error.message.contains("AWS_ENDPOINT_URL_S3 'ftp://x' is not an absolute http(s) URL"))
        } catch {
            Issue.record("unexpected \(error)")
        }
        do {
            _ = try EndpointResolver(environment: [:]).endpoint(for: .sts, region: "EU West")
        } catch let error as AWSClientError {
            #expect(error.kind == .invalidConfiguration)
            #expect(error.message.contains("set AWS_REGION"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func s3Addressing() throws {
        let aws = EndpointResolver(environment: [:])
        let endpoint = try aws.endpoint(for: .s3, region: "eu-west-1")
        let virtual = aws.s3Address(
            bucket: "relay-deploy-dev", encodedKey: S3Path.encodeKey("releases/abc/app.tar.gz"), endpoint: endpoint)
        #expect(virtual.endpoint.host == "relay-deploy-dev.s3.eu-west-1.amazonaws.com")
        #expect(virtual.path == "/releases/abc/app.tar.gz")
        let dotted = aws.s3Address(bucket: "relay.deploy", encodedKey: "k", endpoint: endpoint)
        #expect(dotted.endpoint.host == "s3.eu-west-1.amazonaws.com")
        #expect(dotted.path == "/relay.deploy/k")
        let local = EndpointResolver(environment: ["AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8333"])
        let path = local.s3Address(
            bucket: "b", encodedKey: "", endpoint: try local.endpoint(for: .s3, region: "us-east-1"))
        #expect(path.path == "/b")
        #expect(S3Path.encodeKey("shared home/attach+ments/ü~%.txt") == "shared%20home/attach%2Bments/%C3%BC~%25.txt")
    }
}
