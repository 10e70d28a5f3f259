import Foundation

/// What a release contains: where it came from, every file with its SHA-256, and the archive.
public struct ReleaseManifest: Codable, Sendable, Equatable {
    /// One file of the release.
    public struct File: Codable, Sendable, Equatable {
        /// The path inside the repository.
        public let path: String
        /// Its size in bytes.
        public let size: Int
        /// SHA-256 of its content (of the link target for a symlink), hex.
        public let sha256: String
        /// True for a symbolic link.
        public let symlink: Bool?
    }

    /// The archive in the deploy bucket.
    public struct Archive: Codable, Sendable, Equatable {
        /// Its key.
        public let key: String
        /// Its size in bytes.
        public let size: Int
        /// SHA-256 of the archive, hex.
        public let sha256: String
    }

    /// The commit released (for a working-tree release, git's snapshot commit of it).
    public let commit: String
    /// For a working-tree release, the commit the working tree was based on.
    public let baseCommit: String?
    /// The branch it was released from, when known.
    public let branch: String?
    /// Jira keys from the branch name and the commit messages.
    public let jiraKeys: [String]
    /// The commit's author, `Name <email>`.
    public let author: String
    /// The commit's time.
    public let time: Date
    /// Every file, sorted by path.
    public let files: [File]
    /// The archive.
    public let archive: Archive
    /// The Atlas Relay version that made the release.
    public let toolVersion: String
}
