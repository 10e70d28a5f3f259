import AWSCore
import Foundation

/// Where a secret is kept: the config names it, never holds it.
///
/// Written in YAML as `env:NAME` (an environment variable, as CodeBuild sets from its
/// `secrets-manager` and `parameter-store` mappings), `ssm:/path/name` (a SecureString
/// parameter) or `secretsmanager:id` (a secret's string; `id#field` picks a field of a JSON
/// secret). Anything else is refused as an inline secret.
public struct SecretReference: Sendable, Decodable, Equatable, CustomStringConvertible {
    /// Where to look.
    public enum Source: String, Sendable {
        /// An environment variable.
        case env
        /// A Systems Manager parameter (decrypted).
        case ssm
        /// A Secrets Manager secret.
        case secretsmanager
    }

    /// Where to look.
    public let source: Source
    /// The variable, parameter or secret id.
    public let name: String

    /// Parses `env:NAME`, `ssm:/name` or `secretsmanager:id`; nil for anything else.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), let source = Source(rawValue: String(text[..<colon])) else {
            return nil
        }
        let name = String(text[text.index(after: colon)...])
        guard !name.isEmpty else { return nil }
        self.source = source
        self.name = name
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // The value is not repeated in the error: it may be the secret itself.
        guard let reference = Self(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "inline secrets are refused; write a reference: env:NAME, ssm:/parameter/name or secretsmanager:secret-id"
            )
        }
        self = reference
    }

    /// The reference, which is safe to print.
    public var description: String { "\(source.rawValue):\(name)" }
}

/// Resolves ``SecretReference``s when a step needs them, never earlier and never into logs.
public struct SecretResolver: Sendable {
    /// The environment variables.
    public var environment: [String: String]
    /// Systems Manager in the account the secret lives in.
    public var ssm: SSMClient?
    /// Secrets Manager in that account.
    public var secretsManager: SecretsManagerClient?

    /// Creates a resolver.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, ssm: SSMClient? = nil,
        secretsManager: SecretsManagerClient? = nil
    ) {
        self.environment = environment
        self.ssm = ssm
        self.secretsManager = secretsManager
    }

    /// The secret's value.
    ///
    /// - Throws: ``PipelineError`` naming the reference (never the value) when it cannot be read.
    public func resolve(_ reference: SecretReference) async throws -> String {
        switch reference.source {
        case .env:
            guard let value = environment[reference.name], !value.isEmpty else {
                throw PipelineError(
                    "\(reference) is not set; export \(reference.name) (in CodeBuild: env secrets-manager or parameter-store)",
                    kind: .secretUnavailable)
            }
            return value
        case .ssm:
            guard let ssm else {
                throw PipelineError("\(reference): no Systems Manager client configured", kind: .secretUnavailable)
            }
            do { return try await ssm.parameter(reference.name, decrypt: true) } catch {
                throw PipelineError("cannot read \(reference): \(error)", kind: .secretUnavailable, underlying: error)
            }
        case .secretsmanager:
            guard let secretsManager else {
                throw PipelineError("\(reference): no Secrets Manager client configured", kind: .secretUnavailable)
            }
            let parts = reference.name.split(separator: "#", maxSplits: 1).map(String.init)
            let text: String
            do { text = try await secretsManager.secretString(parts[0]) } catch {
                throw PipelineError("cannot read \(reference): \(error)", kind: .secretUnavailable, underlying: error)
            }
            guard parts.count == 2 else { return text }
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let field = object[parts[1]] as? String
            else {
                throw PipelineError(
                    "\(reference): the secret has no string field '\(parts[1])'", kind: .secretUnavailable)
            }
            return field
        }
    }
}
