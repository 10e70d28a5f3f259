import ArgumentParser
import Foundation

/// The exit statuses every Atlas Relay tool uses: 0 done, 1 failed on the way, 2 bad input or
/// refused before anything was changed.
public enum ToolExit {
    /// Everything asked for was done.
    public static let done: Int32 = 0
    /// Something failed on the way; what was done is reported, and a re-run resumes.
    public static let failed: Int32 = 1
    /// Bad input (a usage error included) or a refusal (a safety rule): nothing was changed.
    public static let refused: Int32 = 2
}

extension AsyncParsableCommand {
    /// Parses the command line, runs the chosen command, and exits with ``ToolExit``'s statuses.
    ///
    /// ArgumentParser's own usage and validation errors (its 64) exit 2; an error that
    /// `isRefusal` accepts is printed as `name: message` and exits 2; any other error exits 1.
    /// An `ExitCode` thrown by a command stands as it is.
    ///
    /// ```swift
    /// static func main() async {
    ///     await runAsTool("s3sync") { ($0 as? SyncError)?.isRefusal == true }
    /// }
    /// ```
    public static func runAsTool(_ name: String, isRefusal: @Sendable (any Error) -> Bool) async -> Never {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
            Foundation.exit(ToolExit.done)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch where isRefusal(error) {
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            Foundation.exit(ToolExit.refused)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code == .validationFailure ? ToolExit.refused : ToolExit.failed)
        }
    }
}
