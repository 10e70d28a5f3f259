import Crypto
import Foundation
import RelayFoundation

/// Signs the chunks of an `aws-chunked` body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
///
/// Each chunk's signature covers the previous one, starting from the request's seed signature,
/// so a body of any size is signed while only one chunk is in memory. The final chunk is empty.
/// Obtain one from ``SigV4Signer/chunkSigner(seedSignature:date:)``.
public struct SigV4ChunkSigner: Sendable {
    let signingKey: SymmetricKey
    let timestamp: String
    let scope: String
    /// The signature of the previous chunk (initially the seed signature).
    public private(set) var previousSignature: String

    init(signingKey: SymmetricKey, timestamp: String, scope: String, seedSignature: String) {
        self.signingKey = signingKey
        self.timestamp = timestamp
        self.scope = scope
        self.previousSignature = seedSignature
    }

    /// The default and smallest sensible chunk size: 64 KiB.
    public static let defaultChunkSize = 65_536

    /// The string-to-sign for a chunk whose data hashes to `dataSHA256` (hex).
    public func stringToSign(dataSHA256: String) -> String {
        "AWS4-HMAC-SHA256-PAYLOAD\n\(timestamp)\n\(scope)\n\(previousSignature)\n"
            + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\(dataSHA256)"
    }

    /// Signs the next chunk and returns its framing prefix `<hex size>;chunk-signature=<sig>\r\n`.
    ///
    /// The chunk data follows the prefix, then `\r\n`. Call with empty data for the final chunk.
    public mutating func signChunk<D: DataProtocol>(_ data: D) -> (signature: String, prefix: String) {
        let toSign = stringToSign(dataSHA256: Hex.sha256(data))
        let signature = Hex.string(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: signingKey))
        previousSignature = signature
        return (signature, String(data.count, radix: 16) + ";chunk-signature=" + signature + "\r\n")
    }

    /// The length on the wire of an `aws-chunked` body carrying `payloadLength` bytes.
    public static func encodedLength(payloadLength: Int64, chunkSize: Int = defaultChunkSize) -> Int64 {
        func frame(_ size: Int64) -> Int64 {
            // hex size + ";chunk-signature=" (17) + 64 hex + CRLF, data, CRLF
            Int64(String(size, radix: 16).count) + 17 + 64 + 2 + size + 2
        }
        let full = payloadLength / Int64(chunkSize)
        let rest = payloadLength % Int64(chunkSize)
        return full * frame(Int64(chunkSize)) + (rest > 0 ? frame(rest) : 0) + frame(0)
    }
}
