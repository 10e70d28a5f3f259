import Foundation

/// The header of a `pg_dump --format=custom` archive: which archive format version it is
/// written in and which PostgreSQL server and `pg_dump` made it.
///
/// Read from the first bytes of a dump (``parse(_:)``), so a refresh can tell before anything is
/// stopped whether the local `pg_restore` can read it: `pg_restore` refuses an archive written
/// by a newer `pg_dump` ("unsupported version (1.16) in file header"). The layout is
/// `pg_backup_archiver.c`'s `ReadHead`: `PGDMP`, the version bytes, the integer and offset sizes,
/// the format, the compression, the creation time, then the database name, the server's
/// version and `pg_dump`'s version as length-prefixed strings (archive version 1.10 and later).
public struct DumpHeader: Sendable, Equatable {
    /// The archive format version, for example `1.14.0` (PostgreSQL 14 and 15 write 1.14, 16
    /// writes 1.15, 17 writes 1.16).
    public var archiveVersion: (major: Int, minor: Int, revision: Int)
    /// The database dumped.
    public var databaseName: String?
    /// The version of the server dumped, for example `15.18`.
    public var serverVersion: String?
    /// The version of the `pg_dump` that wrote it, for example `15.18 (Debian 15.18-0+deb12u1)`.
    public var dumpVersion: String?

    /// The major version of the `pg_dump` that wrote it (`15` for `15.18`, `9` for `9.6.24`).
    public var dumpMajor: Int? { dumpVersion.flatMap(Self.major(of:)) }

    /// The archive version as text, `1.14.0`.
    public var archiveVersionText: String {
        "\(archiveVersion.major).\(archiveVersion.minor).\(archiveVersion.revision)"
    }

    public static func == (lhs: DumpHeader, rhs: DumpHeader) -> Bool {
        lhs.archiveVersion == rhs.archiveVersion && lhs.databaseName == rhs.databaseName
            && lhs.serverVersion == rhs.serverVersion && lhs.dumpVersion == rhs.dumpVersion
    }

    /// The major version in a PostgreSQL version string: `15` for `15.18 (Debian …)`, `9` for
    /// `9.4.11`, nil when it starts with no number.
    public static func major(of version: String) -> Int? {
        Int(version.prefix { $0.isNumber })
    }

    /// Parses the header at the start of `data` (a few kilobytes are plenty).
    ///
    /// - Returns: nil when `data` is not a custom-format archive or ends inside the header.
    public static func parse(_ data: Data) -> DumpHeader? {
        let bytes = [UInt8](data.prefix(64 << 10))
        var index = 0
        func byte() -> Int? {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return Int(bytes[index])
        }
        guard bytes.count > 5, Array(bytes[0..<5]) == Array("PGDMP".utf8) else { return nil }
        index = 5
        guard let major = byte(), let minor = byte() else { return nil }
        var revision = 0
        if major > 1 || minor > 0 { guard let value = byte() else { return nil }; revision = value }
        let version = major * 10_000 + minor * 100 + revision
        guard let intSize = byte(), (1...8).contains(intSize) else { return nil }
        if version >= 1_0700 { guard byte() != nil else { return nil } }  // offset size
        guard byte() != nil else { return nil }  // format
        // ReadInt: a sign byte, then intSize bytes, least significant first.
        func int() -> Int? {
            guard let sign = byte(), index + intSize <= bytes.count else { return nil }
            var value = 0
            for shift in 0..<intSize { value |= Int(bytes[index + shift]) << (8 * shift) }
            index += intSize
            return sign == 0 ? value : -value
        }
        func string() -> String?? {
            guard let length = int() else { return .none }
            if length < 0 { return .some(nil) }
            guard index + length <= bytes.count else { return .none }
            defer { index += length }
            return .some(String(decoding: bytes[index..<(index + length)], as: UTF8.self))
        }
        if version >= 1_1500 {
            guard byte() != nil else { return nil }  // compression algorithm
        } else if version >= 1_0400 {
            guard int() != nil else { return nil }  // compression level
        } else if version >= 1_0200 {
            guard byte() != nil else { return nil }
        }
        var header = DumpHeader(archiveVersion: (major, minor, revision))
        guard version >= 1_0400 else { return header }
        for _ in 0..<7 { guard int() != nil else { return nil } }  // the creation time
        guard let name = string() else { return nil }
        header.databaseName = name
        guard version >= 1_1000 else { return header }
        guard let server = string(), let dump = string() else { return nil }
        header.serverVersion = server
        header.dumpVersion = dump
        return header
    }

    init(
        archiveVersion: (major: Int, minor: Int, revision: Int), databaseName: String? = nil,
        serverVersion: String? = nil, dumpVersion: String? = nil
    ) {
        self.archiveVersion = archiveVersion
        self.databaseName = databaseName
        self.serverVersion = serverVersion
        self.dumpVersion = dumpVersion
    }
}
