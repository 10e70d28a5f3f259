import Foundation
import Synchronization

/// Runs an external program to completion with a deadline, collecting its output: the one place
/// the package starts processes (`credential_process`, git, database tools).
package enum ProcessRunner {
    /// What a finished program left behind.
    package struct Output: Sendable {
        /// The exit status.
        package let status: Int32
        /// Everything it printed on standard output.
        package let stdout: Data
        /// Everything it printed on standard error.
        package let stderr: Data

        /// Standard error as trimmed text (at most 500 bytes), for messages.
        package var errorText: String {
            String(decoding: stderr.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Why a program did not finish.
    package enum Failure: Error {
        /// It could not be started.
        case cannotStart(String)
        /// It ran past the deadline and was terminated.
        case timedOut
    }

    /// Runs `executable` with `arguments` (standard input empty) and waits up to `timeout`.
    /// `environment` entries are added to this process's environment and the variables named in
    /// `unsetting` are left out of it.
    package static func run(
        _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:],
        unsetting: Set<String> = [], timeout: Duration
    ) async throws -> Output {
        let (process, stdout, stderr) = try launch(
            executable, arguments, directory: directory, environment: environment, unsetting: unsetting)
        let run = Run(process: process, stdout: stdout, stderr: stderr)
        let watchdog = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            run.terminate(with: Failure.timedOut)
        }
        defer { watchdog.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            run.start(continuation)
        }
    }

    /// Starts `executable` with `arguments`, standard input empty and both outputs on pipes: the
    /// one place a program is started (``run(_:_:directory:environment:timeout:)`` and
    /// ``StreamingProcess``). `environment` entries are added to this process's environment and
    /// the variables named in `unsetting` are left out of it.
    ///
    /// - Throws: ``Failure/cannotStart(_:)``.
    static func launch(
        _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String],
        unsetting: Set<String> = []
    ) throws -> (process: Process, stdout: Pipe, stderr: Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty || !unsetting.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                .filter { !unsetting.contains($0.key) }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do {
            // One launch at a time: Foundation's Process.run() is not safe to call from several
            // threads at once on Linux (the full suite crashed inside it, in a memcpy, while
            // other tests were starting programs). A launch takes milliseconds.
            try start(process)
        } catch {
            throw Failure.cannotStart(error.localizedDescription)
        }
        return (process, stdout, stderr)
    }

    /// Stops `process`: SIGTERM, then SIGKILL if it still runs after `grace`.
    ///
    /// The SIGKILL matters: a program started from a thread of the concurrency pool inherits that
    /// thread's signal mask, with SIGTERM blocked, and would otherwise outlive its timeout.
    package static func stop(_ process: Process, grace: Duration = .seconds(5)) {
        guard process.isRunning else { return }
        process.terminate()
        let pid = process.processIdentifier
        let seconds = Double(grace.components.seconds) + Double(grace.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            if process.isRunning { kill(pid, SIGKILL) }
        }
    }

    /// Held while a program is being started.
    private static let launching = Mutex(())

    /// Starts `process`, set up by the caller (for its own standard streams), under the lock
    /// every launch here takes: Foundation's `Process.run()` must not run on two threads at once.
    package static func start(_ process: Process) throws {
        try launching.withLock { _ in try process.run() }
    }

    /// Blocks the calling thread until `process` has exited and returns its exit status (128 + the
    /// signal's number when a signal ended it).
    ///
    /// Reaps the child itself with `waitpid` instead of `Process.waitUntilExit()`: on Linux,
    /// Foundation sometimes never reaps a child whose own child lives on (`sh -c 'server &'`) and
    /// `waitUntilExit()` then spins at full CPU for ever, with the shell a zombie.
    package static func waitForExit(_ process: Process) -> Int32 {
        let pid = process.processIdentifier
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, 0)
            if result == pid {
                let signal = status & 0x7f
                return signal == 0 ? (status >> 8) & 0xff : 128 + signal
            }
            if result == -1 && errno == EINTR { continue }
            break  // ECHILD: Foundation reaped it first and records the status.
        }
        while process.isRunning { usleep(1000) }
        return process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// One running program: drains both pipes off the cooperative pool (so a chatty program cannot
    /// block on a full pipe) and resumes its caller exactly once, on exit or on timeout.
    private final class Run: @unchecked Sendable {
        let process: Process
        let stdout: Pipe
        let stderr: Pipe
        let state = Mutex<CheckedContinuation<Output, any Error>?>(nil)
        let finished = Mutex(false)

        init(process: Process, stdout: Pipe, stderr: Pipe) {
            self.process = process
            self.stdout = stdout
            self.stderr = stderr
        }

        func start(_ continuation: CheckedContinuation<Output, any Error>) {
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
                let status = ProcessRunner.waitForExit(self.process)
                self.resume(.success(Output(status: status, stdout: outputData, stderr: errorData)))
            }
        }

        func terminate(with error: any Error) {
            ProcessRunner.stop(process)
            resume(.failure(error))
        }

        private func resume(_ result: Result<Output, any Error>) {
            finished.withLock { $0 = true }
            state.withLock { continuation in
                continuation?.resume(with: result)
                continuation = nil
            }
        }
    }
}
