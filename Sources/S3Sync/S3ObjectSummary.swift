import Foundation

/// An object in a listing.
public struct S3ObjectSummary: Sendable, Equatable {
    /// The full key.
    public let key: String
    /// The size in bytes.
    public let size: Int64
    /// When it was last written.
    public let lastModified: Date
    /// The ETag, without quotes.
    public let eTag: String
    /// The storage class.
    public let storageClass: String?
}
