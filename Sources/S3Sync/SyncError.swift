/// A sync that cannot start or cannot finish, with what to do about it.
///
/// The case is the kind of problem (callers and tests match on it); the text says what was wrong
/// and what to do.
public enum SyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An argument or option is not usable.
    case invalidArgument(String)
    /// A local file or folder could not be read or written.
    case localIO(String)
    /// Downloaded data does not match the checksum the server gave for it.
    case checksumMismatch(String)
    /// The source does not exist (a mistyped path, an unmounted file system). A missing source is
    /// never taken for an empty one.
    case sourceMissing(String)
    /// The source lists nothing while the destination has entries that `--delete` would remove;
    /// refused unless ``SyncOptions/allowEmptySource`` says so.
    case emptySource(String)
    /// The source and destination are the same place or one contains the other.
    case overlap(String)
    /// Another sync is writing into the same local destination.
    case destinationBusy(String)
    /// An object key that cannot be placed below the destination (`..`, `.` or empty segments, a
    /// leading `/`, a NUL byte): the object is refused, never written elsewhere.
    case unsafeKey(String)
    /// The server's listing is not what was asked for (an entry outside the requested prefix).
    case malformedListing(String)

    /// Whether the sync was refused before it changed anything (bad input or a safety rule),
    /// rather than failing on the way: tools report this with exit status 2.
    public var isRefusal: Bool {
        switch self {
        case .invalidArgument, .sourceMissing, .emptySource, .overlap, .destinationBusy: return true
        case .localIO, .checksumMismatch, .unsafeKey, .malformedListing: return false
        }
    }

    public var description: String {
        switch self {
        case .invalidArgument(let message), .localIO(let message), .checksumMismatch(let message),
            .sourceMissing(let message), .emptySource(let message), .overlap(let message),
            .destinationBusy(let message), .unsafeKey(let message), .malformedListing(let message):
            return message
        }
    }
}
