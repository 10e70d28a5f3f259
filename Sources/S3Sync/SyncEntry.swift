import Foundation

/// One file or object in a listing, with the facts the planner compares.
public struct SyncEntry: Sendable, Equatable {
    /// What kind of thing a local entry is.
    public enum Kind: Sendable, Equatable {
        /// A regular file or an S3 object.
        case file
        /// A symbolic link the lister did not follow.
        case symlink
        /// A FIFO, socket or device: never transferred.
        case special
        /// An S3 console "folder" marker (a key ending in `/`): a folder to create in a local
        /// destination, an object like any other between two prefixes.
        case folder
    }

    /// The key relative to the sync root, `/`-separated.
    public let key: SyncKey
    /// The size in bytes.
    public let size: Int64
    /// Local modification time, or S3 `LastModified`.
    public let lastModified: Date
    /// The S3 ETag without quotes (an MD5 only for single-part, non-KMS uploads).
    public var eTag: String?
    /// Content checksums, when known.
    public var checksums: [ContentChecksum]
    /// The entry's kind.
    public var kind: Kind
    /// Where the source side holds this entry's content when that is not at ``key``: a
    /// content-addressed object a manifest points to, or the file a content object is made
    /// from. `nil` (the default) for an entry listed in place.
    public var sourceKey: SyncKey?

    /// Creates an entry.
    public init(
        key: SyncKey, size: Int64, lastModified: Date, eTag: String? = nil, checksums: [ContentChecksum] = [],
        kind: Kind = .file, sourceKey: SyncKey? = nil
    ) {
        self.sourceKey = sourceKey
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.eTag = eTag
        self.checksums = checksums
        self.kind = kind
    }

    /// Where the source side holds the content: ``sourceKey``, or ``key``.
    public var contentKey: SyncKey { sourceKey ?? key }

    /// The checksums this entry's content is known by: its own, and the MD5 its ETag is when the
    /// ETag is a plain MD5 (not a multipart `-N` ETag).
    public var knownChecksums: [ContentChecksum] {
        var known = checksums
        if let eTag, ContentChecksum.isPlainMD5ETag(eTag) {
            known.append(ContentChecksum(.md5, hex: eTag.lowercased()))
        }
        return known
    }
}
