import AtlassianAdmin
import Foundation

/// Fast, read-only checks that are safe against production: every node RUNNING, the expected
/// version, a usable licence, healthy health checks, and a known issue and page readable.
public struct SmokeTester: Sendable {
    /// What to check for one product.
    public struct Target: Sendable {
        /// The product's client (through the load balancer).
        public var client: any AtlassianProduct
        /// Each node's own base URL, checked for RUNNING one by one (empty: only the client's).
        public var nodeURLs: [String]
        /// The version the deploy should have brought.
        public var expectedVersion: String?
        /// An issue key (Jira) or page id (Confluence) that must be readable.
        public var knownContent: String?

        /// Creates a target.
        public init(
            client: any AtlassianProduct, nodeURLs: [String] = [], expectedVersion: String? = nil,
            knownContent: String? = nil
        ) {
            self.client = client
            self.nodeURLs = nodeURLs
            self.expectedVersion = expectedVersion
            self.knownContent = knownContent
        }
    }

    /// The products.
    public var targets: [Target]

    /// Creates a smoke tester.
    public init(targets: [Target]) { self.targets = targets }

    /// The checks as scenarios (each check its own, so one failure does not hide the others).
    public func scenarios() -> [Scenario] {
        targets.flatMap { target -> [Scenario] in
            let client = target.client
            let product = client.product
            var scenarios: [Scenario] = []
            let nodes = target.nodeURLs.isEmpty ? [client.connection.baseURL] : target.nodeURLs
            scenarios.append(
                Scenario(
                    "\(product): nodes running",
                    steps: nodes.map { url in
                        Step("status of \(url)") { _ in
                            let node = try AtlassianConnection(baseURL: url, credentials: nil)
                            let state = try await node.state()
                            try check(state == .running, "\(url)/status answered \(state.rawValue), not RUNNING")
                        }
                    }))
            scenarios.append(
                Scenario(
                    "\(product): version and licence",
                    steps: [
                        Step("version") { _ in
                            guard let expected = target.expectedVersion else { return }
                            let version: String
                            if let jira = client as? JiraClient {
                                version = try await jira.serverInfo().version
                            } else {
                                version = try await (client as! ConfluenceClient).serverInformation().version
                            }
                            try check(version == expected, "\(product) runs \(version), expected \(expected)")
                        },
                        Step("licence") { _ in
                            let licence = try await client.licenceDetails()
                            try check(licence.isUsable(), "\(product)'s licence is not valid or has expired")
                        },
                        Step("health checks") { _ in
                            let failing = try await client.healthChecks().filter {
                                !$0.isHealthy && ["critical", "major"].contains($0.severity ?? "")
                            }
                            try check(
                                failing.isEmpty,
                                "failing health checks: \(failing.map { "\($0.name) (\($0.failureReason ?? ""))" }.joined(separator: "; "))"
                            )
                        },
                    ]))
            if let known = target.knownContent {
                scenarios.append(
                    Scenario(
                        "\(product): content readable",
                        steps: [
                            Step(product == .jira ? "view issue \(known)" : "view page \(known)") { _ in
                                if let jira = client as? JiraClient {
                                    _ = try await jira.issue(known)
                                } else {
                                    _ = try await (client as! ConfluenceClient).page(known)
                                }
                            }
                        ]))
            }
            return scenarios
        }
    }

    /// Runs the checks.
    public func run(tester: AppTester = AppTester()) async -> TestRun {
        await tester.run("smoke", scenarios()) { TestContext() }
    }
}
