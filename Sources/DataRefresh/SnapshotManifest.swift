import Foundation

/// What a snapshot holds; written last, so a snapshot without one is incomplete and never
/// restored.
public struct SnapshotManifest: Sendable, Codable, Equatable {
    /// One product's data in the snapshot.
    public struct Product: Sendable, Codable, Equatable {
        /// `jira` or `confluence`.
        public var name: String
        /// The product version, when known.
        public var version: String?
        /// The dump's key, relative to the snapshot: the archive of a custom-format dump, the
        /// folder (ending in `/`) of a directory-format one.
        public var dumpKey: String
        /// The dump's size (of all its files, for a directory-format dump).
        public var dumpBytes: Int64
        /// The dump's SHA-256, hex; for a directory-format dump, ``DumpFile/digest(of:)`` of its files.
        public var dumpSHA256: String
        /// How the database was dumped; nil in snapshots taken before it was recorded, which are
        /// all ``DumpFormat/custom``. ``format`` reads it.
        public var dumpFormat: DumpFormat?
        /// The files of a directory-format dump under ``dumpKey``, each with its size and SHA-256;
        /// nil for a custom-format dump.
        public var dumpFiles: [DumpFile]?
        /// The shared home's manifest (``HomeManifest``), its key relative to the snapshot: every
        /// file with its size, time and SHA-256, whose bytes are in the location's content store.
        public var sharedHomeManifest: String
        /// The home manifest's SHA-256, hex: a refresh checks it before it changes anything.
        public var sharedHomeManifestSHA256: String
        /// Files in the shared home.
        public var sharedHomeObjects: Int
        /// Bytes in the shared home.
        public var sharedHomeBytes: Int64
        /// The product build the database was at when it was dumped: Jira's `jira.version.patched`
        /// (for example `811001` for 8.11.0), Confluence's highest `confversion.buildnumber`
        /// (for example `7109`). A refresh compares it with the target's before it stops anything:
        /// Confluence does not start on a database of another build, and Jira upgrades a
        /// database of an older build or refuses a newer one. Nil in snapshots taken before it was
        /// recorded, or when the database held no build.
        public var buildNumber: Int?
        /// The base URL PROD's database gave itself when it was dumped (Jira's `jira.baseurl`,
        /// Confluence's `<baseUrl>`): the PROD-reference scan of a refresh looks for its host too.
        /// Nil in snapshots taken before it was recorded.
        public var baseURL: String?

        /// How the database was dumped (``dumpFormat``, custom when not recorded).
        public var format: DumpFormat { dumpFormat ?? .custom }
    }

    /// The snapshot id: its UTC time, `yyyyMMdd'T'HHmmss'Z'`, so ids sort by age.
    public var id: String
    /// The environment the data came from.
    public var sourceEnvironment: String
    /// The products.
    public var products: [Product]
    /// The Atlas Relay version that wrote it.
    public var toolVersion: String

    /// The manifest's key under a snapshot.
    public static let fileName = "manifest.json"

    /// A new snapshot id for `date`.
    public static func id(for date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
