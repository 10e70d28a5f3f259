import ArgumentParser
import Foundation

/// The exit statuses every Atlas Relay tool uses, so a CodeBuild step can gate on them alike.
public enum ToolExit {
    /// Done: the tool did what it was asked.
    public static let done: Int32 = 0
    /// Failed: a request, a test, a transfer or the database failed; a retry may help.
    public static let failed: Int32 = 1
    /// Bad input or refused: a flag, a URL or a file is wrong (flags the parser rejects too), or
    /// the tool refused (PROD, say); fix the input, a retry will not help.
    public static let badInput: Int32 = 2

    /// The convention in words, for each tool's `--help`.
    public static let convention =
        "Exit status: 0 done; 1 failed (a request, test or database failed: a retry may help); "
        + "2 bad input or refused (fix the flags, URL or file)."
}

/// An `@main` command that exits as ``ToolExit`` says: ArgumentParser's 64 for a rejected flag
/// (and for a `ValidationError` thrown while running) becomes 2; help and `ExitCode`s pass through.
///
/// ```swift
/// @main
/// struct MyTool: RelayTool { ... }
/// ```
public protocol RelayTool: AsyncParsableCommand {}

extension RelayTool {
    /// Parses the arguments, runs the chosen command, and exits with the convention's status.
    public static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ToolExit.badInput)
            }
            exit(withError: error)
        }
    }
}
