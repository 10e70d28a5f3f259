import Foundation

/// The environment pointer `releases/current.json`: which release an environment runs.
public struct ReleasePointer: Codable, Sendable, Equatable {
    /// The commit.
    public let commit: String
    /// The manifest's key.
    public let manifest: String
    /// The archive's SHA-256.
    public let archiveSHA256: String
    /// When the pointer moved.
    public let releasedAt: Date
}
