/// One side of a sync: a local directory or an S3 prefix.
public enum SyncLocation: Sendable, Equatable, CustomStringConvertible {
    /// A local directory.
    case local(String)
    /// Keys under `prefix` in `bucket`; a non-empty prefix ends with `/`, as the AWS CLI treats it.
    case s3(bucket: String, prefix: String)

    /// Parses `s3://bucket/prefix` or a local path.
    ///
    /// - Throws: ``SyncError/invalidArgument(_:)`` for an `s3://` URL without a bucket.
    public init(parsing text: String) throws {
        guard text.hasPrefix("s3://") else {
            var path = text
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            self = .local(path.isEmpty ? "." : path)
            return
        }
        let rest = text.dropFirst("s3://".count)
        let bucket = rest.prefix { $0 != "/" }
        guard !bucket.isEmpty else {
            throw SyncError.invalidArgument("'\(text)' names no bucket; write s3://bucket or s3://bucket/prefix")
        }
        var prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        self = .s3(bucket: String(bucket), prefix: prefix)
    }

    public var description: String {
        switch self {
        case .local(let path): return path
        case .s3(let bucket, let prefix): return "s3://\(bucket)/\(prefix)"
        }
    }
}

/// What the local lister does with symbolic links.
public enum SymlinkPolicy: String, Sendable, Equatable, CaseIterable {
    /// Sync what the link points at (the AWS CLI default); a broken link is reported, not synced.
    case follow
    /// Report links in ``SyncPlan/skipped`` without following them.
    case skip
}
