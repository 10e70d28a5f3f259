import AWSCore
import AtlasRelayTestSupport
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Testing

@testable import S3Sync

/// S3Client against SeaweedFS with signature checking on.
struct S3ClientTests {
    static func client(reader: Bool = false) throws -> S3Client {
        S3Client(
            try Sandbox.s3AWSClient(
                reader: reader, retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10))))
    }

    /// Runs `body` with a bucket of its own (`s3c-…`), deleted with its objects afterwards.
    static func withBucket<T>(_ s3: S3Client, _ body: (String) async throws -> T) async throws -> T {
        try await withSandboxBucket(s3.aws, prefix: "s3c", body: body)
    }

    static func read(_ s3: S3Client, _ bucket: String, _ key: String, range: ClosedRange<Int64>? = nil) async throws
        -> (S3Client.ObjectHead, Data)
    {
        try await s3.getObject(bucket: bucket, key: key, range: range) { head, body in
            var data = Data()
            for try await buffer in body { data.append(contentsOf: buffer.readableBytesView) }
            return (head, data)
        }
    }

    static func bytes(_ count: Int, seed: Int = 1) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761 &+ seed) >> 13) })
    }

    @Test func listingPagesDelimitersAndHostileKeys() async throws {
        let s3 = try Self.client()
        try await Self.withBucket(s3) { bucket in
            let keys = [
                "home/a b.txt", "home/ü+%~.txt", "home/sub/x", "home/sub/y", "root.txt",
                "home/" + String(repeating: "k", count: 200) + "/" + String(repeating: "m", count: 200),
            ]
            for key in keys { try await s3.putObject(bucket: bucket, key: key, data: ByteBuffer(string: key)) }

            let all = try await s3.listAllObjects(bucket: bucket)
            #expect(all.map(\.key) == keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            #expect(all.first { $0.key == "root.txt" }?.size == 8)

            var paged: [String] = []
            var token: String?
            var pages = 0
            repeat {
                let page = try await s3.listObjectsV2(
                    bucket: bucket, prefix: "home/", continuationToken: token, maxKeys: 2)
                paged += page.objects.map(\.key)
                token = page.nextContinuationToken
                pages += 1
            } while token != nil
            #expect(pages == 3)
            #expect(paged == all.map(\.key).filter { $0.hasPrefix("home/") })

            let grouped = try await s3.listObjectsV2(bucket: bucket, prefix: "home/", delimiter: "/")
            #expect(Set(grouped.commonPrefixes).isSuperset(of: ["home/sub/"]))
            #expect(Set(grouped.objects.map(\.key)) == ["home/a b.txt", "home/ü+%~.txt"])
            let after = try await s3.listObjectsV2(bucket: bucket, startAfter: "home/sub/x")
            #expect(
                after.objects.map(\.key) == ["home/sub/y", "home/ü+%~.txt", "root.txt"], "UTF-8 byte order: s < ü")
        }
    }

    @Test func sweepDeletesOnlyOldTestBucketsOfItsPrefix() async throws {
        let s3 = try Self.client()
        let prefix = "sweep\(UInt32.random(in: 0...UInt32.max))"
        let old = try await Sandbox.makeBucket(s3.aws, prefix: prefix)
        _ = try await s3.putObject(bucket: old, key: "left/behind", data: Self.bytes(10))
        let other = try await Sandbox.makeBucket(s3.aws, prefix: prefix + "x")

        #expect(try await Sandbox.sweepBuckets(s3.aws, prefix: prefix, createdBefore: Date() - 3600).isEmpty)
        #expect(try await Sandbox.sweepBuckets(s3.aws, prefix: prefix, createdBefore: Date() + 60) == [old])
        await #expect(throws: (any Error).self, "the swept bucket is gone") {
            try await s3.listObjectsV2(bucket: old)
        }
        #expect(try await s3.listObjectsV2(bucket: other).objects.isEmpty, "another prefix's bucket stays")
        #expect(try await Sandbox.sweepBuckets(s3.aws, prefix: prefix + "x", createdBefore: Date() + 60) == [other])
    }

    @Test func putHeadGetRangeCopyDelete() async throws {
        let s3 = try Self.client()
        try await Self.withBucket(s3) { bucket in
            let data = Self.bytes(100_000)
            let eTag = try await s3.putObject(
                bucket: bucket, key: "attachments/1/2", data: data,
                options: .init(metadata: ["relay-source": "prod"], contentType: "application/octet-stream"))
            #expect(ContentChecksum.isPlainMD5ETag(eTag))

            let head = try #require(try await s3.headObject(bucket: bucket, key: "attachments/1/2"))
            #expect(head.size == 100_000)
            #expect(head.eTag == eTag)
            #expect(head.metadata["relay-source"] == "prod")
            #expect(try await s3.headObject(bucket: bucket, key: "attachments/1/missing") == nil)

            let (_, whole) = try await Self.read(s3, bucket, "attachments/1/2")
            #expect(whole == Data(data.readableBytesView))
            let (rangeHead, slice) = try await Self.read(s3, bucket, "attachments/1/2", range: 1000...1999)
            #expect(slice == Data(data.readableBytesView)[1000...1999])
            #expect(rangeHead.size == 100_000, "Content-Range carries the whole size")

            try await s3.copyObject(
                sourceBucket: bucket, sourceKey: "attachments/1/2", bucket: bucket, key: "copy/of 2")
            #expect(try await Self.read(s3, bucket, "copy/of 2").1 == whole)

            let failures = try await s3.deleteObjects(
                bucket: bucket, keys: ["attachments/1/2", "copy/of 2", "never-existed"])
            #expect(failures.isEmpty)
            #expect(try await s3.listAllObjects(bucket: bucket).isEmpty)
        }
    }

    @Test func serverVerifiesTheChecksumHeaders() async throws {
        let s3 = try Self.client()
        try await Self.withBucket(s3) { bucket in
            var headers = HTTPHeaders()
            headers.add(name: "x-amz-checksum-crc32c", value: "AAAAAA==")
            do {
                _ = try await s3.aws.execute(
                    AWSRequest(
                        service: .s3, operation: "PutObject", method: .PUT, path: "/bad", headers: headers,
                        body: .data(Data("payload".utf8)), bucket: bucket))
                Issue.record("a wrong CRC32C must be refused")
            } catch let error as AWSServiceError {
                #expect(error.statusCode == 400)
            }
            #expect(try await s3.headObject(bucket: bucket, key: "bad") == nil)
        }
    }

    @Test func deleteObjectsBatchesOverAThousand() async throws {
        let s3 = try Self.client()
        try await Self.withBucket(s3) { bucket in
            let keys = (0..<1005).map { "batch/\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chunk in stride(from: 0, to: keys.count, by: 67) {
                    group.addTask {
                        for key in keys[chunk..<min(chunk + 67, keys.count)] {
                            try await s3.putObject(bucket: bucket, key: key, data: ByteBuffer(string: "x"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await s3.listAllObjects(bucket: bucket).count == 1005)
            #expect(try await s3.deleteObjects(bucket: bucket, keys: keys).isEmpty)
            #expect(try await s3.listAllObjects(bucket: bucket).isEmpty)
        }
    }

    @Test func multipartUploadCopyAndAbort() async throws {
        let s3 = try Self.client()
        try await Self.withBucket(s3) { bucket in
            let first = Self.bytes(5 << 20, seed: 3)
            let last = Self.bytes(12_345, seed: 4)  // an odd final part
            let uploadId = try await s3.createMultipartUpload(bucket: bucket, key: "big/file.bin")
            async let p1 = s3.uploadPart(
                bucket: bucket, key: "big/file.bin", uploadId: uploadId, partNumber: 1, data: first)
            async let p2 = s3.uploadPart(
                bucket: bucket, key: "big/file.bin", uploadId: uploadId, partNumber: 2, data: last)
            let parts = try await [p2, p1]
            // Each part went with its CRC32C (the upload declared it), and the completion sends them back.
            #expect(
                parts.map(\.checksumCRC32C)
                    == [last, first].map { buffer -> String? in
                        var crc = CRC32C()
                        crc.update(buffer.readableBytesView)
                        return crc.base64
                    })
            let eTag = try await s3.completeMultipartUpload(
                bucket: bucket, key: "big/file.bin", uploadId: uploadId, parts: parts)
            #expect(eTag.hasSuffix("-2"))
            #expect(!ContentChecksum.isPlainMD5ETag(eTag))
            var expected = Data(first.readableBytesView)
            expected.append(contentsOf: last.readableBytesView)
            #expect(try await Self.read(s3, bucket, "big/file.bin").1 == expected)

            let copyId = try await s3.createMultipartUpload(bucket: bucket, key: "big/copy.bin")
            let size = Int64(expected.count)
            let copied = [
                try await s3.uploadPartCopy(
                    bucket: bucket, key: "big/copy.bin", uploadId: copyId, partNumber: 1, sourceBucket: bucket,
                    sourceKey: "big/file.bin", range: 0...(5 << 20) - 1),
                try await s3.uploadPartCopy(
                    bucket: bucket, key: "big/copy.bin", uploadId: copyId, partNumber: 2, sourceBucket: bucket,
                    sourceKey: "big/file.bin", range: (5 << 20)...(size - 1)),
            ]
            try await s3.completeMultipartUpload(bucket: bucket, key: "big/copy.bin", uploadId: copyId, parts: copied)
            #expect(try await Self.read(s3, bucket, "big/copy.bin").1 == expected)

            let abandoned = try await s3.createMultipartUpload(bucket: bucket, key: "big/abandoned.bin")
            _ = try await s3.uploadPart(
                bucket: bucket, key: "big/abandoned.bin", uploadId: abandoned, partNumber: 1, data: last)
            #expect(
                try await s3.listMultipartUploads(bucket: bucket, prefix: "big/").map(\.uploadId).contains(abandoned))
            try await s3.abortMultipartUpload(bucket: bucket, key: "big/abandoned.bin", uploadId: abandoned)
            #expect(
                try await !s3.listMultipartUploads(bucket: bucket, prefix: "big/").map(\.uploadId).contains(abandoned))
            // Idempotent: a second abort is not an error.
            try await s3.abortMultipartUpload(bucket: bucket, key: "big/abandoned.bin", uploadId: abandoned)
        }
    }

    @Test func expectedBucketOwnerGoesWithEveryRequest() async throws {
        try await withTestServer { _ in
            .text("", headers: [("ETag", "\"abc\"")])
        } body: { server in
            let s3 = S3Client(
                AWSClient(
                    region: "us-east-1", credentialProvider: .static(accessKeyId: "AKID", secretAccessKey: "secret"),
                    endpoints: EndpointResolver(explicitEndpoint: server.baseURL)),
                expectedBucketOwner: "222222222222")
            try await s3.putObject(bucket: "deploy", key: "releases/current.json", data: ByteBuffer(string: "{}"))
            _ = try await s3.headObject(bucket: "deploy", key: "releases/current.json")
            #expect(
                server.requests.map { $0.header("x-amz-expected-bucket-owner") } == ["222222222222", "222222222222"])
            // Signed, so a proxy cannot strip it.
            #expect(server.requests[0].header("Authorization")?.contains("x-amz-expected-bucket-owner") == true)
        }
    }

    @Test func partSizesStayWithinTenThousandParts() {
        #expect(S3Client.partSize(for: 1 << 30) == 8 << 20)
        #expect(S3Client.partSize(for: 100 << 30) == 11 << 20)
        let huge: Int64 = 5 << 40  // the 5 TiB object limit
        let part = S3Client.partSize(for: huge)
        #expect((huge + part - 1) / part <= 10_000)
        #expect(S3Client.partSize(for: 10, preferred: 1 << 20) == 5 << 20)
    }

    @Test func readOnlyIdentityCanReadButNotWrite() async throws {
        let admin = try Self.client()
        try await Self.withBucket(admin) { bucket in
            try await admin.putObject(bucket: bucket, key: "shared", data: ByteBuffer(string: "data"))
            let reader = try Self.client(reader: true)
            #expect(try await Self.read(reader, bucket, "shared").1 == Data("data".utf8))
            await #expect(throws: AWSServiceError.self) {
                try await reader.putObject(bucket: bucket, key: "nope", data: ByteBuffer(string: "x"))
            }
        }
    }
}
