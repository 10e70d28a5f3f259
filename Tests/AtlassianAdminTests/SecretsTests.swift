import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Testing

@testable import AtlassianAdmin

/// Secrets stay out of errors, output and process arguments: a password inside a URL signs in but
/// is never echoed, and the tools take tokens and passwords from the environment or a file.
struct SecretsTests {
    static let secret = "s3cr3t-pw-4711"

    static func server(expecting authorization: String) async throws -> TestHTTPServer {
        try await TestHTTPServer.start { request in
            guard request.header("Authorization") == authorization else {
                return .json(["errorMessages": ["You are not authenticated"], "errors": [:]], status: 401)
            }
            return .json(["baseUrl": "https://jira.example.com", "version": "10.3.4", "buildNumber": 10_030_004])
        }
    }

    static var basic: String { "Basic " + Data("admin:\(secret)".utf8).base64EncodedString() }

    @Test func aPasswordInsideTheURLSignsInButIsNeverShown() async throws {
        try await withResource {
            try await Self.server(expecting: Self.basic)
        } cleanup: { server in
            await server.stop()
        } body: { server in
            let withPassword = "http://admin:\(Self.secret)@127.0.0.1:\(server.port)"
            let jira = try JiraClient(baseURL: withPassword, credentials: nil)
            #expect(try await jira.serverInfo().version == "10.3.4")
            #expect(!jira.connection.baseURL.contains(Self.secret))
        }

        let unreachable = try JiraClient(baseURL: "http://admin:\(Self.secret)@127.0.0.1:9", credentials: nil)
        let error = try await #require(throws: AtlassianError.self) { try await unreachable.serverInfo() }
        #expect(error.kind == .unreachable)
        #expect(!error.description.contains(Self.secret), "\(error)")
        let invalid = try #require(throws: AtlassianError.self) {
            try JiraClient(baseURL: "ftp://admin:\(Self.secret)@jira.example.com", credentials: nil)
        }
        #expect(invalid.kind == .invalidInput && !invalid.description.contains(Self.secret))
    }

    @Test func theToolsNeverEchoAPasswordFromAURL() async throws {
        let cases: [(String, [String], Int32)] = [
            (
                "atlassian-admin",
                ["server-info", "--product", "jira", "--url", "http://admin:\(Self.secret)@127.0.0.1:9"], 1
            ),
            (
                "atlassian-admin",
                ["status", "--product", "jira", "--url", "ftp://admin:\(Self.secret)@jira.example.com"], 2
            ),
            ("app-tester", ["smoke", "--jira-url", "ftp://admin:\(Self.secret)@jira.example.com"], 2),
        ]
        for (tool, arguments, status) in cases {
            let result = try await ExitCodeTests.run(tool, arguments)
            #expect(result.status == status, "\(tool) \(arguments): \(result)")
            #expect(!result.output.contains(Self.secret), "\(tool) echoed the password: \(result.output)")
        }
    }

    @Test func atlassianAdminTakesTheTokenFromAFileOrTheEnvironment() async throws {
        let token = "pat-from-a-file-0815"
        try await withResource {
            try await Self.server(expecting: "Bearer \(token)")
        } cleanup: { server in
            await server.stop()
        } body: { server in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)")
            try Data("\(token)\n".utf8).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let common = ["server-info", "--product", "jira", "--url", server.baseURL]
            let binary = AtlassianAdminToolTests.binary

            for (arguments, environment) in [
                (common + ["--token-file", file.path], [String: String]()),
                (common, ["ATLASSIAN_TOKEN_FILE": file.path]),
                (common, ["ATLASSIAN_TOKEN": token]),
            ] {
                let result = try await ProcessRunner.run(
                    binary, arguments, environment: environment, timeout: .seconds(60))
                let output = String(decoding: result.stdout + result.stderr, as: UTF8.self)
                #expect(result.status == 0, "\(arguments) \(environment.keys): \(output)")
                #expect(!output.contains(token))
            }
            let missing = try await ProcessRunner.run(
                binary, common + ["--token-file", file.path + "-missing"], timeout: .seconds(60))
            #expect(missing.status == 2)

            // The flag still works, with a warning that it shows the secret to every user.
            let flagged = try await ProcessRunner.run(binary, common + ["--token", token], timeout: .seconds(60))
            #expect(flagged.status == 0)
            #expect(String(decoding: flagged.stderr, as: UTF8.self).contains("process list"))
        }
    }
}
