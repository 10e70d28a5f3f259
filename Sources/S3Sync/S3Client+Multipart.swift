import AWSCore
import Foundation
import NIOCore
import NIOHTTP1

extension S3Client {
    /// A part that was uploaded, for ``completeMultipartUpload(bucket:key:uploadId:parts:)``.
    public struct CompletedPart: Sendable, Equatable {
        /// The part number, 1 to 10,000.
        public let partNumber: Int
        /// The part's ETag, without quotes.
        public let eTag: String
        /// The part's CRC32C as S3 confirmed it (base64), sent back in the completion.
        public let checksumCRC32C: String?

        /// A part, as S3 answered for it.
        public init(partNumber: Int, eTag: String, checksumCRC32C: String? = nil) {
            self.partNumber = partNumber
            self.eTag = eTag
            self.checksumCRC32C = checksumCRC32C
        }
    }

    /// An upload that was started and neither completed nor aborted, as ListMultipartUploads
    /// reports it.
    public struct PendingUpload: Sendable, Equatable {
        /// The key.
        public let key: String
        /// The upload id.
        public let uploadId: String
        /// When it was started, by the server's clock (`nil` when the server did not say).
        public let initiated: Date?

        /// An upload as listed.
        public init(key: String, uploadId: String, initiated: Date?) {
            self.key = key
            self.uploadId = uploadId
            self.initiated = initiated
        }
    }

    /// The most parts one upload may have.
    public static let maximumParts = 10_000
    /// The smallest part S3 accepts, except for the last one.
    public static let minimumPartSize: Int64 = 5 << 20
    /// The largest part S3 accepts.
    public static let maximumPartSize: Int64 = 5 << 30

    /// The part size for an object of `size` bytes: `preferred` (at least 5 MiB), raised in whole
    /// MiB until the object fits in 10,000 parts.
    public static func partSize(for size: Int64, preferred: Int64 = 8 << 20) -> Int64 {
        var part = max(preferred, minimumPartSize)
        let needed = (size + Int64(maximumParts) - 1) / Int64(maximumParts)
        if needed > part { part = ((needed + (1 << 20) - 1) >> 20) << 20 }
        return min(part, maximumPartSize)
    }

    /// Starts a multipart upload.
    ///
    /// The upload declares CRC32C (`x-amz-checksum-algorithm`), as the AWS SDKs do: every part is
    /// sent with its CRC32C for S3 to verify, the completion lists them, and S3 keeps a composite
    /// CRC32C of the object. CRC32C costs a fraction of the CPU of `Content-MD5`.
    ///
    /// - Returns: the upload id.
    public func createMultipartUpload(bucket: String, key: String, options: WriteOptions = WriteOptions()) async throws
        -> String
    {
        var headers = HTTPHeaders()
        options.apply(to: &headers)
        headers.add(name: "x-amz-checksum-algorithm", value: "CRC32C")
        let response = try await send(
            AWSRequest(
                service: .s3, operation: "CreateMultipartUpload", method: .POST, path: "/" + S3Path.encodeKey(key),
                query: [("uploads", "")], headers: headers, bucket: bucket, isIdempotent: true))
        guard let uploadId = try XMLNode.parse(response.data).string("UploadId") else {
            throw AWSClientError(.malformedResponse, "CreateMultipartUpload for \(key) answered without an UploadId")
        }
        return uploadId
    }

    /// Uploads one part from memory, with its CRC32C for S3 to verify.
    public func uploadPart(bucket: String, key: String, uploadId: String, partNumber: Int, data: ByteBuffer)
        async throws
        -> CompletedPart
    {
        var crc = CRC32C()
        crc.update(data.readableBytesView)
        var headers = HTTPHeaders()
        headers.add(name: "x-amz-checksum-crc32c", value: crc.base64)
        let response = try await send(
            AWSRequest(
                service: .s3, operation: "UploadPart", method: .PUT, path: "/" + S3Path.encodeKey(key),
                query: [("partNumber", String(partNumber)), ("uploadId", uploadId)], headers: headers,
                body: .unsignedBytes(data),
                bucket: bucket))
        return CompletedPart(
            partNumber: partNumber, eTag: Self.unquote(response.headers.first(name: "ETag") ?? ""),
            checksumCRC32C: crc.base64)
    }

    /// Copies a byte range of another object into one part, server-side.
    public func uploadPartCopy(
        bucket: String, key: String, uploadId: String, partNumber: Int, sourceBucket: String, sourceKey: String,
        range: ClosedRange<Int64>
    ) async throws -> CompletedPart {
        var headers = HTTPHeaders()
        headers.add(name: "x-amz-copy-source", value: "/\(sourceBucket)/\(S3Path.encodeKey(sourceKey))")
        headers.add(name: "x-amz-copy-source-range", value: "bytes=\(range.lowerBound)-\(range.upperBound)")
        let response = try await send(
            AWSRequest(
                service: .s3, operation: "UploadPartCopy", method: .PUT, path: "/" + S3Path.encodeKey(key),
                query: [("partNumber", String(partNumber)), ("uploadId", uploadId)], headers: headers, bucket: bucket))
        let root = try XMLNode.parse(response.data)
        if root.name == "Error" {
            throw Self.embeddedError(root, operation: "UploadPartCopy", status: Int(response.status.code))
        }
        return CompletedPart(
            partNumber: partNumber, eTag: Self.unquote(root.string("ETag") ?? ""),
            checksumCRC32C: root.string("ChecksumCRC32C"))
    }

    /// Completes an upload from its parts (sorted by number here).
    ///
    /// S3 can answer 200 and still fail, with an `<Error>` body; that is thrown as an error.
    /// - Returns: the object's ETag (`<md5-of-md5s>-<parts>`).
    @discardableResult
    public func completeMultipartUpload(bucket: String, key: String, uploadId: String, parts: [CompletedPart])
        async throws
        -> String
    {
        var xml = XMLWriter()
        xml.element("CompleteMultipartUpload", attributes: [("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/")]) {
            upload in
            for part in parts.sorted(by: { $0.partNumber < $1.partNumber }) {
                upload.element("Part") { element in
                    element.element("PartNumber", text: String(part.partNumber))
                    element.element("ETag", text: "\"\(part.eTag)\"")
                    if let crc = part.checksumCRC32C { element.element("ChecksumCRC32C", text: crc) }
                }
            }
        }
        let response = try await send(
            AWSRequest(
                service: .s3, operation: "CompleteMultipartUpload", method: .POST, path: "/" + S3Path.encodeKey(key),
                query: [("uploadId", uploadId)], body: .data(xml.data), bucket: bucket, isIdempotent: true))
        let root = try XMLNode.parse(response.data)
        if root.name == "Error" {
            throw Self.embeddedError(root, operation: "CompleteMultipartUpload", status: Int(response.status.code))
        }
        return Self.unquote(root.string("ETag") ?? "")
    }

    /// Abandons an upload and frees its parts; an upload already gone (`NoSuchUpload`) is not an error.
    ///
    /// - Parameters:
    ///   - bucket: the bucket.
    ///   - key: the object key the upload writes.
    ///   - uploadId: the upload, as created.
    ///   - giveUpAfter: the most the request may take over all its attempts
    ///     (`AWSRequest.giveUpAfter`); `nil` leaves it to the retry policy.
    public func abortMultipartUpload(bucket: String, key: String, uploadId: String, giveUpAfter: Duration? = nil)
        async throws
    {
        do {
            _ = try await send(
                AWSRequest(
                    service: .s3, operation: "AbortMultipartUpload", method: .DELETE, path: "/" + S3Path.encodeKey(key),
                    query: [("uploadId", uploadId)], bucket: bucket, giveUpAfter: giveUpAfter))
        } catch let error as AWSServiceError where error.code == "NoSuchUpload" {
            return  // already gone
        }
    }

    /// Every upload started under `prefix` and neither completed nor aborted, page by page
    /// (ListMultipartUploads; a truncated page is followed by its `NextKeyMarker` and
    /// `NextUploadIdMarker`, or, from servers that page by upload id alone and send only
    /// `NextUploadIdMarker` (SeaweedFS), by that).
    ///
    /// Needs `s3:ListBucketMultipartUploads` on the bucket.
    /// - Parameters:
    ///   - bucket: the bucket.
    ///   - prefix: only uploads of keys starting with this.
    ///   - maxUploads: at most this many uploads a page (S3 caps at 1000).
    ///   - giveUpAfter: the most each page may take over all its attempts.
    /// - Throws: `AWSClientError` with kind `malformedResponse` for an upload without a key or an
    ///   id, or a page that says the listing goes on without new markers (it would never end).
    public func listMultipartUploads(
        bucket: String, prefix: String = "", maxUploads: Int? = nil, giveUpAfter: Duration? = nil
    ) async throws -> [PendingUpload] {
        var all: [PendingUpload] = []
        var markers: [(name: String, value: String)] = []
        while true {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", prefix)]
            if let maxUploads { query.append(("max-uploads", String(maxUploads))) }
            let response = try await send(
                AWSRequest(
                    service: .s3, operation: "ListMultipartUploads", path: "/", query: query + markers,
                    bucket: bucket, giveUpAfter: giveUpAfter))
            let root = try XMLNode.parse(response.data)
            all += try root.children("Upload").map { node in
                guard let key = node.string("Key"), let uploadId = node.string("UploadId") else {
                    throw AWSClientError(
                        .malformedResponse,
                        "ListMultipartUploads on \(bucket) returned an upload without a Key or an UploadId")
                }
                return PendingUpload(
                    key: key, uploadId: uploadId, initiated: node.string("Initiated").flatMap(ISO8601.parse))
            }
            guard root.string("IsTruncated") == "true" else { return all }
            let next = [
                ("key-marker", root.string("NextKeyMarker")), ("upload-id-marker", root.string("NextUploadIdMarker")),
            ]
            .compactMap { name, value in value.flatMap { $0.isEmpty ? nil : (name: name, value: $0) } }
            guard !next.isEmpty, !next.elementsEqual(markers, by: { $0 == $1 }) else {
                throw AWSClientError(
                    .malformedResponse,
                    "ListMultipartUploads on \(bucket) said the listing goes on but gave no new NextKeyMarker or NextUploadIdMarker; the listing would never end"
                )
            }
            markers = next
        }
    }
}
