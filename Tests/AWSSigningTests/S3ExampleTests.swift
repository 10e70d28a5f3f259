import Foundation
import RelayFoundation
import Testing

@testable import AWSSigning

/// The six worked examples of the S3 API Reference (`Vectors/s3-examples.json`).
struct S3ExampleTests {
    struct File: Decodable {
        struct Keys: Decodable {
            let access_key_id: String
            let secret_access_key: String
        }
        let credentials: Keys
        let region: String
        let service: String
        let timestamp: String
        let date: String
        let signing_key_hex: String
        let examples: [Example]
    }

    struct Example: Decodable, CustomStringConvertible, Sendable {
        struct Request: Decodable, Sendable {
            struct Payload: Decodable, Sendable {
                let byte: String
                let count: Int
            }
            let method: String
            let host: String
            let path: String
            let query: [[String]]
            let headers: [[String]]
            let body_utf8: String?
            let expires_seconds: Int?
            let payload: Payload?
            let chunk_size: Int?
        }
        struct Expected: Decodable, Sendable {
            struct Chunk: Decodable, Sendable {
                let size: Int
                let string_to_sign: String
                let signature: String
                let framed_prefix: String
            }
            let canonical_request: String
            let string_to_sign: String
            let signature: String
            let authorization: String?
            let url: String?
            let chunks: [Chunk]?
        }
        let name: String
        let kind: String
        let request: Request
        let payload_hash: String
        let expected: Expected
        var description: String { name }
    }

    static let file: File = {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Vectors/s3-examples.json")
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }()

    static var examples: [Example] { file.examples }

    static let signer = SigV4Signer(
        credentials: Credentials(
            accessKeyId: file.credentials.access_key_id, secretAccessKey: file.credentials.secret_access_key),
        region: file.region, service: file.service)

    static let date: Date = {
        var parts = DateComponents()
        (parts.year, parts.month, parts.day) = (2013, 5, 24)
        parts.timeZone = TimeZone(identifier: "UTC")
        return Calendar(identifier: .gregorian).date(from: parts)!
    }()

    static func signingRequest(_ example: Example) -> SigningRequest {
        // The signer adds x-amz-date and x-amz-content-sha256 itself.
        let headers =
            [("Host", example.request.host)]
            + example.request.headers
            .filter { !["x-amz-date", "x-amz-content-sha256"].contains($0[0].lowercased()) }
            .map { ($0[0], $0[1]) }
        let query = example.request.query
            .map { PercentEncoding.component($0[0]) + "=" + PercentEncoding.component($0[1]) }
            .joined(separator: "&")
        // S3 keys are encoded once by the client; the signer uses the path as sent.
        return SigningRequest(
            method: example.request.method, path: PercentEncoding.path(example.request.path),
            query: query, headers: headers.map { (name: $0.0, value: $0.1) })
    }

    static func payload(_ example: Example) -> PayloadHash {
        switch example.payload_hash {
        case "UNSIGNED-PAYLOAD": return .unsigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": return .streaming
        default: return .sha256(example.payload_hash)
        }
    }

    @Test func allSixExamplesArePresent() {
        #expect(
            Self.examples.map(\.name).sorted() == [
                "chunked-put-object", "get-bucket-lifecycle", "get-bucket-list-objects", "get-object-range",
                "presigned-get-object", "put-object",
            ])
    }

    @Test func signingKey() {
        #expect(Self.signer.signingKeyHex(day: Self.file.date) == Self.file.signing_key_hex)
    }

    @Test(arguments: examples)
    func example(_ example: Example) throws {
        let request = Self.signingRequest(example)
        let payload = Self.payload(example)
        let result: SigningResult
        if example.kind == "query" {
            result = Self.signer.presign(
                request, payload: payload, date: Self.date, expires: example.request.expires_seconds!)
            let url = "https://\(example.request.host)\(request.path)?\(result.query)"
            #expect(url == example.expected.url)
        } else {
            result = Self.signer.signHeaders(request, payload: payload, date: Self.date)
            #expect(result.headersToAdd.first { $0.name == "Authorization" }?.value == example.expected.authorization)
            #expect(
                result.headersToAdd.contains { $0.name == "x-amz-content-sha256" && $0.value == example.payload_hash })
        }
        #expect(result.canonicalRequest == example.expected.canonical_request)
        #expect(result.stringToSign == example.expected.string_to_sign)
        #expect(result.signature == example.expected.signature)

        if let chunks = example.expected.chunks, let payloadSpec = example.request.payload {
            var chunkSigner = Self.signer.chunkSigner(seedSignature: result.signature, date: Self.date)
            var remaining = payloadSpec.count
            let chunkSize = example.request.chunk_size!
            var wireLength = 0
            for chunk in chunks {
                let size = min(remaining, chunkSize)
                #expect(size == chunk.size)
                let data = Data(repeating: payloadSpec.byte.utf8.first!, count: size)
                #expect(chunkSigner.stringToSign(dataSHA256: Hex.sha256(data)) == chunk.string_to_sign)
                let signed = chunkSigner.signChunk(data)
                #expect(signed.signature == chunk.signature)
                #expect(signed.prefix == chunk.framed_prefix)
                wireLength += signed.prefix.utf8.count + size + 2
                remaining -= size
            }
            #expect(remaining == 0)
            let declared = example.request.headers.first { $0[0] == "Content-Length" }.map { Int($0[1])! }
            #expect(wireLength == declared)
            #expect(
                SigV4ChunkSigner.encodedLength(payloadLength: Int64(payloadSpec.count), chunkSize: chunkSize)
                    == Int64(declared!))
        }
    }
}
