import Foundation
import Synchronization

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw CredentialError(
                .providerFailed, "cannot start credential_process '\(command)': \(error.localizedDescription)")
        }
        let run = Run(process: process, stdout: stdout, stderr: stderr)
        let timeoutError = CredentialError(
            .providerFailed,
            "credential_process '\(command)' did not finish within \(timeout); check that it does not wait for input")
        let timeout = self.timeout
        let watchdog = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            run.terminate(with: timeoutError)
        }
        defer { watchdog.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            run.start(continuation)
        }
    }

    /// One running command: drains both pipes off the cooperative pool (so a chatty command cannot
    /// block on a full pipe) and resumes its caller exactly once, on exit or on timeout.
    private final class Run: @unchecked Sendable {
        let process: Process
        let stdout: Pipe
        let stderr: Pipe
        let state = Mutex<CheckedContinuation<(Int32, Data, Data), any Error>?>(nil)
        let finished = Mutex(false)

        init(process: Process, stdout: Pipe, stderr: Pipe) {
            self.process = process
            self.stdout = stdout
            self.stderr = stderr
        }

        func start(_ continuation: CheckedContinuation<(Int32, Data, Data), any Error>) {
            state.withLock { $0 = continuation }
            if finished.withLock({ $0 }) { resume(.failure(CancellationError())) }
            DispatchQueue.global().async {
                let group = DispatchGroup()
                nonisolated(unsafe) var errorData = Data()
                group.enter()
                DispatchQueue.global().async {
                    errorData = self.stderr.fileHandleForReading.readDataToEndOfFile()
                    group.leave()
                }
                let outputData = self.stdout.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                self.process.waitUntilExit()
                self.resume(.success((self.process.terminationStatus, outputData, errorData)))
            }
        }

        func terminate(with error: any Error) {
            if process.isRunning { process.terminate() }
            resume(.failure(error))
        }

        private func resume(_ result: Result<(Int32, Data, Data), any Error>) {
            finished.withLock { $0 = true }
            state.withLock { continuation in
                continuation?.resume(with: result)
                continuation = nil
            }
        }
    }

    public var description: String { "credential_process" }
}
