/// A sync that cannot start or cannot finish, with what to do about it.
public enum SyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An argument or option is not usable.
    case invalidArgument(String)
    /// A local file or folder could not be read or written.
    case localIO(String)
    /// Downloaded data does not match the checksum the server gave for it.
    case checksumMismatch(String)

    public var description: String {
        switch self {
        case .invalidArgument(let message), .localIO(let message), .checksumMismatch(let message): return message
        }
    }
}
