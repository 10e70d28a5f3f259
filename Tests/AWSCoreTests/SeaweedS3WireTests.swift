import AWSSigning
import AsyncHTTPClient
import AtlasRelayTestSupport
import Foundation
import NIOCore
import NIOFoundationCompat
import RelayFoundation
import RelayHTTP
import Testing

@testable import AWSCore

/// The transport, signing and REST-XML helpers against SeaweedFS, a real S3 server that checks
/// signatures (including aws-chunked chunk signatures) and permissions.
struct SeaweedS3WireTests {
    static func client(accessKey: String? = nil, secret: String? = nil) throws -> AWSClient {
        let key = try accessKey ?? Sandbox.value("AWS_ACCESS_KEY_ID")
        let secret = try secret ?? Sandbox.value("AWS_SECRET_ACCESS_KEY")
        return AWSClient(
            region: "us-east-1", credentialProvider: .static(accessKeyId: key, secretAccessKey: secret),
            endpoints: EndpointResolver(environment: ["AWS_ENDPOINT_URL_S3": try Sandbox.s3Endpoint()]),
            retryPolicy: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(10)))
    }

    /// Runs `body` with a bucket of its own, deleted with its objects afterwards.
    static func withBucket<T>(_ client: AWSClient, _ body: (String) async throws -> T) async throws -> T {
        try await withSandboxBucket(client, prefix: "wire", body: body)
    }

    static func put(_ client: AWSClient, bucket: String, key: String, body: AWSRequestBody) async throws {
        _ = try await client.execute(
            AWSRequest(
                service: .s3, operation: "PutObject", method: .PUT, path: "/" + S3Path.encodeKey(key), body: body,
                bucket: bucket))
    }

    static func get(_ client: AWSClient, bucket: String, key: String) async throws -> Data {
        try await client.execute(
            AWSRequest(service: .s3, operation: "GetObject", path: "/" + S3Path.encodeKey(key), bucket: bucket)
        ).data
    }

    static func randomData(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Splits `data` into uneven pieces, as a file reader would deliver them.
    static func stream(_ data: Data, piece: Int) -> AWSRequestBody.StreamFactory {
        {
            AsyncThrowingStream { continuation in
                var offset = 0
                while offset < data.count {
                    let end = min(offset + piece, data.count)
                    continuation.yield(ByteBuffer(bytes: data[offset..<end]))
                    offset = end
                }
                continuation.finish()
            }
        }
    }

    @Test func chunkSignedStreamingUploadIsAcceptedAndIntact() async throws {
        let client = try Self.client()
        try await Self.withBucket(client) { bucket in
            let data = Self.randomData(200_003)  // three full 64 KiB chunks and a partial one
            try await Self.put(
                client, bucket: bucket, key: "streams/chunked.bin",
                body: .stream(length: Int64(data.count), signing: .chunked(), make: Self.stream(data, piece: 10_000)))
            #expect(try await Self.get(client, bucket: bucket, key: "streams/chunked.bin") == data)

            try await Self.put(
                client, bucket: bucket, key: "streams/unsigned.bin",
                body: .stream(length: Int64(data.count), signing: .unsigned, make: Self.stream(data, piece: 70_000)))
            #expect(try await Self.get(client, bucket: bucket, key: "streams/unsigned.bin") == data)
        }
    }

    @Test func keysTravelAsBytes() async throws {
        let client = try Self.client()
        try await Self.withBucket(client) { bucket in
            let keys = [
                "shared home/attachments/ü ñ 日本.txt", "a+b=c&d%20e~f.txt", "plugins/installed-plugins/x(1)[2].jar",
            ]
            for key in keys { try await Self.put(client, bucket: bucket, key: key, body: .data(Data(key.utf8))) }
            for key in keys { #expect(try await Self.get(client, bucket: bucket, key: key) == Data(key.utf8)) }

            let listing = try await client.execute(
                AWSRequest(
                    service: .s3, operation: "ListObjectsV2", path: "/", query: [("list-type", "2"), ("prefix", "")],
                    bucket: bucket))
            let root = try XMLNode.parse(listing.data)
            #expect(Set(root.children("Contents").compactMap { $0.string("Key") }) == Set(keys))
        }
    }

    @Test func presignedGetWorksWithoutHeaders() async throws {
        let client = try Self.client()
        try await Self.withBucket(client) { bucket in
            try await Self.put(
                client, bucket: bucket, key: "reports/run 1.json", body: .data(Data(#"{"ok":true}"#.utf8)))
            let endpoint = try client.endpoints.endpoint(for: .s3, region: "us-east-1")
            let address = client.endpoints.s3Address(
                bucket: bucket, encodedKey: S3Path.encodeKey("reports/run 1.json"), endpoint: endpoint)
            let signer = SigV4Signer(
                credentials: try await client.credentialProvider.credentials(), region: "us-east-1", service: "s3")
            let signed = signer.presign(
                SigningRequest(method: "GET", path: address.path, headers: [("Host", address.endpoint.hostHeader)]),
                payload: .unsigned, date: Date(), expires: 300)
            let response = try await HTTPTransport.sharedClient.execute(
                HTTPClientRequest(url: address.endpoint.url(path: address.path, query: signed.query)),
                timeout: .seconds(10))
            #expect(response.status == .ok)
            #expect(String(buffer: try await response.body.collect(upTo: 1024)) == #"{"ok":true}"#)
        }
    }

    @Test func wrongSecretAndMissingPermissionAreTypedErrors() async throws {
        let admin = try Self.client()
        try await Self.withBucket(admin) { bucket in
            let forged = try Self.client(secret: "not-the-secret")
            do {
                try await Self.put(forged, bucket: bucket, key: "x", body: .data(Data("x".utf8)))
                Issue.record("a wrong secret must be refused")
            } catch let error as AWSServiceError {
                #expect(error.statusCode == 403)
                #expect(error.code == "SignatureDoesNotMatch")
                #expect(!error.description.contains("not-the-secret"))
            }
            let reader = try Self.client(
                accessKey: Sandbox.value("ATLAS_RELAY_S3_READER_ACCESS_KEY_ID"),
                secret: Sandbox.value("ATLAS_RELAY_S3_READER_SECRET_ACCESS_KEY"))
            do {
                try await Self.put(reader, bucket: bucket, key: "x", body: .data(Data("x".utf8)))
                Issue.record("the read-only identity must not write")
            } catch let error as AWSServiceError {
                #expect(error.code == "AccessDenied")
            }
        }
    }

    /// The server really checks chunk signatures: a body whose chunks are signed from a wrong seed
    /// is refused, so the accepted uploads above prove our chunk signatures are right.
    @Test func forgedChunkSignaturesAreRefused() async throws {
        let client = try Self.client()
        try await Self.withBucket(client) { bucket in
            let endpoint = try client.endpoints.endpoint(for: .s3, region: "us-east-1")
            let address = client.endpoints.s3Address(bucket: bucket, encodedKey: "forged.bin", endpoint: endpoint)
            let data = Data(repeating: 0x61, count: 70_000)
            let wire = SigV4ChunkSigner.encodedLength(payloadLength: Int64(data.count))
            let signer = SigV4Signer(
                credentials: try await client.credentialProvider.credentials(), region: "us-east-1", service: "s3")
            let date = Date()
            let headers: [(name: String, value: String)] = [
                ("Host", address.endpoint.hostHeader), ("Content-Encoding", "aws-chunked"),
                ("x-amz-decoded-content-length", String(data.count)),
            ]
            let signed = signer.signHeaders(
                SigningRequest(method: "PUT", path: address.path, headers: headers), payload: .streaming, date: date)
            var chunks = signer.chunkSigner(seedSignature: String(repeating: "0", count: 64), date: date)
            var body = ByteBuffer()
            for range in [0..<65_536, 65_536..<70_000, 70_000..<70_000] {
                let (_, prefix) = chunks.signChunk(data[range])
                body.writeString(prefix)
                body.writeBytes(data[range])
                body.writeString("\r\n")
            }
            #expect(Int64(body.readableBytes) == wire)
            var request = HTTPClientRequest(url: address.endpoint.url(path: address.path, query: ""))
            request.method = .PUT
            for (name, value) in headers + signed.headersToAdd {
                request.headers.replaceOrAdd(name: name, value: value)
            }
            request.body = .bytes(body)
            let response = try await HTTPTransport.sharedClient.execute(request, timeout: .seconds(10))
            // SeaweedFS answers 500 (AWS: 403 SignatureDoesNotMatch); either way nothing is stored.
            #expect(response.status.code >= 400)
            await #expect(throws: AWSServiceError.self) {
                _ = try await Self.get(client, bucket: bucket, key: "forged.bin")
            }
        }
    }
}
