import AWSCore
import Foundation
import Testing

struct ProcessCredentialProviderTests {
    @Test func processProvider() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func script(_ name: String, _ body: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            return path
        }
        let good = try script(
            "good.sh",
            """
            echo '{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token", "Expiration": "2031-01-02T03:04:05Z"}'
            """)
        let credentials = try await ProcessCredentialProvider(command: "\(good) --profile x").credentials()
        #expect(credentials.accessKeyId == "AKIDPROC")
        #expect(credentials.sessionToken == "proc-token")
        #expect(credentials.expiration == ISO8601DateFormatter().date(from: "2031-01-02T03:04:05Z"))

        let failing = try script("fail.sh", "echo 'token expired, run login' >&2\nexit 3\n")
        do {
            _ = try await ProcessCredentialProvider(command: failing).credentials()
            Issue.record("expected an error")
        } catch let error as CredentialError {
            #expect(error.kind == .providerFailed)
            #expect(error.message.contains("exited with status 3"))
            #expect(error.message.contains("token expired, run login"))
        }

        let leaky = try script("leaky.sh", "echo '{\"Version\": 2, \"SecretAccessKey\": \"must-not-leak\"}'\n")
        do {
            _ = try await ProcessCredentialProvider(command: leaky).credentials()
            Issue.record("expected an error")
        } catch let error as CredentialError {
            #expect(error.kind == .providerFailed)
            #expect(error.message.contains("Version 2"))
            #expect(!error.message.contains("must-not-leak"))
        }

        let slow = try script("slow.sh", "sleep 30\n")
        await #expect(throws: CredentialError.self) {
            try await ProcessCredentialProvider(command: slow, timeout: .milliseconds(200)).credentials()
        }
    }
}
