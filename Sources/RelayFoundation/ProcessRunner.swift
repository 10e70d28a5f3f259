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
    /// `unsetting` are left out of it. Cancelling the calling task stops the program and throws
    /// `CancellationError`.
    package static func run(
        _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:],
        unsetting: Set<String> = [], timeout: Duration
    ) async throws -> Output {
        let child = try launch(
            executable, arguments, directory: directory, environment: environment, unsetting: unsetting)
        let run = Run(child: child)
        let watchdog = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            run.terminate(with: Failure.timedOut)
        }
        defer { watchdog.cancel() }
        // A cancelled caller stops the program (SIGTERM, then SIGKILL) instead of waiting for it.
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                run.start(continuation)
            }
        } onCancel: {
            run.terminate(with: CancellationError())
        }
    }

    /// Starts `executable` with `arguments`, standard input empty and both outputs on pipes: the
    /// one place a program is started (``run(_:_:directory:environment:unsetting:timeout:)`` and
    /// ``StreamingProcess``). `environment` entries are added to this process's environment and
    /// the variables named in `unsetting` are left out of it.
    ///
    /// - Throws: ``Failure/cannotStart(_:)``.
    static func launch(
        _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String],
        unsetting: Set<String> = []
    ) throws -> ChildProcess {
        let whole = ProcessInfo.processInfo.environment.merging(environment) { $1 }.filter { !unsetting.contains($0.key) }
        return try ChildProcess.spawn(executable, arguments, directory: directory, environment: whole)
    }

    /// Stops `child`: SIGTERM, then SIGKILL if it still runs after `grace`.
    ///
    /// The SIGKILL is for a program that ignores SIGTERM or is stuck; a child that
    /// ``ChildProcess`` started has SIGTERM unblocked and at its default.
    package static func stop(_ child: ChildProcess, grace: Duration = .seconds(5)) {
        guard child.isRunning else { return }
        child.terminate()
        DispatchQueue.global().asyncAfter(deadline: .now() + grace.seconds) { child.kill() }
    }

    /// One running program: drains both pipes off the cooperative pool (so a chatty program cannot
    /// block on a full pipe) and resumes its caller exactly once, on exit or on timeout.
    private final class Run: @unchecked Sendable {
        let child: ChildProcess
        let state = Mutex<CheckedContinuation<Output, any Error>?>(nil)
        let finished = Mutex(false)

        init(child: ChildProcess) {
            self.child = child
        }

        func start(_ continuation: CheckedContinuation<Output, any Error>) {
            state.withLock { $0 = continuation }
            if finished.withLock({ $0 }) { resume(.failure(CancellationError())) }
            DispatchQueue.global().async {
                let group = DispatchGroup()
                nonisolated(unsafe) var errorData = Data()
                group.enter()
                DispatchQueue.global().async {
                    errorData = self.child.stderr.readDataToEndOfFile()
                    group.leave()
                }
                let outputData = self.child.stdout.readDataToEndOfFile()
                group.wait()
                let status = self.child.waitForExit()
                self.resume(.success(Output(status: status, stdout: outputData, stderr: errorData)))
            }
        }

        func terminate(with error: any Error) {
            ProcessRunner.stop(child)
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
