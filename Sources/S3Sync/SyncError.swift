/// A sync that cannot start or cannot finish, with what to do about it.
public enum SyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An argument or option is not usable.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidArgument(let message): return message
        }
    }
}
