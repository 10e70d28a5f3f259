import Crypto
import Foundation
import RelayFoundation

/// How a snapshot's database dump is laid out in S3.
public enum DumpFormat: String, Sendable, Codable, Equatable, CaseIterable {
    /// `pg_dump --format=custom`: one archive, streamed to S3 as `pg_dump` writes it, never
    /// staged on disk; one `pg_dump` process. A restore can stream it into `pg_restore`.
    case custom
    /// `pg_dump --format=directory --jobs=N`: a folder of files, one per table, dumped by N
    /// workers in parallel; each table's file is uploaded as soon as `pg_dump` closes it and then
    /// removed, and `toc.dat` (the archive's index) last. A restore downloads the folder
    /// (`pg_restore --jobs` applies); it cannot be streamed.
    case directory
}

/// One file of a directory-format dump (``DumpFormat/directory``), as the snapshot records it.
public struct DumpFile: Sendable, Codable, Equatable {
    /// Its name in the dump folder, for example `toc.dat` or `3456.dat.gz`.
    public var name: String
    /// Its size.
    public var bytes: Int64
    /// Its SHA-256, hex.
    public var sha256: String

    /// Creates a record.
    public init(name: String, bytes: Int64, sha256: String) {
        self.name = name
        self.bytes = bytes
        self.sha256 = sha256
    }

    /// The SHA-256 a snapshot records for a directory dump: of one line per file,
    /// `<sha256> <bytes> <name>\n`, in name order. It names every file's content, so a changed,
    /// added or missing file changes it.
    public static func digest(of files: [DumpFile]) -> String {
        let lines = files.sorted { $0.name < $1.name }.map { "\($0.sha256) \($0.bytes) \($0.name)\n" }.joined()
        return Hex.string(SHA256.hash(data: Data(lines.utf8)))
    }
}

extension DataProvider {
    /// How the databases are dumped.
    public struct DumpOptions: Sendable, Equatable {
        /// The layout: ``DumpFormat/custom`` (one stream, no local disk; the default) or
        /// ``DumpFormat/directory`` (``jobs`` tables at a time).
        public var format: DumpFormat
        /// `pg_dump --jobs` for ``DumpFormat/directory``: each job is one more connection to, and
        /// one more table scan on, the source database at a time. Not used by ``DumpFormat/custom``.
        public var jobs: Int
        /// Where a directory dump is written while it is uploaded. It holds at most the table files
        /// `pg_dump` is writing (each is removed once it is uploaded), `toc.dat` and any large-object
        /// files until the end.
        public var workDirectory: String

        /// Creates options.
        public init(format: DumpFormat = .custom, jobs: Int = 4, workDirectory: String = NSTemporaryDirectory()) {
            self.format = format
            self.jobs = max(1, jobs)
            self.workDirectory = workDirectory
        }
    }
}
