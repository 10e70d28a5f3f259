import AWSSigning
import Foundation
import RelayFoundation
import RelayHTTP

/// Credentials of an EC2 instance's role, from the instance metadata service (IMDSv2).
///
/// Gets a session token (`PUT /latest/api/token`), the role name and then the role's credentials.
/// Falls back to IMDSv1 only when the token call is refused as unsupported (404/405) and
/// `AWS_EC2_METADATA_V1_DISABLED` is not `true`. `AWS_EC2_METADATA_DISABLED=true` turns it off;
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves it; `AWS_METADATA_SERVICE_TIMEOUT` (seconds, default 1)
/// bounds each call, as in the AWS CLI.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    let environment: [String: String]
    let transport: HTTPTransport
    let timeout: Duration

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - environment: the process environment by default.
    ///   - transport: what the metadata service is asked through (`HTTPTransport.shared` by default).
    ///   - timeout: how soon each call must start answering (its response head); by default
    ///     `AWS_METADATA_SERVICE_TIMEOUT` seconds, else 1 s.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        transport: HTTPTransport = .shared, timeout: Duration? = nil
    ) {
        self.environment = environment
        self.transport = transport
        let configured = environment["AWS_METADATA_SERVICE_TIMEOUT"].flatMap(Double.init).map {
            Duration.milliseconds(Int64($0 * 1000))
        }
        self.timeout = timeout ?? configured ?? .seconds(1)
    }

    var endpoint: String {
        var base =
            environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "http://169.254.169.254"
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    public func credentials() async throws -> Credentials {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            throw CredentialError(.notConfigured, "AWS_EC2_METADATA_DISABLED is true")
        }
        let token = try await sessionToken()
        let (roleStatus, roleBody) = try await get("/latest/meta-data/iam/security-credentials/", token: token)
        guard roleStatus == 200,
            let role = String(decoding: roleBody, as: UTF8.self).split(whereSeparator: \.isNewline).first
        else {
            throw CredentialError(
                roleStatus == 404 ? .notConfigured : .providerFailed,
                roleStatus == 404
                    ? "the instance has no IAM role attached"
                    : "instance metadata answered HTTP \(roleStatus) for the role name")
        }
        let (status, body) = try await get("/latest/meta-data/iam/security-credentials/\(role)", token: token)
        guard status == 200, let answer = try? JSONDecoder().decode(CredentialsDocument.self, from: body) else {
            throw CredentialError(
                .providerFailed, "instance metadata answered HTTP \(status) for the credentials of role \(role)")
        }
        guard answer.Code == nil || answer.Code == "Success", let credentials = answer.credentials else {
            throw CredentialError(
                .providerFailed,
                "instance metadata could not give credentials for role \(role): \(answer.Code ?? "no keys") \(answer.Message ?? "")"
            )
        }
        return credentials
    }

    /// An IMDSv2 session token, or `nil` to fall back to IMDSv1.
    func sessionToken() async throws -> String? {
        var request = TransportRequest(url: endpoint + "/latest/api/token", method: .PUT)
        request.headers.add(name: "X-aws-ec2-metadata-token-ttl-seconds", value: "21600")
        let status: UInt
        let body: Data
        do {
            let answer = try await transport.collect(
                request, context: TransportContext(operation: "IMDS token", timeout: timeout), upTo: 64 * 1024, deadline: .responseHead)
            status = answer.status.code
            body = Data(answer.body.readableBytesView)
        } catch {
            throw CredentialError(
                .notConfigured, "no instance metadata service answered at \(endpoint)", underlying: error)
        }
        switch status {
        case 200:
            return String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        case 404, 405:
            guard environment["AWS_EC2_METADATA_V1_DISABLED"]?.lowercased() != "true" else {
                throw CredentialError(
                    .providerFailed,
                    "instance metadata does not support IMDSv2 tokens (HTTP \(status)) and AWS_EC2_METADATA_V1_DISABLED forbids IMDSv1"
                )
            }
            return nil
        default:
            throw CredentialError(
                .providerFailed,
                "instance metadata refused a session token (HTTP \(status)); check the instance's metadata options (hop limit, IMDSv2)"
            )
        }
    }

    func get(_ path: String, token: String?) async throws -> (UInt, Data) {
        var request = TransportRequest(url: endpoint + path)
        if let token { request.headers.add(name: "X-aws-ec2-metadata-token", value: token) }
        do {
            let answer = try await transport.collect(
                request, context: TransportContext(operation: "IMDS GET", timeout: timeout), upTo: 1 << 20, deadline: .responseHead)
            return (answer.status.code, Data(answer.body.readableBytesView))
        } catch {
            throw CredentialError(
                .providerFailed, "instance metadata at \(endpoint) stopped answering (\(error))", underlying: error)
        }
    }

    public var description: String { "EC2 instance metadata" }
}
