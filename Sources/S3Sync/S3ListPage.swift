import Foundation

// Only Foundation and the few AWSCore/AWSSigning files it names: the fuzz target
// (`Fuzz/ListingAndSizes`) compiles this file with them alone.
#if canImport(AWSCore)
    import AWSCore
#endif

/// One page of ListObjectsV2.
public struct S3ListPage: Sendable {
    /// The objects, in UTF-8 binary key order.
    public let objects: [S3ObjectSummary]
    /// Common prefixes, when a delimiter was given.
    public let commonPrefixes: [String]
    /// The token for the next page, when there is one.
    public let nextContinuationToken: String?

    /// Reads a ListObjectsV2 answer (`ListBucketResult`), decoding `encoding-type=url` keys.
    ///
    /// Whatever the server sent, this returns a page or throws `AWSClientError` with kind
    /// `malformedResponse`; it never traps (fuzzed in CI).
    public static func parse(_ data: Data, bucket: String) throws -> S3ListPage {
        let root = try XMLNode.parse(data)
        let encoded = root.string("EncodingType") == "url"
        func decode(_ text: String) -> String { encoded ? urlDecode(text) : text }
        let objects = try root.children("Contents").map { node -> S3ObjectSummary in
            guard let key = node.string("Key"), let size = node.string("Size").flatMap(Int64.init), size >= 0,
                let modified = node.string("LastModified").flatMap(ISO8601.parse)
            else {
                throw AWSClientError(
                    .malformedResponse,
                    "ListObjectsV2 on \(bucket) returned an entry without a Key, a Size of 0 or more, or a LastModified"
                )
            }
            return S3ObjectSummary(
                key: decode(key), size: size, lastModified: modified, eTag: unquote(node.string("ETag") ?? ""),
                storageClass: node.string("StorageClass"))
        }
        let truncated = root.string("IsTruncated") == "true"
        let token = root.string("NextContinuationToken")
        if truncated && (token ?? "").isEmpty {
            throw AWSClientError(
                .malformedResponse,
                "ListObjectsV2 on \(bucket) said the listing goes on but gave no continuation token; the listing would be cut short"
            )
        }
        return S3ListPage(
            objects: objects,
            commonPrefixes: root.children("CommonPrefixes").compactMap { $0.string("Prefix") }.map(decode),
            nextContinuationToken: truncated ? token : nil)
    }

    /// An ETag without its quotes.
    static func unquote(_ eTag: String) -> String {
        eTag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }

    /// Decodes a key from `encoding-type=url` listings: `+` is a space, `%2B` a plus.
    static func urlDecode(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }
}
