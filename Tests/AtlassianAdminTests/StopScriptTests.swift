import AtlasRelayTestSupport
import Foundation
import RelayFoundation
import Testing

/// `scripts/stop-pidfiles.sh`, which `make stop` and the demo's control script use to stop the
/// simulators, run on a folder of PID files in a temporary directory (never the sandbox's).
struct StopScriptTests {
    static let script = Sandbox.repositoryRoot.appendingPathComponent("scripts/stop-pidfiles.sh").path

    /// Starts `sleep 300` in the background, with `name` as its argv[0] as the simulators'
    /// command lines read, and `prefix` run first by its shell (`trap '' TERM`, say); returns its
    /// PID. SIGTERM is reset to its default first: the test runner may have it ignored.
    static func spawn(as name: String, prefix: String = "") async throws -> Int32 {
        let shell = "\(prefix) exec -a \(name) sleep 300"
        let output = try await ProcessRunner.run(
            "/bin/bash",
            ["-c", "env --default-signal=TERM bash -c \"\(shell)\" </dev/null >/dev/null 2>&1 & echo $!"],
            timeout: .seconds(10))
        return try #require(
            Int32(String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// Whether `pid` is a live process (a zombie is not).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.range(of: ") ", options: .backwards)
        else { return false }
        return !stat[end.upperBound...].hasPrefix("Z")
    }

    static func waitForExit(_ pid: Int32, within limit: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while isAlive(pid) && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        return !isAlive(pid)
    }

    @Test func stalePIDFilesAreRemovedAndOnlyMatchingProcessesStopped() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: folder.appendingPathComponent("\(name).pid"))
        }

        // A simulator that is gone, as after a failed `make demo`.
        let gone = try await Self.spawn(as: "atlassian-simulator")
        kill(gone, SIGKILL)
        #expect(await Self.waitForExit(gone))
        try write("dev-jira", "\(gone)\n")
        // A running simulator, a PID that now belongs to another program, and garbage.
        let running = try await Self.spawn(as: "atlassian-simulator")
        let stranger = try await Self.spawn(as: "someone-elses-server")
        defer { kill(stranger, SIGKILL) }
        try write("dev-confluence", "\(running)\n")
        try write("uat-jira", "\(stranger)\n")
        try write("uat-confluence", "")

        let output = try await ProcessRunner.run(
            "/bin/bash", [Self.script, "atlassian-simulator", folder.path], timeout: .seconds(60))
        let text = String(decoding: output.stdout + output.stderr, as: UTF8.self)
        #expect(output.status == 0, "\(text)")
        #expect(await Self.waitForExit(running), "the running simulator was stopped")
        #expect(Self.isAlive(stranger), "a process that is not a simulator is left alone")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(left.isEmpty, "every PID file is removed: \(left)")

        // Nothing to do is not a failure; a missing folder neither.
        let again = try await ProcessRunner.run(
            "/bin/bash", [Self.script, "atlassian-simulator", folder.path, folder.path + "-missing"],
            timeout: .seconds(60))
        #expect(again.status == 0)
    }

    @Test func aProcessThatIgnoresSIGTERMIsKilledAfterTheGracePeriod() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let stubborn = try await Self.spawn(as: "atlassian-simulator", prefix: "trap '' TERM;")
        defer { kill(stubborn, SIGKILL) }
        try Data("\(stubborn)".utf8).write(to: folder.appendingPathComponent("prod-jira.pid"))

        let output = try await ProcessRunner.run(
            "/bin/bash", [Self.script, "atlassian-simulator", folder.path], environment: ["STOP_GRACE": "1"],
            timeout: .seconds(60))
        #expect(output.status == 0, "\(String(decoding: output.stderr, as: UTF8.self))")
        #expect(await Self.waitForExit(stubborn))
    }
}
