import AWSSigning

/// The JSON the container and instance metadata endpoints answer with.
struct CredentialsDocument: Decodable {
    let AccessKeyId: String?
    let SecretAccessKey: String?
    let Token: String?
    let Expiration: String?
    let AccountId: String?
    /// IMDS: `Success` or a failure code.
    let Code: String?
    let Message: String?
    /// Container endpoint error fields.
    let code: String?
    let message: String?

    /// The credentials, when both keys are present.
    var credentials: Credentials? {
        guard let key = AccessKeyId, let secret = SecretAccessKey, !key.isEmpty, !secret.isEmpty else { return nil }
        return Credentials(
            accessKeyId: key, secretAccessKey: secret, sessionToken: Token,
            expiration: Expiration.flatMap(ISO8601.parse),
            accountId: AccountId)
    }
}
