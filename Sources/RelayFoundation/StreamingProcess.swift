import Foundation

/// A running program whose standard output is consumed in fixed-size chunks while it runs
/// (`pg_dump` into a multipart upload, say), with its standard error drained on the side so a
/// chatty program cannot block on a full pipe.
///
/// Output is read on a thread of its own, at most two chunks ahead of the consumer: memory is
/// bounded by three chunks whatever the program writes.
///
/// ```swift
/// let dump = try StreamingProcess.start("/usr/bin/pg_dump", ["--format=custom"], chunkSize: 16 << 20)
/// for try await chunk in dump.chunks {
///     defer { dump.consumed() }
///     try await upload(chunk)
/// }
/// let exit = await dump.exit()   // status and standard error
/// ```
///
/// Stop early with ``terminate()``; the chunk stream then ends.
package final class StreamingProcess: @unchecked Sendable {
    /// How the program ended.
    package struct Exit: Sendable {
        /// The exit status (128 + the signal's number when a signal ended it).
        package let status: Int32
        /// Standard error as trimmed text (at most 500 bytes), for messages.
        package let errorText: String
    }

    /// The program's standard output in chunks of the chosen size (the last may be shorter).
    /// Call ``consumed()`` after each chunk to let the reader go on.
    package let chunks: AsyncThrowingStream<Data, any Error>

    private let process: ChildProcess
    private let permits = DispatchSemaphore(value: 2)
    /// Standard error, written once by its reader before `stderrDone` is signalled and read only
    /// after waiting for it (the semaphore orders the two).
    private nonisolated(unsafe) var stderrData = Data()
    private let stderrDone = DispatchSemaphore(value: 0)

    private init(process: ChildProcess, chunkSize: Int) {
        self.process = process
        let (stdout, stderr) = (process.stdout, process.stderr)
        let permits = self.permits
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Data.self, throwing: (any Error).self)
        self.chunks = stream
        let reader = Thread {
            while true {
                permits.wait()
                var chunk = Data()
                while chunk.count < chunkSize {
                    guard let data = try? stdout.read(upToCount: chunkSize - chunk.count), !data.isEmpty else {
                        break
                    }
                    chunk.append(data)
                }
                if chunk.isEmpty { break }
                continuation.yield(chunk)
                if chunk.count < chunkSize { break }
            }
            continuation.finish()
        }
        reader.start()
        DispatchQueue.global().async { [self] in
            stderrData = stderr.readDataToEndOfFile()
            stderrDone.signal()
        }
    }

    /// Starts `executable` with `arguments`, standard input empty.
    ///
    /// - Parameters:
    ///   - environment: entries added to this process's environment (credentials go here, never
    ///     into `arguments`, which other users of the machine can read).
    ///   - chunkSize: the size of the chunks ``chunks`` yields.
    /// - Throws: ``ProcessRunner/Failure/cannotStart(_:)`` when it cannot be started.
    package static func start(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], chunkSize: Int
    ) throws -> StreamingProcess {
        let child = try ProcessRunner.launch(executable, arguments, environment: environment)
        return StreamingProcess(process: child, chunkSize: max(1, chunkSize))
    }

    /// Whether the program is still running.
    package var isRunning: Bool { process.isRunning }

    /// Lets the reader read one chunk further.
    package func consumed() { permits.signal() }

    /// Waits (off the cooperative pool) until the program has exited and its standard error is
    /// read. Call it once ``chunks`` has ended, or after ``terminate()``.
    package func exit() async -> Exit {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [self] in
                let status = process.waitForExit()
                stderrDone.wait()
                stderrDone.signal()  // a second exit() finds it signalled too
                let errorText = String(decoding: stderrData.prefix(500), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                continuation.resume(returning: Exit(status: status, errorText: errorText))
            }
        }
    }

    /// Stops the program (SIGTERM, then SIGKILL after 5 s) and lets the reader run to the end
    /// of the pipe.
    package func terminate() {
        ProcessRunner.stop(process)
        permits.signal()
        permits.signal()
    }
}
