import AWSCore
import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RelayFoundation

/// Amazon S3 operations for syncing: listing, objects, deletion and multipart uploads.
///
/// Requests go through AWSCore's `AWSClient` (signing, retries, endpoints); keys are carried as
/// bytes (percent-encoded once), so any key S3 accepts round-trips exactly.
public struct S3Client: Sendable {
    /// The transport.
    public let aws: AWSClient
    /// The account that must own every bucket this client touches, sent as
    /// `x-amz-expected-bucket-owner`: S3 answers 403 instead of reading or writing a bucket of
    /// another account (for example a deploy bucket name that points at the wrong account).
    public let expectedBucketOwner: String?

    /// Creates a client.
    public init(_ aws: AWSClient, expectedBucketOwner: String? = nil) {
        self.aws = aws
        self.expectedBucketOwner = expectedBucketOwner
    }

    /// A client configured the way the AWS CLI is: credentials from `profile` or the default
    /// chain, the region from `region`, `AWS_REGION` or the profile (else us-east-1), and the
    /// endpoint from `endpoint`, `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`.
    public static func configured(
        region: String? = nil, profile: String? = nil, endpoint: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
    ) -> S3Client {
        let credentials: any CredentialProvider =
            profile.map { ProfileCredentialProvider(profile: $0, environment: environment) }
            ?? CredentialProviderChain.default(environment: environment)
        let region = region ?? RegionResolver.region(environment: environment, profile: profile) ?? "us-east-1"
        return S3Client(
            AWSClient(
                region: region, credentialProvider: credentials,
                endpoints: EndpointResolver(explicitEndpoint: endpoint, environment: environment), logger: logger))
    }

    /// Sends `request` with the bucket-owner condition when one is set.
    func send(_ request: AWSRequest) async throws -> AWSResponse {
        try await aws.execute(owned(request))
    }

    private func owned(_ request: AWSRequest) -> AWSRequest {
        guard let owner = expectedBucketOwner else { return request }
        var request = request
        request.headers.replaceOrAdd(name: "x-amz-expected-bucket-owner", value: owner)
        return request
    }

    /// Server-side encryption for written objects.
    public enum ServerSideEncryption: Sendable, Equatable {
        /// SSE-S3.
        case aes256
        /// SSE-KMS, with the account's default key when `keyId` is `nil`.
        case kms(keyId: String?)
    }

    /// Settings applied to every object written.
    public struct WriteOptions: Sendable, Equatable {
        /// Server-side encryption.
        public var encryption: ServerSideEncryption?
        /// The storage class, for example `STANDARD_IA`.
        public var storageClass: String?
        /// A canned ACL; `bucket-owner-full-control` for writes into another account's bucket.
        public var acl: String?
        /// User metadata (`x-amz-meta-*`).
        public var metadata: [String: String]
        /// The content type.
        public var contentType: String?

        /// Creates options.
        public init(
            encryption: ServerSideEncryption? = nil, storageClass: String? = nil, acl: String? = nil,
            metadata: [String: String] = [:], contentType: String? = nil
        ) {
            self.encryption = encryption
            self.storageClass = storageClass
            self.acl = acl
            self.metadata = metadata
            self.contentType = contentType
        }

        /// The canned ACL for cross-account writes.
        public static let bucketOwnerFullControl = "bucket-owner-full-control"

        func apply(to headers: inout HTTPHeaders) {
            switch encryption {
            case .aes256?:
                headers.add(name: "x-amz-server-side-encryption", value: "AES256")
            case .kms(let keyId)?:
                headers.add(name: "x-amz-server-side-encryption", value: "aws:kms")
                if let keyId { headers.add(name: "x-amz-server-side-encryption-aws-kms-key-id", value: keyId) }
            case nil:
                break
            }
            if let storageClass { headers.add(name: "x-amz-storage-class", value: storageClass) }
            if let acl { headers.add(name: "x-amz-acl", value: acl) }
            if let contentType { headers.add(name: "Content-Type", value: contentType) }
            for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
                headers.add(name: "x-amz-meta-\(name)", value: value)
            }
        }
    }

    /// An object in a listing.
    public typealias ObjectSummary = S3ObjectSummary

    /// One page of ListObjectsV2.
    public typealias ListPage = S3ListPage

    /// Lists one page of objects.
    ///
    /// - Parameters:
    ///   - bucket: the bucket.
    ///   - prefix: only keys starting with this.
    ///   - delimiter: group keys by this (usually `/`) into ``S3ListPage/commonPrefixes``.
    ///   - startAfter: only keys after this one.
    ///   - continuationToken: the previous page's ``S3ListPage/nextContinuationToken``.
    ///   - maxKeys: at most this many keys (S3 caps at 1000).
    ///   - giveUpAfter: the most the page may take over all its attempts (`AWSRequest.giveUpAfter`).
    public func listObjectsV2(
        bucket: String, prefix: String = "", delimiter: String? = nil, startAfter: String? = nil,
        continuationToken: String? = nil, maxKeys: Int? = nil, giveUpAfter: Duration? = nil
    ) async throws -> ListPage {
        var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix)]
        if let delimiter { query.append(("delimiter", delimiter)) }
        if let startAfter { query.append(("start-after", startAfter)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        query.append(("encoding-type", "url"))
        let response = try await send(
            AWSRequest(
                service: .s3, operation: "ListObjectsV2", path: "/", query: query, bucket: bucket,
                giveUpAfter: giveUpAfter))
        return try S3ListPage.parse(response.data, bucket: bucket)
    }

    /// Every object under `prefix`, page by page; with `giveUpAfter`, each page gives up after that
    /// long without an answer (a hanging or unreachable server), however long the whole listing runs.
    public func listAllObjects(bucket: String, prefix: String = "", giveUpAfter: Duration? = nil) async throws
        -> [ObjectSummary]
    {
        var all: [ObjectSummary] = []
        var token: String?
        repeat {
            let page = try await listObjectsV2(
                bucket: bucket, prefix: prefix, continuationToken: token, giveUpAfter: giveUpAfter)
            all.append(contentsOf: page.objects)
            if let next = page.nextContinuationToken, next == token {
                throw AWSClientError(
                    .malformedResponse,
                    "listing s3://\(bucket)/\(prefix) returned the same continuation token twice; the server is looping, so the listing cannot be finished"
                )
            }
            token = page.nextContinuationToken
        } while token != nil
        return all
    }

    /// What HeadObject and GetObject report about an object.
    public struct ObjectHead: Sendable, Equatable {
        /// The size in bytes (of the whole object, also for ranged reads).
        public let size: Int64
        /// When it was last written.
        public let lastModified: Date?
        /// The ETag, without quotes.
        public let eTag: String
        /// User metadata, names without `x-amz-meta-`.
        public let metadata: [String: String]
        /// The checksums S3 reported (`x-amz-checksum-*`, with checksum mode enabled).
        public let checksums: [ContentChecksum]
        /// The storage class (absent for STANDARD).
        public let storageClass: String?
        /// The server-side encryption in force.
        public let serverSideEncryption: String?

        init(headers: HTTPHeaders, size: Int64? = nil) {
            let rangeTotal = headers.first(name: "Content-Range")?.split(separator: "/").last.flatMap { Int64($0) }
            self.size = size ?? rangeTotal ?? headers.first(name: "Content-Length").flatMap(Int64.init) ?? 0
            self.lastModified = headers.first(name: "Last-Modified").flatMap(HTTPDate.parse)
            self.eTag = S3Client.unquote(headers.first(name: "ETag") ?? "")
            var metadata: [String: String] = [:]
            for header in headers where header.name.lowercased().hasPrefix("x-amz-meta-") {
                metadata[String(header.name.lowercased().dropFirst("x-amz-meta-".count))] = header.value
            }
            self.metadata = metadata
            var checksums: [ContentChecksum] = []
            if let crc = headers.first(name: "x-amz-checksum-crc32c"), let hex = S3Client.base64ToHex(crc) {
                checksums.append(ContentChecksum(.crc32c, hex: hex))
            }
            if let sha = headers.first(name: "x-amz-checksum-sha256"), let hex = S3Client.base64ToHex(sha) {
                checksums.append(ContentChecksum(.sha256, hex: hex))
            }
            self.checksums = checksums
            self.storageClass = headers.first(name: "x-amz-storage-class")
            self.serverSideEncryption = headers.first(name: "x-amz-server-side-encryption")
        }
    }

    /// The object's metadata, or `nil` when there is no such key.
    public func headObject(bucket: String, key: String) async throws -> ObjectHead? {
        var headers = HTTPHeaders()
        headers.add(name: "x-amz-checksum-mode", value: "ENABLED")
        do {
            let response = try await send(
                AWSRequest(
                    service: .s3, operation: "HeadObject", method: .HEAD, path: "/" + S3Path.encodeKey(key),
                    headers: headers, bucket: bucket))
            return ObjectHead(headers: response.headers)
        } catch let error as AWSServiceError where error.statusCode == 404 {
            return nil
        }
    }

    /// Reads an object (or a byte range of it) and hands its body, still streaming, to `body`.
    ///
    /// - Parameters:
    ///   - bucket: the bucket.
    ///   - key: the object key.
    ///   - range: the bytes to read, inclusive; the whole object when `nil`.
    ///   - body: consumes the head and the body's buffers; not retried if it throws.
    public func getObject<T: Sendable>(
        bucket: String, key: String, range: ClosedRange<Int64>? = nil,
        body: (ObjectHead, HTTPClientResponse.Body) async throws -> T
    ) async throws -> T {
        try await aws.execute(getObjectRequest(bucket: bucket, key: key, range: range)) { response in
            try await body(ObjectHead(headers: response.headers), response.body)
        }
    }

    /// Reads an object (or a byte range of it) into `receiver`, which takes the body on the
    /// connection's event loop: the bulk-download path, without a task switch per network read.
    ///
    /// - Returns: what the receiver made of the body.
    public func getObject<Receiver: AWSBodyReceiver>(
        bucket: String, key: String, range: ClosedRange<Int64>? = nil, receiver: Receiver
    ) async throws -> Receiver.Result {
        try await aws.execute(getObjectRequest(bucket: bucket, key: key, range: range), receiver: receiver)
    }

    private func getObjectRequest(bucket: String, key: String, range: ClosedRange<Int64>?) -> AWSRequest {
        var headers = HTTPHeaders()
        headers.add(name: "x-amz-checksum-mode", value: "ENABLED")
        if let range { headers.add(name: "Range", value: "bytes=\(range.lowerBound)-\(range.upperBound)") }
        return owned(
            AWSRequest(
                service: .s3, operation: "GetObject", path: "/" + S3Path.encodeKey(key), headers: headers,
                bucket: bucket))
    }

    /// A whole (small) object in memory, or `nil` when there is no such key.
    ///
    /// - Parameters:
    ///   - bucket: the bucket.
    ///   - key: the object key.
    ///   - limit: the most bytes accepted; a larger object is an error.
    public func getObjectData(bucket: String, key: String, limit: Int = 1 << 30) async throws -> Data? {
        do {
            return try await getObject(bucket: bucket, key: key) { _, body in
                Data(try await body.collect(upTo: limit).readableBytesView)
            }
        } catch let error as AWSServiceError where error.statusCode == 404 {
            return nil
        }
    }

    /// The object's URL at this client's endpoint (path-style for custom endpoints), for example
    /// a CloudFormation `TemplateURL`.
    public func objectURL(bucket: String, key: String) throws -> String {
        let base = try aws.endpoints.endpoint(for: .s3, region: aws.region)
        let address = aws.endpoints.s3Address(bucket: bucket, encodedKey: S3Path.encodeKey(key), endpoint: base)
        return address.endpoint.url(path: address.path, query: "")
    }

    /// Writes an object from memory, sending CRC32C and Content-MD5 so S3 verifies what it stores.
    ///
    /// - Returns: the new object's ETag.
    @discardableResult
    public func putObject(
        bucket: String, key: String, data: ByteBuffer, options: WriteOptions = WriteOptions(),
        ifNoneMatch: Bool = false
    ) async throws -> String {
        var headers = HTTPHeaders()
        options.apply(to: &headers)
        Self.addIntegrityHeaders(for: data, to: &headers)
        if ifNoneMatch { headers.add(name: "If-None-Match", value: "*") }
        let response = try await send(
            AWSRequest(
                service: .s3, operation: "PutObject", method: .PUT, path: "/" + S3Path.encodeKey(key), headers: headers,
                body: .unsignedBytes(data), bucket: bucket))
        return Self.unquote(response.headers.first(name: "ETag") ?? "")
    }

    /// Copies an object server-side (up to 5 GiB; larger objects use ``uploadPartCopy(bucket:key:uploadId:partNumber:sourceBucket:sourceKey:range:)``).
    ///
    /// - Returns: the new object's ETag.
    @discardableResult
    public func copyObject(
        sourceBucket: String, sourceKey: String, bucket: String, key: String, options: WriteOptions = WriteOptions()
    ) async throws -> String {
        var headers = HTTPHeaders()
        options.apply(to: &headers)
        headers.add(name: "x-amz-copy-source", value: "/\(sourceBucket)/\(S3Path.encodeKey(sourceKey))")
        if !options.metadata.isEmpty || options.contentType != nil {
            headers.add(name: "x-amz-metadata-directive", value: "REPLACE")
        }
        let response = try await send(
            AWSRequest(
                service: .s3, operation: "CopyObject", method: .PUT, path: "/" + S3Path.encodeKey(key),
                headers: headers,
                bucket: bucket))
        let root = try XMLNode.parse(response.data)
        if root.name == "Error" {
            throw Self.embeddedError(root, operation: "CopyObject", status: Int(response.status.code))
        }
        return Self.unquote(root.string("ETag") ?? "")
    }

    /// A key DeleteObjects could not delete.
    public struct DeleteFailure: Sendable, Equatable {
        /// The key.
        public let key: String
        /// S3's error code.
        public let code: String
        /// S3's message.
        public let message: String
    }

    /// Deletes keys in batches of 1000 (quiet mode).
    ///
    /// - Returns: the keys that were not deleted, with S3's reasons (empty when all were).
    public func deleteObjects(bucket: String, keys: [String]) async throws -> [DeleteFailure] {
        var failures: [DeleteFailure] = []
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(start + 1000, keys.count)]
            start += batch.count
            var xml = XMLWriter()
            xml.element("Delete", attributes: [("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/")]) { delete in
                delete.element("Quiet", text: "true")
                for key in batch { delete.element("Object") { $0.element("Key", text: key) } }
            }
            let body = ByteBuffer(data: xml.data)
            var headers = HTTPHeaders()
            Self.addIntegrityHeaders(for: body, to: &headers)
            let response = try await send(
                AWSRequest(
                    service: .s3, operation: "DeleteObjects", method: .POST, path: "/", query: [("delete", "")],
                    headers: headers, body: .bytes(body), bucket: bucket, isIdempotent: true))
            let root = try XMLNode.parse(response.data)
            failures += root.children("Error").map {
                DeleteFailure(
                    key: $0.string("Key") ?? "", code: $0.string("Code") ?? "", message: $0.string("Message") ?? "")
            }
        }
        return failures
    }

    // MARK: - Helpers

    /// Adds `Content-MD5` and `x-amz-checksum-crc32c` for `body`.
    static func addIntegrityHeaders(for body: ByteBuffer, to headers: inout HTTPHeaders) {
        var crc = CRC32C()
        crc.update(body.readableBytesView)
        headers.add(name: "x-amz-checksum-crc32c", value: crc.base64)
        headers.add(
            name: "Content-MD5", value: Data(Insecure.MD5.hash(data: body.readableBytesView)).base64EncodedString())
    }

    /// An error S3 sends with status 200 inside a copy or complete answer.
    static func embeddedError(_ root: XMLNode, operation: String, status: Int) -> AWSServiceError {
        AWSServiceError(
            code: root.string("Code") ?? "InternalError", message: root.string("Message") ?? "",
            requestId: root.string("RequestId"), statusCode: status, service: "s3", operation: operation)
    }

    static func unquote(_ eTag: String) -> String { S3ListPage.unquote(eTag) }

    static func base64ToHex(_ text: String) -> String? {
        Data(base64Encoded: text).map { Hex.string($0) }
    }

}
