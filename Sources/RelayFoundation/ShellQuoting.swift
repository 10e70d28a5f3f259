/// Quoting for POSIX shells, for values put into scripts that run elsewhere (an SSM command on
/// a node).
public enum ShellQuoting {
    /// `value` in single quotes, each `'` in it written as `'\''`: the shell reads it back
    /// exactly, expanding nothing.
    public static func single(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
