import Foundation
import Testing

@testable import RelayFoundation

struct StreamingProcessTests {
    @Test func outputArrivesInChunksOfTheChosenSizeAndTheExitCarriesStatusAndStandardError() async throws {
        // 10,000 bytes of output in 4,096-byte chunks: two full chunks and the rest; then exit 3.
        let program = try StreamingProcess.start(
            "/bin/sh", ["-c", "head -c 10000 /dev/zero; echo 'dump failed: disk full' >&2; exit 3"], chunkSize: 4096)
        var sizes: [Int] = []
        for try await chunk in program.chunks {
            defer { program.consumed() }
            sizes.append(chunk.count)
        }
        #expect(sizes == [4096, 4096, 1808])
        let exit = await program.exit()
        #expect(exit.status == 3)
        #expect(exit.errorText == "dump failed: disk full")
    }

    @Test func theReaderStaysAtMostTwoChunksAheadOfTheConsumer() async throws {
        // The program writes 64 chunks' worth; with nothing consumed the reader may hold only two
        // (plus the one in flight), so the program is still blocked on its full pipe.
        let program = try StreamingProcess.start("/bin/sh", ["-c", "head -c 4194304 /dev/zero"], chunkSize: 65536)
        var iterator = program.chunks.makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first?.count == 65536)
        try await Task.sleep(for: .milliseconds(300))
        // Unbounded, the reader would have taken all 4 MiB and the writer would have exited.
        #expect(program.isRunning, "the writer was not held back: the reader ran ahead")
        program.terminate()
        while try await iterator.next() != nil { program.consumed() }
        let exit = await program.exit()
        #expect(exit.status != 0)
    }

    @Test func aProgramThatCannotStartIsATypedFailure() {
        #expect(throws: ProcessRunner.Failure.self) {
            _ = try StreamingProcess.start("/nonexistent/pg_dump", [], chunkSize: 1024)
        }
    }

    /// A program that does not stop on SIGTERM (as one started with it blocked, or one that
    /// ignores it) still ends after its timeout: SIGKILL follows the grace period.
    @Test func aTimedOutProgramThatIgnoresSIGTERMIsKilled() async throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("stubborn-\(UUID()).pid").path
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        await #expect(throws: ProcessRunner.Failure.self) {
            _ = try await ProcessRunner.run(
                "/bin/sh", ["-c", "echo $$ > \"$0\"; trap '' TERM; exec sleep 300", pidFile], timeout: .seconds(1))
        }
        let pid = try #require(
            Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var alive = true
        for _ in 0..<300 where alive {  // up to 30 s: the grace is 5 s
            try await Task.sleep(for: .milliseconds(100))
            alive = kill(pid, 0) == 0
        }
        #expect(!alive, "the program outlived its timeout")
    }
}

