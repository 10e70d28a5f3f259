import AtlassianAdmin
import Foundation

/// Fast, read-only checks that are safe against production: every node RUNNING with the
/// expected version and the deployed commit, the load balancer seeing every node healthy, a
/// usable licence, healthy health checks, and a known issue and page readable.
public struct SmokeTester: Sendable {
    /// One node of a cluster, reached directly (not through the load balancer).
    public struct Node: Sendable, Equatable {
        /// A name for reports, for example the instance id.
        public var name: String
        /// `scheme://address:port` of the node itself.
        public var baseURL: String
        /// Its status path (`/status`).
        public var statusPath: String
        /// A path that answers the commit the node runs (text, or JSON with `commit`), if the
        /// node scripts provide one.
        public var releasePath: String?

        /// Describes a node.
        public init(name: String, baseURL: String, statusPath: String = "/status", releasePath: String? = nil) {
            self.name = name
            self.baseURL = baseURL
            self.statusPath = statusPath
            self.releasePath = releasePath
        }
    }

    /// What to check for one product.
    public struct Target: Sendable {
        /// The product's client (through the load balancer).
        public var client: any AtlassianProduct
        /// Each node, checked one by one (empty: only the client's URL).
        public var nodes: [Node]
        /// The version the deploy should have brought, checked on every node.
        public var expectedVersion: String?
        /// The commit the deploy should have brought, checked on every node's ``Node/releasePath``.
        public var expectedCommit: String?
        /// An issue key (Jira) or page id (Confluence) that must be readable.
        public var knownContent: String?
        /// A check that the load balancer sees every node healthy; it throws what is wrong.
        public var loadBalancer: (@Sendable () async throws -> Void)?

        /// Creates a target.
        public init(
            client: any AtlassianProduct, nodes: [Node] = [], expectedVersion: String? = nil,
            expectedCommit: String? = nil, knownContent: String? = nil,
            loadBalancer: (@Sendable () async throws -> Void)? = nil
        ) {
            self.client = client
            self.nodes = nodes
            self.expectedVersion = expectedVersion
            self.expectedCommit = expectedCommit
            self.knownContent = knownContent
            self.loadBalancer = loadBalancer
        }

        /// Nodes given by their base URLs only (status at `/status`, no release marker).
        public init(client: any AtlassianProduct, nodeURLs: [String], expectedVersion: String? = nil, knownContent: String? = nil) {
            self.init(
                client: client, nodes: nodeURLs.map { Node(name: $0, baseURL: $0) }, expectedVersion: expectedVersion,
                knownContent: knownContent)
        }
    }

    /// The version `client`'s product reports.
    static func version(of client: any AtlassianProduct) async throws -> String {
        if let jira = client as? JiraClient { return try await jira.serverInfo().version }
        return try await (client as! ConfluenceClient).serverInformation().version
    }

    /// `client`'s kind of client, at `baseURL` with the same credentials.
    static func client(like client: any AtlassianProduct, at baseURL: String) throws -> any AtlassianProduct {
        let connection = try AtlassianConnection(baseURL: baseURL, credentials: client.connection.credentials)
        return client is JiraClient ? JiraClient(connection: connection) : ConfluenceClient(connection: connection)
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
            let nodes = target.nodes.isEmpty ? [Node(name: client.connection.baseURL, baseURL: client.connection.baseURL)] : target.nodes
            var steps: [Step] = nodes.map { node in
                Step("status of \(node.name)") { _ in
                    let connection = try AtlassianConnection(baseURL: node.baseURL, credentials: nil)
                    let (status, body) = try await connection.raw(.GET, node.statusPath)
                    struct Shape: Decodable { let state: String }
                    let state = (try? JSONDecoder().decode(Shape.self, from: body))?.state ?? "HTTP \(status)"
                    try check(state == "RUNNING", "\(node.baseURL)\(node.statusPath) answered \(state), not RUNNING")
                }
            }
            if !target.nodes.isEmpty, let expected = target.expectedVersion {
                steps += target.nodes.map { node in
                    Step("version of \(node.name)") { _ in
                        let version = try await Self.version(of: try Self.client(like: client, at: node.baseURL))
                        try check(version == expected, "\(node.name) runs \(product) \(version), expected \(expected)")
                    }
                }
            }
            if let commit = target.expectedCommit {
                steps += target.nodes.map { node in
                    Step("release of \(node.name)") { _ in
                        guard let path = node.releasePath else {
                            throw CheckFailed(
                                "\(node.name) has no release marker (nodes.<app>.releasePath), so nothing shows it runs \(commit.prefix(12))")
                        }
                        let connection = try AtlassianConnection(baseURL: node.baseURL, credentials: nil)
                        let (status, body) = try await connection.raw(.GET, path)
                        struct Shape: Decodable { let commit: String }
                        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                        let served = (try? JSONDecoder().decode(Shape.self, from: body))?.commit ?? text
                        try check(status == 200, "\(node.baseURL)\(path) answered HTTP \(status)")
                        try check(served == commit, "\(node.name) runs \(served.prefix(40)), not \(commit)")
                    }
                }
                if target.nodes.isEmpty {
                    steps.append(
                        Step("release of each node") { _ in
                            throw CheckFailed(
                                "no nodes are known (nodes.<app> in the config), so nothing shows they run \(commit.prefix(12))")
                        })
                }
            }
            if let loadBalancer = target.loadBalancer {
                steps.append(Step("load balancer sees every node healthy") { _ in try await loadBalancer() })
            }
            scenarios.append(Scenario("\(product): nodes running", steps: steps))
            scenarios.append(
                Scenario(
                    "\(product): version and licence",
                    steps: [
                        Step("version") { _ in
                            guard let expected = target.expectedVersion else { return }
                            let version = try await Self.version(of: client)
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
