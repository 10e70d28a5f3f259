import AWSSigning
import AtlasRelayTestSupport
import Foundation
import NIOHTTP1
import Synchronization
import Testing

@testable import AWSCore

/// The client against a real loopback server that replays documented AWS answers: error shapes of
/// every protocol, retries, clock skew, unreachable endpoints, and that secrets stay out of logs.
struct ScriptedServiceTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let token = "FwoGZXIvYXdzSECRETSESSIONTOKEN"

    static func client(
        _ server: TestHTTPServer, retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5)),
        logger: LogRecorder? = nil
    ) -> AWSClient {
        AWSClient(
            region: "eu-west-1",
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: "AKIDSCRIPTED", secretAccessKey: secret, sessionToken: token)),
            endpoints: EndpointResolver(explicitEndpoint: server.baseURL, environment: [:]), retryPolicy: retry,
            logger: logger?.logger() ?? .init(label: "test"))
    }

    /// Runs `body` against a server answering with `answers` in turn (the last one repeats).
    static func withServer<T>(
        _ answers: [TestResponse], _ body: (TestHTTPServer) async throws -> T
    ) async throws -> T {
        let counter = Mutex(0)
        return try await withTestServer { _ in
            let index = counter.withLock { value in
                defer { value += 1 }
                return value
            }
            return answers[min(index, answers.count - 1)]
        } body: { server in
            try await body(server)
        }
    }

    static func serviceError(_ operation: () async throws -> Void) async -> AWSServiceError? {
        do {
            try await operation()
        } catch let error as AWSServiceError {
            return error
        } catch {
            Issue.record("expected AWSServiceError, got \(error)")
        }
        return nil
    }

    @Test func queryProtocolSuccessAndErrorShapes() async throws {
        let ok = TestResponse.text(
            """
            <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <GetCallerIdentityResult>
                <Arn>arn:aws:iam::123456789012:user/Alice</Arn>
                <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>
                <Account>123456789012</Account>
              </GetCallerIdentityResult>
              <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
            </GetCallerIdentityResponse>
            """)
        let denied = TestResponse.text(
            """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <Error><Type>Sender</Type><Code>AccessDenied</Code>
                <Message>User: arn:aws:iam::123456789012:user/Alice is not authorized to perform: sts:AssumeRole</Message>
              </Error>
              <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
            </ErrorResponse>
            """, status: 403)
        try await Self.withServer([ok, denied]) { server in
            let sts = STSClient(Self.client(server))
            let identity = try await sts.getCallerIdentity()
            #expect(
                identity
                    == CallerIdentity(
                        account: "123456789012", arn: "arn:aws:iam::123456789012:user/Alice",
                        userId: "AIDACKCEVSQ6C2EXAMPLE"))
            let error = await Self.serviceError {
                _ = try await sts.assumeRole(AssumeRoleSettings(roleArn: "arn:aws:iam::1:role/x"))
            }
            #expect(error?.code == "AccessDenied")
            #expect(error?.statusCode == 403)
            #expect(error?.requestId == "c6104cbe-af31-11e0-8154-cbc7ccf896c7")
            #expect(error?.message.contains("not authorized") == true)
            #expect(server.requests.count == 2, "AccessDenied is not retried")
            let form = String(decoding: server.requests[1].body, as: UTF8.self)
            #expect(
                form.hasPrefix(
                    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&RoleSessionName=atlas-relay-"
                ))
            let authorization = server.requests[0].header("Authorization") ?? ""
            #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDSCRIPTED/"))
            #expect(authorization.contains("/eu-west-1/sts/aws4_request"))
            #expect(server.requests[0].header("X-Amz-Security-Token") == Self.token)
        }
    }

    @Test func ec2ProtocolErrorsAndFlatLists() async throws {
        let error = TestResponse.text(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>
            <Message>The instance ID 'i-1a2b3c4d' does not exist</Message></Error></Errors>
            <RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>
            """, status: 400)
        try await Self.withServer([error]) { server in
            var parameters = QueryParameters(style: .flat)
            parameters.setList("InstanceId", ["i-1a2b3c4d", "i-2"])
            let failure = await Self.serviceError {
                _ = try await Self.client(server).query(.ec2, action: "DescribeInstances", parameters: parameters)
            }
            #expect(failure?.code == "InvalidInstanceID.NotFound")
            #expect(failure?.requestId == "ea966190-f9aa-478e-9ede-example")
            let form = String(decoding: server.requests[0].body, as: UTF8.self)
            #expect(form == "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1a2b3c4d&InstanceId.2=i-2")
        }
    }

    @Test func queryMemberListsOfStructures() {
        struct Tag { let key: String, value: String }
        var parameters = QueryParameters()
        parameters.setList("Tags", [Tag(key: "env", value: "dev"), Tag(key: "app", value: "jira")]) { tag, fields in
            fields.set("Key", tag.key)
            fields.set("Value", tag.value)
        }
        #expect(
            parameters.formBody(action: "CreateStack", version: "2010-05-15")
                == "Action=CreateStack&Version=2010-05-15&Tags.member.1.Key=env&Tags.member.1.Value=dev&Tags.member.2.Key=app&Tags.member.2.Value=jira"
        )
    }

    struct GetParameter: Codable, Sendable { let Name: String }
    struct GetParameterOutput: Codable, Sendable {
        struct Parameter: Codable, Sendable { let Name: String, Value: String, LastModifiedDate: Date }
        let Parameter: Parameter
    }

    @Test func jsonProtocolBothMessageSpellingsAndTargets() async throws {
        let ok = TestResponse.json([
            "Parameter": ["Name": "/relay/x", "Value": "v", "LastModifiedDate": 1_700_000_000.5]
        ])
        let ssmError = TestResponse(
            status: 400, headers: [("x-amzn-RequestId", "req-ssm")],
            body: Data(
                #"{"__type":"com.amazonaws.ssm#ParameterNotFound","Message":"Parameter /relay/y not found."}"#.utf8))
        let secretsError = TestResponse(
            status: 400,
            body: Data(
                #"{"__type":"ResourceNotFoundException","message":"Secrets Manager can't find the specified secret."}"#
                    .utf8))
        try await Self.withServer([ok, ssmError, secretsError]) { server in
            let client = Self.client(server)
            let output = try await client.json(
                .ssm, operation: "GetParameter", input: GetParameter(Name: "/relay/x"), as: GetParameterOutput.self)
            #expect(output.Parameter.Value == "v")
            #expect(output.Parameter.LastModifiedDate == Date(timeIntervalSince1970: 1_700_000_000.5))
            #expect(server.requests[0].header("X-Amz-Target") == "AmazonSSM.GetParameter")
            #expect(server.requests[0].header("Content-Type") == "application/x-amz-json-1.1")

            let missing = await Self.serviceError {
                _ = try await client.json(
                    .ssm, operation: "GetParameter", input: GetParameter(Name: "/relay/y"), as: GetParameterOutput.self)
            }
            #expect(missing?.code == "ParameterNotFound")
            #expect(missing?.message == "Parameter /relay/y not found.")
            #expect(missing?.requestId == "req-ssm")

            let secret = await Self.serviceError {
                _ = try await client.json(
                    .secretsManager, operation: "GetSecretValue", input: AWSEmptyShape(), as: AWSEmptyShape.self)
            }
            #expect(secret?.code == "ResourceNotFoundException")
            #expect(secret?.message == "Secrets Manager can't find the specified secret.")
        }
    }

    @Test func restJSONErrorTypeHeader() async throws {
        let error = TestResponse(
            status: 404, headers: [("X-Amzn-ErrorType", "FileSystemNotFound:http://internal.amazon.com/coral/")],
            body: Data(#"{"ErrorCode":"FileSystemNotFound","message":"File system 'fs-1' does not exist."}"#.utf8))
        try await Self.withServer([error]) { server in
            let efs = AWSService(signingName: "elasticfilesystem", environmentId: "EFS", wireProtocol: .restJSON)
            let failure = await Self.serviceError {
                let _: AWSEmptyShape = try await Self.client(server).restJSON(
                    efs, operation: "DescribeFileSystems", method: .GET, path: "/2015-02-01/file-systems",
                    query: [("FileSystemId", "fs-1")], input: AWSEmptyShape?.none)
            }
            #expect(failure?.code == "FileSystemNotFound")
            #expect(failure?.message == "File system 'fs-1' does not exist.")
            #expect(server.requests[0].query == "FileSystemId=fs-1")
        }
    }

    @Test func nonXMLErrorBodiesAndBodilessHeadAnswers() async throws {
        let proxy = TestResponse.text("<html><body><h1>502 Bad Gateway</h1></body></html>", status: 502)
        let head = TestResponse(status: 404)
        try await Self.withServer([proxy, proxy, proxy, head]) { server in
            let client = Self.client(server)
            let gateway = await Self.serviceError { _ = try await client.query(.sts, action: "GetCallerIdentity") }
            #expect(gateway?.code == "BadGateway")
            #expect(gateway?.statusCode == 502)
            #expect(gateway?.message.contains("502 Bad Gateway") == true)
            #expect(server.requests.count == 3, "5xx is retried up to maxAttempts")
            let missing = await Self.serviceError {
                _ = try await client.execute(
                    AWSRequest(service: .s3, operation: "HeadObject", method: .HEAD, path: "/k", bucket: "b"))
            }
            #expect(missing?.code == "NotFound")
            #expect(missing?.operation == "HeadObject")
        }
    }

    @Test func retriesThrottlingWithBackoffThenSucceeds() async throws {
        let throttled = TestResponse.text(
            "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
            status: 400)
        let ok = TestResponse.text(
            "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn><Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
        )
        try await Self.withServer([throttled, throttled, ok]) { server in
            let identity = try await STSClient(Self.client(server)).getCallerIdentity()
            #expect(identity.account == "1")
            #expect(
                server.requests.map { $0.header("amz-sdk-request") } == [
                    "attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3",
                ])
            // each attempt is signed anew
            #expect(Set(server.requests.compactMap { $0.header("Authorization") }).count == 3)
        }
        try await Self.withServer([throttled]) { server in
            let failure = await Self.serviceError {
                _ = try await STSClient(
                    Self.client(server, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
                )
                .getCallerIdentity()
            }
            #expect(failure?.code == "Throttling")
            #expect(server.requests.count == 2)
        }
    }

    @Test func correctsClockSkewFromTheDateHeader() async throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let dateFormat = try #require(formatter.dateFormat)
        let answered = Mutex(0)
        // A server whose clock runs an hour ahead; its Date is taken when it answers, so the
        // expected skew does not depend on how long the test waited under load.
        try await withTestServer { _ in
            if answered.withLock({ count in
                defer { count += 1 }; return count
            }) == 0 {
                let clock = DateFormatter()
                clock.locale = Locale(identifier: "en_US_POSIX")
                clock.timeZone = TimeZone(identifier: "GMT")
                clock.dateFormat = dateFormat
                return TestResponse.text(
                    "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>Signature expired</Message></Error></ErrorResponse>",
                    status: 403, headers: [("Date", clock.string(from: Date().addingTimeInterval(3600)))])
            }
            return TestResponse.text(
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn><Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
            )
        } body: { server in
            let client = Self.client(server)
            _ = try await STSClient(client).getCallerIdentity()
            #expect(abs(client.clockSkew - 3600) < 5)
            let signingTimes = server.requests.compactMap { $0.header("X-Amz-Date") }
            let parser = DateFormatter()
            parser.locale = Locale(identifier: "en_US_POSIX")
            parser.timeZone = TimeZone(identifier: "UTC")
            parser.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            let first = try #require(parser.date(from: signingTimes[0]))
            let second = try #require(parser.date(from: signingTimes[1]))
            #expect(abs(second.timeIntervalSince(first) - 3600) < 10)
        }
    }

    @Test func unreachableEndpointNamesTheEndpointAndTheFix() async throws {
        // A port that was just free: nothing listens there.
        let server = try await TestHTTPServer.start { _ in TestResponse() }
        let port = server.port
        await server.stop()
        let client = AWSClient(
            region: "eu-west-1", credentialProvider: .static(accessKeyId: "AKID", secretAccessKey: Self.secret),
            endpoints: EndpointResolver(explicitEndpoint: "http://127.0.0.1:\(port)", environment: [:]),
            retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
        do {
            _ = try await STSClient(client).getCallerIdentity()
            Issue.record("expected a connection failure")
        } catch let error as AWSClientError {
            #expect(error.kind == .connectionFailed)
            #expect(error.message.contains("127.0.0.1:\(port)"))
            #expect(error.message.contains("after 2 attempt(s)"))
            #expect(error.message.contains("AWS_ENDPOINT_URL"))
        }
    }

    @Test func secretsNeverReachLogsOrErrors() async throws {
        let recorder = LogRecorder()
        let throttled = TestResponse.text(
            "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>",
            status: 400)
        let denied = TestResponse.text(
            "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>",
            status: 403)
        try await Self.withServer([throttled, denied]) { server in
            let client = Self.client(server, logger: recorder)
            var description = ""
            var code: String?
            do {
                _ = try await STSClient(client).assumeRole(
                    AssumeRoleSettings(roleArn: "arn:aws:iam::1:role/x", externalId: "ext"))
            } catch {
                description = "\(error) \(String(reflecting: error))"
                code = (error as? AWSServiceError)?.code
            }
            #expect(code == "InvalidClientTokenId")
            #expect(description.contains("InvalidClientTokenId"))
            #expect(recorder.text.contains("retry"))
            for text in [recorder.text, description] {
                #expect(!text.contains(Self.secret))
                #expect(!text.contains(Self.token))
                #expect(!text.contains("Signature="))
            }
        }
    }
}
