/// Why a data refresh or a snapshot could not go on: a ``Kind`` to switch on, a message that says
/// what failed and what to do, and the error underneath, if there was one.
///
/// ```swift
/// do { try await refresher.refresh() } catch let error as DataRefreshError where error.isRefusal {
///     print("nothing was changed: \(error)")
/// }
/// ```
public struct DataRefreshError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem it is; callers decide on this, never on the message.
    public enum Kind: Sendable, Equatable {
        /// Refused before anything was changed: the target is PROD's, or the settings say PROD.
        case refused
        /// A source to snapshot does not exist (a wrong path, a file system that did not mount).
        case sourceMissing
        /// A source or snapshot is empty, or much smaller than the previous snapshot, where real
        /// data never is; nothing was restored from it and no snapshot was completed with it.
        case unexpectedlyEmpty
        /// What a snapshot holds, or what a refresh restored, differs from the manifest's counts.
        case mismatch
        /// A step failed on the way; the run state says where to resume.
        case failed
    }

    /// The kind of problem.
    public let kind: Kind
    /// What went wrong and what to do.
    public let description: String
    /// The error underneath (a process's, S3's), if any.
    public let underlying: (any Error)?

    /// What went wrong and what to do (the same as ``description``).
    public var message: String { description }

    /// Whether it refused the run before anything was changed (PROD, a missing or empty
    /// source): tools report this with exit status 2. A mismatch can be found after the
    /// applications were stopped, so it counts as a failure (exit 1), like any other.
    public var isRefusal: Bool { [.refused, .sourceMissing, .unexpectedlyEmpty].contains(kind) }

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - description: what went wrong and what to do.
    ///   - kind: the kind, ``Kind/failed`` by default.
    ///   - underlying: the error underneath, if any.
    public init(_ description: String, kind: Kind = .failed, underlying: (any Error)? = nil) {
        self.description = description
        self.kind = kind
        self.underlying = underlying
    }
}
