import Foundation
import NIOCore
import NIOFoundationCompat
import RelayFoundation
import RelayHTTP

/// Posts a phase's outcome as a build status on its commit in Bitbucket Server / Data Center,
/// so reviewers see which commits passed integration and UAT.
///
/// With the repository known (``project`` and ``repository``), it posts to the repository's
/// builds API (`POST /rest/api/latest/projects/{project}/repos/{slug}/commits/{commit}/builds`,
/// Bitbucket 7.4 and later), which keeps a status per repository and takes the run's duration;
/// a server that answers 404 there gets the older `POST /rest/build-status/1.0/commits/{commit}`,
/// which is also what is used without the repository.
///
/// The token travels in the `Authorization` header only, never in the URL, so the transport's
/// request log never shows it.
public struct BuildStatus: Sendable {
    /// The server's base URL.
    public var url: String
    /// The repository's project key, for the builds API (with ``repository``).
    public var project: String?
    /// The repository's slug, for the builds API (with ``project``).
    public var repository: String?
    /// A PEM file of the private CA behind the server's certificate, trusted besides the system's.
    public var caFile: String?
    /// An HTTP access token with repository read (sent as Bearer; never logged).
    var token: String
    /// The transport the status goes through.
    public var transport: HTTPTransport
    /// How long the whole exchange may take.
    public var timeout: Duration

    /// Creates a poster.
    ///
    /// - Parameters:
    ///   - url: the server's base URL (a trailing `/` is fine).
    ///   - token: an HTTP access token; sent as `Authorization: Bearer`.
    ///   - project: the repository's project key, for the builds API (with `repository`).
    ///   - repository: the repository's slug.
    ///   - caFile: a PEM file of the private CA behind the server's certificate, if it has one.
    ///   - transport: the transport; `HTTPTransport.shared` by default.
    ///   - timeout: the deadline of the exchange, head and body; 30 s by default.
    public init(
        url: String, token: String, project: String? = nil, repository: String? = nil, caFile: String? = nil,
        transport: HTTPTransport = .shared, timeout: Duration = .seconds(30)
    ) {
        self.caFile = caFile
        self.url = url
        self.token = token
        self.project = project
        self.repository = repository
        self.transport = transport
        self.timeout = timeout
    }

    /// The states Bitbucket Server's build-status API takes.
    public enum State: String, Sendable {
        /// The phase is running.
        case inProgress = "INPROGRESS"
        /// Every step of the phase ran and passed.
        case successful = "SUCCESSFUL"
        /// A step failed.
        case failed = "FAILED"
    }

    struct Body: Encodable {
        let state: String
        let key: String
        let name: String
        let url: String
        let description: String
        /// Milliseconds, for a finished run (the builds API shows it; the older one ignores it).
        let duration: Int?
    }

    /// Where a status should link to: the build that ran the phase. In CodeBuild that is
    /// `CODEBUILD_PUBLIC_BUILD_URL` when the project has public builds, else the build's page in
    /// the console, made from `CODEBUILD_BUILD_ARN`; nil outside CodeBuild.
    public static func buildLink(environment: [String: String]) -> String? {
        if let url = environment["CODEBUILD_PUBLIC_BUILD_URL"], !url.isEmpty { return url }
        // arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>
        guard let arn = environment["CODEBUILD_BUILD_ARN"] else { return nil }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[2] == "codebuild", parts[5].hasPrefix("build/") else { return nil }
        let (region, account) = (parts[3], parts[4])
        let id = String(parts[5].dropFirst("build/".count))
        guard let project = id.split(separator: ":").first, !region.isEmpty, !account.isEmpty else { return nil }
        return "https://\(region).console.aws.amazon.com/codesuite/codebuild/\(account)/projects/"
            + "\(PercentEncoding.component(String(project)))/build/\(PercentEncoding.component(id))/?region=\(region)"
    }

    /// Posts `report`'s outcome, SUCCESSFUL or FAILED under the key `atlas-relay-<phase>`.
    ///
    /// - Parameters:
    ///   - report: the phase's report: its commit, phase, environment and outcome.
    ///   - link: where the status links to (``buildLink(environment:)``); the server's base URL
    ///     by default.
    /// - Throws: ``PipelineError`` of kind ``PipelineError/Kind/buildStatusRejected`` with the
    ///   server's status and message; the transport's errors when the server cannot be reached
    ///   or does not answer within ``timeout``.
    public func post(_ report: RunReport, link: String? = nil) async throws {
        let failed = report.steps.filter { $0.outcome == .failed }.map(\.name)
        try await post(
            report.passed ? .successful : .failed, commit: report.commit, phase: report.phase,
            environment: report.environment,
            description: report.passed
                ? "passed in \(String(format: "%.0f", report.seconds)) s" : "failed: \(failed.joined(separator: ", "))",
            link: link, duration: .milliseconds(Int64(report.seconds * 1000)))
    }

    /// Posts `state` for `phase` on `commit`, under the key `atlas-relay-<phase>` (a later post
    /// of the same key replaces it, so INPROGRESS at the start is replaced by the outcome).
    ///
    /// - Throws: as ``post(_:link:)``.
    public func post(
        _ state: State, commit: String, phase: Phase, environment: String, description: String, link: String? = nil,
        duration: Duration? = nil
    ) async throws {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        let body = Body(
            state: state.rawValue, key: "atlas-relay-\(phase.rawValue)",
            name: "Atlas Relay \(phase.rawValue) (\(environment))", url: link ?? base, description: description,
            duration: duration.map { Int($0.nanoseconds / 1_000_000) })
        let data = try JSONEncoder().encode(body)
        let legacy = "\(base)/rest/build-status/1.0/commits/\(commit)"
        if let project, let repository {
            let builds = "\(base)/rest/api/latest/projects/\(PercentEncoding.component(project))/repos/"
                + "\(PercentEncoding.component(repository))/commits/\(commit)/builds"
            // A server before 7.4 has no builds API: the older one takes the same status.
            if try await send(data, to: builds, commit: commit, notFoundIsAnAnswer: true) { return }
        }
        _ = try await send(data, to: legacy, commit: commit, notFoundIsAnAnswer: false)
    }

    /// Posts `data` to `address`: true when the server took it, false when it answered 404 and
    /// `notFoundIsAnAnswer` (it has no such API).
    private func send(_ data: Data, to address: String, commit: String, notFoundIsAnAnswer: Bool) async throws -> Bool {
        var request = TransportRequest(url: address, method: .POST)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: data))
        let context = TransportContext(operation: "bitbucket POST build status", timeout: timeout)
        let answer = try await transport.trusting(caFile: caFile) {
            try await $0.collect(request, context: context, upTo: 64 << 10)
        }
        if answer.status.code == 404 && notFoundIsAnAnswer { return false }
        guard (200..<300).contains(Int(answer.status.code)) else {
            throw PipelineError(
                "Bitbucket refused the build status for \(commit.prefix(12)): HTTP \(answer.status.code) "
                    + "\(String(buffer: answer.body).prefix(300))",
                kind: .buildStatusRejected)
        }
        return true
    }
}
