import AWSSigning
import Foundation
import RelayFoundation
import RelayHTTP

/// Credentials from the container credentials endpoint of CodeBuild, ECS and EKS Pod Identity.
///
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is resolved against `http://169.254.170.2`;
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` may be any `https` URL, or `http` only to a loopback
/// address or the ECS/EKS link-local hosts, as the AWS SDKs allow. The `Authorization` header comes
/// from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read on every refresh) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ContainerCredentialProvider: CredentialProvider {
    let environment: [String: String]
    let relativeBase: String
    let transport: HTTPTransport

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - environment: the process environment by default.
    ///   - relativeBase: the host that `RELATIVE_URI` paths are resolved against.
    ///   - transport: what the endpoint is asked through (`HTTPTransport.shared` by default);
    ///     each call must start answering within 5 s.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        relativeBase: String = "http://169.254.170.2", transport: HTTPTransport = .shared
    ) {
        self.environment = environment
        self.relativeBase = relativeBase
        self.transport = transport
    }

    static let allowedHTTPHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "[fd00:ec2::23]"]

    /// The URL to ask, after checking it is one the SDKs allow.
    func endpoint() throws -> String {
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            return relativeBase + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty else {
            throw CredentialError(
                .notConfigured,
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set")
        }
        guard let url = URLComponents(string: full), let scheme = url.scheme?.lowercased(), let host = url.host else {
            throw CredentialError(
                .invalidProfile, "AWS_CONTAINER_CREDENTIALS_FULL_URI '\(full)' is not an absolute URL")
        }
        if scheme == "https" { return full }
        guard scheme == "http", Self.isLoopback(host) || Self.allowedHTTPHosts.contains(host) else {
            throw CredentialError(
                .invalidProfile,
                "AWS_CONTAINER_CREDENTIALS_FULL_URI '\(full)' must use https, or http to a loopback address "
                    + "(127.0.0.0/8, ::1, localhost) or 169.254.170.2/169.254.170.23/fd00:ec2::23")
        }
        return full
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".")
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    func authorization() throws -> String? {
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            do {
                return try validated(String(contentsOfFile: file, encoding: .utf8), source: file)
            } catch let error as CredentialError {
                throw error
            } catch {
                throw CredentialError(
                    .providerFailed,
                    "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file): \(error.localizedDescription)")
            }
        }
        return try environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"].map {
            try validated($0, source: "AWS_CONTAINER_AUTHORIZATION_TOKEN")
        }
    }

    private func validated(_ token: String, source: String) throws -> String {
        let trimmed = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.contains("\r"), !trimmed.contains("\n") else {
            throw CredentialError(
                .providerFailed, "the container authorization token from \(source) contains a line break")
        }
        return trimmed
    }

    public func credentials() async throws -> Credentials {
        let url = try endpoint()
        var request = TransportRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        if let token = try authorization() { request.headers.add(name: "Authorization", value: token) }
        let (status, body): (UInt, Data)
        do {
            let answer = try await transport.collect(
                request, context: TransportContext(operation: "container credentials", timeout: .seconds(5)),
                upTo: 1 << 20, deadline: .responseHead)
            status = answer.status.code
            body = Data(answer.body.readableBytesView)
        } catch {
            throw CredentialError(
                .providerFailed,
                "the container credentials endpoint \(Self.redacted(url)) did not answer (\(error)); "
                    + "is this running in CodeBuild/ECS with a task role?", underlying: error)
        }
        let answer = try? JSONDecoder().decode(CredentialsDocument.self, from: body)
        guard status == 200 else {
            let reason = [answer?.code, answer?.message].compactMap { $0 }.joined(separator: ": ")
            throw CredentialError(
                .providerFailed,
                "the container credentials endpoint \(Self.redacted(url)) answered HTTP \(status)"
                    + (reason.isEmpty ? "" : " (\(reason))") + "; check the task role and authorization token")
        }
        guard let credentials = answer?.credentials else {
            throw CredentialError(
                .providerFailed,
                "the container credentials endpoint \(Self.redacted(url)) answered without AccessKeyId/SecretAccessKey")
        }
        return credentials
    }

    /// The URL without its query, which may carry a token.
    static func redacted(_ url: String) -> String {
        url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
    }

    public var description: String { "container credentials" }
}
