import Foundation

/// The Secrets Manager operation the pipeline needs (JSON 1.1 protocol).
public struct SecretsManagerClient: Sendable {
    /// The transport.
    public let aws: AWSClient

    /// Creates a client on top of `aws`.
    public init(_ aws: AWSClient) { self.aws = aws }

    struct GetSecretValueInput: Encodable, Sendable { let SecretId: String }
    struct GetSecretValueOutput: Decodable, Sendable { let SecretString: String? }

    /// The current string value of secret `id` (a name or ARN).
    ///
    /// - Throws: ``AWSServiceError`` from the service; ``AWSClientError`` when the secret is binary.
    public func secretString(_ id: String) async throws -> String {
        let output = try await aws.json(
            .secretsManager, operation: "GetSecretValue", input: GetSecretValueInput(SecretId: id),
            as: GetSecretValueOutput.self)
        guard let value = output.SecretString else {
            throw AWSClientError(
                .malformedResponse, "secret \(id) has no string value (binary secrets are not supported)")
        }
        return value
    }
}
