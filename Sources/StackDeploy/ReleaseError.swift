/// A release or promotion that cannot be made: a ``Kind`` to switch on, a message that says what
/// failed and what to do, and the error underneath, if any.
///
/// It is a type of its own beside ``DeployError`` because it is about code in a repository and a
/// deploy bucket, not about a stack: it has no stack, status or root-cause event.
public struct ReleaseError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is, to switch on.
    public enum Kind: Sendable, Hashable {
        /// A rule refused the release before anything was written: uncommitted changes, a PROD
        /// bucket without permission, credentials of another account, a commit that has not
        /// passed the phase its promotion needs.
        case refused
        /// What the release needs does not exist: a commit, a released manifest, an archive.
        case notFound
        /// A stored release differs from its manifest, or is not a release at all.
        case damaged
        /// `git` could not be run or failed.
        case gitFailed
    }

    /// What kind of failure it is.
    public let kind: Kind
    /// What went wrong and what to do.
    public let description: String
    /// The error underneath, if any.
    public let underlying: (any Error)?

    /// What went wrong and what to do (the same as ``description``).
    public var message: String { description }

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - description: what went wrong and what to do.
    ///   - kind: the kind.
    ///   - underlying: the error underneath, if any.
    public init(_ description: String, kind: Kind, underlying: (any Error)? = nil) {
        self.description = description
        self.kind = kind
        self.underlying = underlying
    }
}
