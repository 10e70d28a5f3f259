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
        /// The target's database server cannot be reached as the admin role: down, a wrong host or
        /// port, or TLS refused (a server that requires TLS with `sslmode=disable`, a certificate
        /// `sslrootcert` does not trust). Found before anything is stopped.
        case databaseUnreachable
        /// The admin role is refused (a wrong password or role) or may not create databases or act
        /// as the owner role, or the owner role does not exist. Found before anything is stopped.
        case databaseRole
        /// The dump was written by a newer `pg_dump` (or archive format) than the local
        /// `pg_restore` reads: install the newer PostgreSQL client. Found before anything is stopped.
        case unsupportedDump
        /// The work directory has too little free space for the dump. Found before anything is
        /// stopped (and again before each download).
        case insufficientDiskSpace
        /// The snapshot's product build differs from the target's (Confluence does not start on a
        /// database of another build; Jira would upgrade or refuse it). Found before anything is stopped.
        case versionMismatch
        /// The Jira reindex after the restore failed or did not finish in time.
        case reindexFailed
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
    /// A wrong role, a dump too new for the local tools or a version mismatch is bad input too
    /// (exit 2); an unreachable server or a full disk is a failure a retry may fix (exit 1).
    public var isRefusal: Bool {
        [.refused, .sourceMissing, .unexpectedlyEmpty, .databaseRole, .unsupportedDump, .versionMismatch]
            .contains(kind)
    }

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
