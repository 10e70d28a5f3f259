/// A sync that cannot start or cannot finish, with what to do about it.
///
/// Callers and tests switch on ``kind``; ``message`` says what was wrong and what to do, and
/// ``underlying`` holds the error that caused it, where there is one (a file system error, say).
///
/// ```swift
/// do { try await engine.sync() } catch let error as SyncError where error.kind == .destinationBusy {
///     print(error.message)
/// }
/// ```
public struct SyncError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of problem.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// An argument or option is not usable.
        case invalidArgument
        /// A local file or folder could not be read or written.
        case localIO
        /// Downloaded data does not match the checksum the server gave for it.
        case checksumMismatch
        /// The source does not exist (a mistyped path, an unmounted file system). A missing source
        /// is never taken for an empty one.
        case sourceMissing
        /// The source lists nothing while the destination has entries that `--delete` would
        /// remove; refused unless ``SyncOptions/allowEmptySource`` says so.
        case emptySource
        /// The source and destination are the same place or one contains the other.
        case overlap
        /// Another sync is writing into the same local destination.
        case destinationBusy
        /// An object key that cannot be placed below the destination (`..`, `.` or empty
        /// segments, a leading `/`, a NUL byte): the object is refused, never written elsewhere.
        case unsafeKey
        /// The server's listing is not what was asked for (an entry outside the requested prefix).
        case malformedListing
    }

    /// What kind of problem it is.
    public let kind: Kind
    /// What failed and what to do about it.
    public let message: String
    /// The error that caused this one, if any.
    public let underlying: (any Error)?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, underlying: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    /// Whether the sync was refused before it changed anything (bad input or a safety rule),
    /// rather than failing on the way: tools report this with exit status 2.
    public var isRefusal: Bool {
        switch kind {
        case .invalidArgument, .sourceMissing, .emptySource, .overlap, .destinationBusy: return true
        case .localIO, .checksumMismatch, .unsafeKey, .malformedListing: return false
        }
    }

    /// The ``message``.
    public var description: String { message }

    /// Errors are equal when their kind and message are (the underlying error is not compared).
    public static func == (lhs: SyncError, rhs: SyncError) -> Bool {
        lhs.kind == rhs.kind && lhs.message == rhs.message
    }

    /// An ``Kind/invalidArgument`` error.
    public static func invalidArgument(_ message: String) -> SyncError { SyncError(.invalidArgument, message) }
    /// A ``Kind/localIO`` error, with the file system's error when there is one.
    public static func localIO(_ message: String, underlying: (any Error)? = nil) -> SyncError {
        SyncError(.localIO, message, underlying: underlying)
    }
    /// A ``Kind/checksumMismatch`` error.
    public static func checksumMismatch(_ message: String) -> SyncError { SyncError(.checksumMismatch, message) }
    /// A ``Kind/sourceMissing`` error.
    public static func sourceMissing(_ message: String) -> SyncError { SyncError(.sourceMissing, message) }
    /// An ``Kind/emptySource`` error.
    public static func emptySource(_ message: String) -> SyncError { SyncError(.emptySource, message) }
    /// An ``Kind/overlap`` error.
    public static func overlap(_ message: String) -> SyncError { SyncError(.overlap, message) }
    /// A ``Kind/destinationBusy`` error.
    public static func destinationBusy(_ message: String) -> SyncError { SyncError(.destinationBusy, message) }
    /// An ``Kind/unsafeKey`` error.
    public static func unsafeKey(_ message: String) -> SyncError { SyncError(.unsafeKey, message) }
    /// A ``Kind/malformedListing`` error.
    public static func malformedListing(_ message: String) -> SyncError { SyncError(.malformedListing, message) }
}
