import Foundation
import RelayFoundation
import Testing

/// One exit-code convention for atlassian-admin, atlassian-simulator and app-tester: 0 done,
/// 1 failed, 2 bad input or refused (flags the parser rejects included), said in each `--help`.
struct ExitCodeTests {
    static func binary(_ name: String) -> String {
        AtlassianAdminToolTests.binary.replacingOccurrences(of: "atlassian-admin", with: name)
    }

    static func run(_ tool: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let output = try await ProcessRunner.run(binary(tool), arguments, timeout: .seconds(60))
        return (output.status, String(decoding: output.stdout + output.stderr, as: UTF8.self))
    }

    @Test func atlassianAdminRejectsURLsThatAreNotHTTPAsBadInput() async throws {
        for url in ["ftp://jira.example.com", "jira.example.com"] {
            let result = try await Self.run("atlassian-admin", ["server-info", "--product", "jira", "--url", url])
            #expect(result.status == 2, "\(url): \(result)")
            #expect(result.output.contains("not an absolute http(s) URL"))
        }
    }

    @Test func rejectedFlagsAndMissingInputExitTwoInEveryTool() async throws {
        let cases: [(String, [String])] = [
            ("atlassian-admin", ["status", "--no-such-flag"]),
            ("atlassian-simulator", ["--product", "jira", "--no-such-flag"]),
            ("atlassian-simulator", ["--product", "bamboo", "--db", "postgres://u@127.0.0.1:9/db"]),
            ("app-tester", ["functional", "--no-such-flag"]),
            ("app-tester", ["smoke"]),  // neither --jira-url nor --confluence-url
            // Numbers that an unchecked Double-to-Int conversion trapped on (exit by signal).
            ("app-tester", ["perf", "--jira-url", "http://127.0.0.1:9", "--hold", "1e300"]),
            ("app-tester", ["perf", "--jira-url", "http://127.0.0.1:9", "--ramp-up", "nan"]),
            ("app-tester", ["perf", "--jira-url", "http://127.0.0.1:9", "--think-time", "-5"]),
            ("nightly", ["--no-such-flag"]),
            ("go-live", ["--commit"]),
        ]
        for (tool, arguments) in cases {
            let result = try await Self.run(tool, arguments)
            #expect(result.status == 2, "\(tool) \(arguments): \(result)")
        }
    }

    @Test func eachToolsHelpStatesTheConvention() async throws {
        for tool in ["atlassian-admin", "atlassian-simulator", "app-tester"] {
            let help = try await Self.run(tool, ["--help"])
            #expect(help.status == 0)
            for part in ["Exit status: 0 done", "1 failed", "2 bad input or refused"] {
                #expect(help.output.contains(part), "\(tool): \(help.output)")
            }
        }
    }
}
