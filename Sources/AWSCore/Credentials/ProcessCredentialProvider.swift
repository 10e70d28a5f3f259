import AWSSigning
import Foundation
import RelayFoundation

/// Credentials printed by an external command (`credential_process`).
///
/// The command runs through `/bin/sh -c` and must print the documented JSON
/// (`Version: 1`, `AccessKeyId`, `SecretAccessKey`, optional `SessionToken` and `Expiration`).
/// Its standard error is shown in the error when it fails; its output never is.
public struct ProcessCredentialProvider: CredentialProvider {
    /// The command line.
    public let command: String
    /// How long the command may run.
    public let timeout: Duration

    /// Creates a provider for `command`.
    public init(command: String, timeout: Duration = .seconds(60)) {
        self.command = command
        self.timeout = timeout
    }

    struct Output: Decodable {
        let Version: Int
        let AccessKeyId: String?
        let SecretAccessKey: String?
        let SessionToken: String?
        let Expiration: String?
        let AccountId: String?
    }

    public func credentials() async throws -> Credentials {
        let (status, stdout, stderr) = try await run()
        guard status == 0 else {
            let detail = String(decoding: stderr.prefix(500), as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines)
            throw CredentialError(
                .providerFailed,
                "credential_process '\(command)' exited with status \(status)"
                    + (detail.isEmpty ? "" : ": \(detail)") + "; run it by hand to see why")
        }
        guard let output = try? JSONDecoder().decode(Output.self, from: stdout) else {
            throw CredentialError(
                .providerFailed,
                "credential_process '\(command)' did not print the expected JSON "
                    + "({\"Version\": 1, \"AccessKeyId\": …, \"SecretAccessKey\": …}); check its output format")
        }
        guard output.Version == 1 else {
            throw CredentialError(
                .providerFailed,
                "credential_process '\(command)' printed Version \(output.Version); only Version 1 is defined")
        }
        guard let key = output.AccessKeyId, let secret = output.SecretAccessKey, !key.isEmpty, !secret.isEmpty else {
            throw CredentialError(
                .providerFailed, "credential_process '\(command)' printed no AccessKeyId or SecretAccessKey")
        }
        var expiration: Date?
        if let text = output.Expiration {
            guard let date = ISO8601.parse(text) else {
                throw CredentialError(
                    .providerFailed,
                    "credential_process '\(command)' printed Expiration '\(text)', which is not ISO 8601")
            }
            expiration = date
        }
        return Credentials(
            accessKeyId: key, secretAccessKey: secret, sessionToken: output.SessionToken, expiration: expiration,
            accountId: output.AccountId)
    }

    private func run() async throws -> (Int32, Data, Data) {
        do {
            let output = try await ProcessRunner.run("/bin/sh", ["-c", command], timeout: timeout)
            return (output.status, output.stdout, output.stderr)
        } catch ProcessRunner.Failure.cannotStart(let reason) {
            throw CredentialError(.providerFailed, "cannot start credential_process '\(command)': \(reason)")
        } catch ProcessRunner.Failure.timedOut {
            throw CredentialError(
                .providerFailed,
                "credential_process '\(command)' did not finish within \(timeout); check that it does not wait for input"
            )
        }
    }

    public var description: String { "credential_process" }
}
