import ArgumentParser
import Foundation
import RelayFoundation

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
    /// Parses the command line, runs the chosen command, and exits with ``ToolExit``'s statuses:
    /// the one place a tool turns errors into a message and an exit status.
    ///
    /// A usage error (ArgumentParser's own, its 64) prints ArgumentParser's message and exits 2.
    /// An error the command throws prints `name: message`, URLs redacted
    /// (`URLRedaction`), and exits 2 when it is a `ValidationError` or `isRefusal` accepts it,
    /// 1 otherwise. An `ExitCode` thrown by a command stands as it is.
    ///
    /// ```swift
    /// static func main() async {
    ///     await runAsTool("s3sync") { ($0 as? SyncError)?.isRefusal == true }
    /// }
    /// ```
    public static func runAsTool(_ name: String, isRefusal: @Sendable (any Error) -> Bool) async -> Never {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code == .validationFailure ? ToolExit.refused : ToolExit.failed)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(ToolExit.done)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            // A root command without a default subcommand asks for help from its `run`.
            if exitCode(for: error) == .success { exit(withError: error) }
            FileHandle.standardError.write(Data("\(name): \(URLRedaction.redact("\(error)"))\n".utf8))
            Foundation.exit(error is ValidationError || isRefusal(error) ? ToolExit.refused : ToolExit.failed)
        }
    }
}
