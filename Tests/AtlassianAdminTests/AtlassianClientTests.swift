import AtlasRelayTestSupport
import Foundation
import Synchronization
import Testing

@testable import AtlassianAdmin

/// The Jira and Confluence clients over real sockets, answering with recorded and documented
/// response bodies (`Fixtures/`, see its SOURCE.md).
struct AtlassianClientTests {
    static func fixture(_ name: String) throws -> Data {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json"))
        return try Data(contentsOf: url)
    }

    static func respond(_ body: Data, status: Int = 200) -> TestResponse {
        TestResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
    }

    @Test func jiraDecodesRecordedServerInfoPropertiesLinksAndHealthChecks() async throws {
        let serverInfo = try Self.fixture("jira-serverInfo")
        let properties = try Self.fixture("jira-application-properties")
        let links = try Self.fixture("applinks-listApplicationlinks")
        let check = try Self.fixture("troubleshooting-healthcheck-item")
        try await withTestServer { request in
            switch request.path {
            case "/jira/rest/api/2/serverInfo": return Self.respond(serverInfo)
            case "/jira/rest/api/2/application-properties": return Self.respond(properties)
            case "/jira/rest/applinks/1.0/listApplicationlinks": return Self.respond(links)
            case "/jira/rest/troubleshooting/1.0/check/":
                return Self.respond(Data("{\"statuses\":[".utf8) + check + Data("]}".utf8))
            default: return .text("", status: 404)
            }
        } body: { server in
            let jira = try JiraClient(baseURL: server.baseURL + "/jira/", credentials: .token("pat-secret"))
            let info = try await jira.serverInfo()
            #expect(info.baseUrl == "http://localhost:8090/jira")
            #expect(info.version == "4.2-SNAPSHOT" && info.buildNumber == 580)
            #expect(info.serverTitle == "Your Company JIRA")
            #expect(try await jira.applicationProperties().map(\.key) == ["jira.home", "jira.clone.prefix"])
            // The documented example answers a list even for ?key=; the client picks the key.
            #expect(try await jira.applicationProperty("jira.clone.prefix")?.value == "CLONE -")
            let link = try #require(try await jira.applicationLinks().first)
            #expect(link.id == "2841b105-5904-3c0a-9710-1ff26ae88206")
            #expect(link.typeId == "jira" && link.isPrimary && link.rpcUrl == "https://<destination>")
            let checks = try await jira.healthChecks()
            #expect(checks.map(\.name) == ["End of Life"] && checks[0].isHealthy)
            #expect(server.requests.allSatisfy { $0.header("Authorization") == "Bearer pat-secret" })
        }
    }

    @Test func writesSendTheDocumentedBodies() async throws {
        try await withTestServer { _ in .text("", status: 200) } body: { server in
            let jira = try JiraClient(baseURL: server.baseURL, credentials: .basic(user: "admin", password: "s3cret"))
            try await jira.setApplicationProperty("jira.title", to: "Jira (DEV)")
            try await jira.setBaseURL("https://jira.dev.example.com")
            let confluence = try ConfluenceClient(baseURL: server.baseURL, credentials: .token("t"))
            try await confluence.setColorScheme(.init(light: ["topBarColor": "#0B6E4F"]))
            try await jira.deleteApplicationLink(id: "2841b105-5904-3c0a-9710-1ff26ae88206")

            let requests = server.requests
            #expect(
                requests.map { "\($0.method) \($0.path)" } == [
                    "PUT /rest/api/2/application-properties/jira.title", "PUT /rest/api/2/settings/baseUrl",
                    "PUT /rest/api/color-scheme",
                    "DELETE /rest/applinks/1.0/applicationlink/2841b105-5904-3c0a-9710-1ff26ae88206",
                ])
            let property = try JSONSerialization.jsonObject(with: requests[0].body) as? [String: String]
            #expect(property == ["id": "jira.title", "value": "Jira (DEV)"])
            #expect(String(decoding: requests[1].body, as: UTF8.self) == #""https:\/\/jira.dev.example.com""#)
            let scheme = try JSONSerialization.jsonObject(with: requests[2].body) as? [String: [String: String]]
            #expect(scheme?["colorSchemeModelLight"] == ["topBarColor": "#0B6E4F"])
            #expect(
                requests[0].header("Authorization") == "Basic " + Data("admin:s3cret".utf8).base64EncodedString())
            #expect(requests[0].header("Content-Type") == "application/json")
        }
    }

    @Test func errorsCarryWhatTheProductSaidAndWhatToDoButNoSecrets() async throws {
        let bodies = try (["", "2", "3", "4"]).map { try Self.fixture("jira-error\($0)") }
        let count = Mutex(0)
        try await withTestServer { request in
            if request.path == "/rest/api/user/current" {
                return Self.respond(
                    Data(#"{"statusCode":403,"message":"Not permitted to use confluence","data":{}}"#.utf8), status: 403
                )
            }
            let index = count.withLock { value -> Int in
                defer { value += 1 }
                return value
            }
            return Self.respond(bodies[index % 4], status: index == 0 ? 401 : 400)
        } body: { server in
            let jira = try JiraClient(baseURL: server.baseURL, credentials: .token("pat-secret-value"))
            let unauthorized = try await #require(throws: AtlassianError.self) { try await jira.myself() }
            #expect(unauthorized.status == 401)
            #expect(unauthorized.fieldErrors == ["customfield_10000": "abcfsd"])
            #expect(unauthorized.description.contains("the credentials were refused"))
            let second = try await #require(throws: AtlassianError.self) { try await jira.myself() }
            #expect(second.messages == ["a", "b", "xxx"])
            #expect(second.description.contains("GET /rest/api/2/myself answered HTTP 400: a; b; xxx"))
            for error in [unauthorized, second] {
                #expect(!error.description.contains("pat-secret-value"))
            }
            #expect(!"\(AtlassianCredentials.token("pat-secret-value"))".contains("pat-secret-value"))
            #expect(!"\(AtlassianCredentials.basic(user: "admin", password: "pw-123"))".contains("pw-123"))

            let confluence = try ConfluenceClient(baseURL: server.baseURL, credentials: .token("t"))
            let forbidden = try await #require(throws: AtlassianError.self) { try await confluence.currentUser() }
            #expect(forbidden.messages == ["Not permitted to use confluence"])
            #expect(forbidden.description.contains("use an administrator account"))
        }
    }

    @Test func waitUntilRunningWaitsThroughStartingAndStopsAtError() async throws {
        let polls = Mutex(0)
        try await withTestServer { request in
            let poll = polls.withLock { value -> Int in
                value += 1
                return value
            }
            switch poll {
            case 1: return .text("<html>502 Bad Gateway</html>", status: 502)  // the load balancer, before the node
            case 2, 3: return .json(["state": "STARTING"])
            default: return .json(["state": "RUNNING"])
            }
        } body: { server in
            let jira = try JiraClient(baseURL: server.baseURL, credentials: nil)
            // Generous: the test asserts the polls, and a loaded CI machine can take seconds per poll.
            try await jira.waitUntilRunning(timeout: .seconds(120), interval: .milliseconds(10))
            #expect(polls.withLock { $0 } == 4)
            #expect(try await jira.state() == .running)
        }

        try await withTestServer { _ in .json(["state": "ERROR"], status: 500) } body: { failing in
            let broken = try ConfluenceClient(baseURL: failing.baseURL, credentials: nil)
            let error = try await #require(throws: AtlassianError.self) {
                try await broken.waitUntilRunning(timeout: .seconds(10), interval: .milliseconds(10))
            }
            #expect(error.description.contains("the node reports ERROR"))
            #expect(failing.requests.count == 1)
        }

        try await withTestServer { _ in .json(["state": "MAINTENANCE"], status: 503) } body: { maintenance in
            let waiting = try await #require(throws: AtlassianError.self) {
                try await JiraClient(baseURL: maintenance.baseURL, credentials: nil)
                    // Long enough that one poll is answered on a loaded machine (in a CI run a
                    // 0.2 s wait saw no answer within its 1 s poll): the wait ends at its timeout.
                    .waitUntilRunning(timeout: .seconds(10), interval: .milliseconds(200))
            }
            #expect(waiting.kind == .timedOut)
            #expect(waiting.description.contains("last: MAINTENANCE"))
        }
    }

    @Test func badURLsAndUnreachableServersSayWhatToCheck() async throws {
        #expect(throws: AtlassianError.self) { try JiraClient(baseURL: "jira.example.com", credentials: nil) }
        let closed = try JiraClient(baseURL: "http://127.0.0.1:9", credentials: nil)
        let error = try await #require(throws: AtlassianError.self) { try await closed.serverInfo() }
        #expect(error.status == 0)
        #expect(error.kind == .unreachable)
    }

    @Test func confluenceColorSchemeDecodesTheSchemaExample() async throws {
        let body = try Self.fixture("confluence-color-scheme.schema-example")
        try await withTestServer { _ in Self.respond(body) } body: { server in
            let scheme = try await ConfluenceClient(baseURL: server.baseURL, credentials: .token("t")).colorScheme()
            #expect(scheme.colorSchemeModelLight?["topBarColor"] == "#000000")
            #expect(scheme.colorSchemeModelDark?.count == 13)
        }
    }
}
