import Foundation

/// A release read back from a deploy bucket and checked against its manifest: the archive's
/// SHA-256 and every file's. What the deployers deploy, so that what reaches an environment is
/// byte for byte what was released (and, after promotion, what passed the earlier phase), never
/// what a checkout holds today.
///
/// ```swift
/// let release = try await CodeReleaser.verifiedRelease(of: commit, in: bucket)
/// let template = try release.text(of: "cloudformation/jira.yaml")
/// ```
public struct VerifiedRelease: Sendable {
    /// The release's manifest.
    public let manifest: ReleaseManifest
    /// Where it was read from (`s3://bucket`).
    public let location: String
    /// The regular files by path inside the repository.
    let files: [String: Data]
    /// The archive's bytes, as verified.
    let archive: Data

    /// The file at `path` (relative to the repository's root) as UTF-8 text.
    ///
    /// - Throws: ``ReleaseError`` of kind ``ReleaseError/Kind/notFound`` when the release does
    ///   not hold that file (or holds it as a symlink).
    public func text(of path: String) throws -> String {
        var relative = path
        while relative.hasPrefix("./") { relative.removeFirst(2) }
        guard let data = files[relative] else {
            throw ReleaseError(
                "release \(manifest.commit.prefix(12)) in \(location) has no file \(relative); "
                    + "commit it and release again, or correct the path in the config", kind: .notFound)
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension VerifiedRelease {
    /// Writes the release's regular files under `directory` (symlinks are left out), so a phase
    /// can run on the commit's own config and templates without a repository.
    ///
    /// Files of the same paths already there are replaced; nothing is written outside
    /// `directory`, whatever the archive's paths say.
    ///
    /// - Throws: ``ReleaseError`` of kind ``ReleaseError/Kind/damaged`` for a path that is
    ///   absolute or climbs out with `..`, or a write that fails.
    public func write(to directory: String) throws {
        let root = URL(fileURLWithPath: directory).standardized
        for (path, data) in files.sorted(by: { $0.key < $1.key }) {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.hasPrefix("/"), !parts.contains(".."), !parts.isEmpty else {
                throw ReleaseError(
                    "release \(manifest.commit.prefix(12)) in \(location) holds the path '\(path)', which leaves its folder; "
                        + "nothing was written for it", kind: .damaged)
            }
            let file = root.appendingPathComponent(path).standardized
            guard file.path.hasPrefix(root.path + "/") else {
                throw ReleaseError("'\(path)' would be written outside \(root.path)", kind: .damaged)
            }
            do {
                try FileManager.default.createDirectory(
                    at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: file, options: .atomic)
            } catch {
                throw ReleaseError("cannot write \(file.path): \(error)", kind: .damaged, underlying: error)
            }
        }
    }
}

extension CodeReleaser {
    /// Reads `commit`'s release from `bucket` and checks it against its manifest.
    ///
    /// - Throws: ``ReleaseError``: ``ReleaseError/Kind/notFound`` when the commit was never
    ///   released there or its archive is missing; ``ReleaseError/Kind/damaged`` when the
    ///   manifest is not one or the archive does not match it.
    public static func verifiedRelease(of commit: String, in bucket: DeployBucket) async throws -> VerifiedRelease {
        guard let manifest = try await manifest(of: commit, in: bucket) else {
            throw ReleaseError(
                "\(commit) was never released to \(bucket.location) (no \(manifestKey(commit))); check the COMMIT_ID",
                kind: .notFound)
        }
        guard let archive = try await bucket.s3.getObjectData(bucket: bucket.bucket, key: manifest.archive.key) else {
            throw ReleaseError(
                "\(bucket.location)/\(manifest.archive.key) is missing; release \(commit) again", kind: .notFound)
        }
        try verify(archive, against: manifest, at: bucket.location)
        var files: [String: Data] = [:]
        for entry in try TarArchive.entries(archive) where !entry.isSymlink { files[entry.path] = entry.content }
        return VerifiedRelease(manifest: manifest, location: bucket.location, files: files, archive: archive)
    }
}
