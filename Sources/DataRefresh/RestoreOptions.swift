import AtlassianAdmin
import Foundation
import S3Sync

extension DataRefresher {
    /// How the restored database is created: encoding, collation and character type, template.
    ///
    /// The defaults are what the products' documentation asks for on PostgreSQL:
    ///
    /// - Jira (``jira``): `ENCODING 'UNICODE' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`, as
    ///   "Connecting Jira applications to PostgreSQL"
    ///   (<https://confluence.atlassian.com/adminjiraserver/connecting-jira-applications-to-postgresql-938846851.html>)
    ///   gives it (`UNICODE` is PostgreSQL's alias of `UTF8`).
    /// - Confluence (``confluence``): UTF-8 encoding with a UTF-8 collation and character type, from
    ///   `template0`: "Database setup for PostgreSQL"
    ///   (<https://confluence.atlassian.com/doc/database-setup-for-postgresql-173244522.html>) asks
    ///   for UTF-8 encoding and collation and warns that other collations, such as `C`, are known to
    ///   cause issues; the KB article "Changing database collation/ctype to UTF-8 breaks pretty
    ///   links" (<https://confluence.atlassian.com/confkb/changing-database-collation-ctype-to-utf-8-breaks-pretty-links-1086419517.html>)
    ///   says why (a `C` ctype does not lower-case non-Latin titles). The locale is the first of
    ///   ``locales`` the server knows: `en_US.UTF-8` (the documentation's example), else `C.UTF-8`
    ///   (a UTF-8 locale every glibc system has; the sandbox's server has no `en_US.UTF-8`).
    ///
    /// `template0` is required to choose an encoding and locale that differ from `template1`'s
    /// (PostgreSQL's `CREATE DATABASE` documentation).
    public struct DatabaseCreation: Sendable, Equatable {
        /// The encoding, for example `UTF8`.
        public var encoding: String
        /// Candidate locales for `LC_COLLATE` and `LC_CTYPE`, in order: the first one the server
        /// accepts is used.
        public var locales: [String]
        /// The template, `template0`.
        public var template: String

        /// Creates a creation recipe.
        public init(encoding: String = "UTF8", locales: [String], template: String = "template0") {
            self.encoding = encoding
            self.locales = locales
            self.template = template
        }

        /// Jira's: UTF-8, `C` collation and character type, `template0`.
        public static let jira = DatabaseCreation(locales: ["C"])
        /// Confluence's: UTF-8, a UTF-8 collation and character type (`en_US.UTF-8`, else
        /// `C.UTF-8`), `template0`.
        public static let confluence = DatabaseCreation(locales: ["en_US.UTF-8", "C.UTF-8"])

        /// The documented recipe for `product`.
        public static func `for`(_ product: Product?) -> DatabaseCreation {
            product == .confluence ? .confluence : .jira
        }
    }

    /// How the dump gets from S3 into `pg_restore`.
    public enum DumpTransfer: String, Sendable, Equatable, CaseIterable {
        /// Download (after checking free space in the work directory) when ``RestoreOptions/jobs``
        /// is more than 1 or the dump is a ``DumpFormat/directory`` one, stream when it is 1. The default.
        case automatic
        /// Download the dump into the work directory first (free space is checked before, and the
        /// dump's SHA-256 before `pg_restore` reads it); `pg_restore --jobs` applies.
        case download
        /// Stream the dump from S3 into `pg_restore` through a pipe: no local copy, so no disk
        /// space is needed, but `pg_restore` reads it in one pass and `--jobs` does not apply (one
        /// job; a ``DumpFormat/directory`` dump cannot be streamed). The SHA-256 is checked when the stream ends, before the restored database is
        /// swapped in: a corrupt dump leaves the target as it was. The process ignores `SIGPIPE`
        /// from then on, so a `pg_restore` that stops early fails the write instead of ending the process.
        case stream
    }

    /// Whether and how the Jira index is rebuilt after the restored Jira is RUNNING.
    public enum ReindexMode: String, Sendable, Equatable, CaseIterable {
        /// A background reindex (`type=BACKGROUND`): Jira stays usable while it runs. The default.
        case background
        /// A foreground reindex (`type=FOREGROUND`): Jira is locked until it ends; faster.
        case foreground
        /// No reindex: Jira keeps whatever index its local home holds (stale after a restore).
        case none
    }

    /// How databases are restored and indexes rebuilt.
    public struct RestoreOptions: Sendable {
        /// `pg_restore --jobs`: the machine's cores by default (`ProcessInfo.activeProcessorCount`).
        public var jobs: Int
        /// How the dump reaches `pg_restore`.
        public var transfer: DumpTransfer
        /// The Jira reindex after start.
        public var reindex: ReindexMode
        /// How long the reindex may take.
        public var reindexTimeout: Duration
        /// How often the reindex's progress is polled.
        public var reindexPollInterval: Duration
        /// The most a shared-home restore may delete from the target's home (files the snapshot
        /// does not have): 20 % of the home or 1000 files, whichever is more, by default, so a
        /// snapshot of a half-mounted home cannot wipe DEV's; `nil` for no limit. A refresh over
        /// the limit fails before deleting anything, and a re-run with a higher limit resumes.
        public var maxDelete: DeleteLimit?
        /// The free bytes in a directory: `statvfs` by default; injectable for tests.
        public var freeSpace: @Sendable (_ directory: String) throws -> Int64

        /// Creates options.
        public init(
            jobs: Int = ProcessInfo.processInfo.activeProcessorCount, transfer: DumpTransfer = .automatic,
            reindex: ReindexMode = .background, reindexTimeout: Duration = .seconds(4 * 3600),
            reindexPollInterval: Duration = .seconds(5), maxDelete: DeleteLimit? = RestoreOptions.defaultMaxDelete,
            freeSpace: @escaping @Sendable (_ directory: String) throws -> Int64 = RestoreOptions.statvfsFreeSpace
        ) {
            self.jobs = max(1, jobs)
            self.transfer = transfer
            self.reindex = reindex
            self.reindexTimeout = reindexTimeout
            self.reindexPollInterval = reindexPollInterval
            self.freeSpace = freeSpace
            self.maxDelete = maxDelete
        }

        /// The default ``maxDelete``: 20 % or 1000 files.
        public static let defaultMaxDelete = DeleteLimit.percentOrCount(20, 1000)

        /// Whether a dump in `format` is streamed (``DumpTransfer/stream``, or
        /// ``DumpTransfer/automatic`` with one job). A ``DumpFormat/directory`` dump is always
        /// downloaded: `pg_restore` reads it only from a folder (a refresh refuses
        /// ``DumpTransfer/stream`` for one before it changes anything).
        public func streams(_ format: DumpFormat) -> Bool {
            guard format == .custom else { return false }
            switch transfer {
            case .automatic: return jobs == 1
            case .download: return false
            case .stream: return true
            }
        }

        /// The bytes a download of a `dumpBytes` dump needs free: the dump and 1 % (at least
        /// 64 MiB) to spare.
        public static func spaceNeeded(forDump dumpBytes: Int64) -> Int64 {
            dumpBytes + max(64 << 20, dumpBytes / 100)
        }

        /// The bytes available to an unprivileged user in `directory`'s file system (`statvfs`).
        public static let statvfsFreeSpace: @Sendable (String) throws -> Int64 = { directory in
            var info = statvfs()
            guard statvfs(directory, &info) == 0 else {
                throw DataRefreshError(
                    "cannot read the free space of \(directory) (errno \(errno)); check the work directory")
            }
            return Int64(info.f_bavail) * Int64(info.f_frsize)
        }
    }
}
