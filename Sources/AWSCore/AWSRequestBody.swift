import AWSSigning
import Foundation
import NIOCore

/// A stream of body bytes. Pull-based sequences keep memory bounded: the next buffer is read
/// only when the connection can take it.
public typealias AWSByteStream = any AsyncSequence<ByteBuffer, any Error> & Sendable

/// A request body: nothing, bytes in memory, or a stream that can be started again for a retry.
public struct AWSRequestBody: Sendable {
    enum Storage: Sendable {
        case empty
        case buffer(ByteBuffer)
        case stream(length: Int64, make: StreamFactory)
    }

    /// Makes a fresh stream of the body for each attempt.
    public typealias StreamFactory = @Sendable () -> AWSByteStream

    /// How a streamed body is covered by the signature.
    public enum StreamSigning: Sendable, Equatable {
        /// `UNSIGNED-PAYLOAD`: integrity from TLS and checksum headers (S3 over HTTPS).
        case unsigned
        /// `aws-chunked` with a signature per chunk (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`).
        case chunked(chunkSize: Int = SigV4ChunkSigner.defaultChunkSize)
    }

    let storage: Storage
    let streamSigning: StreamSigning
    var signsPayload = true

    /// No body.
    public static let empty = AWSRequestBody(storage: .empty, streamSigning: .unsigned)

    /// A body held in memory; its SHA-256 is signed.
    public static func bytes(_ buffer: ByteBuffer) -> AWSRequestBody {
        AWSRequestBody(storage: .buffer(buffer), streamSigning: .unsigned, signsPayload: true)
    }

    /// A body held in memory sent as `UNSIGNED-PAYLOAD`: the signature covers the headers only.
    ///
    /// For S3 requests that carry `Content-MD5` or an `x-amz-checksum-*` header (which the
    /// signature does cover, and the server verifies), this saves a SHA-256 pass over every byte.
    public static func unsignedBytes(_ buffer: ByteBuffer) -> AWSRequestBody {
        AWSRequestBody(storage: .buffer(buffer), streamSigning: .unsigned, signsPayload: false)
    }

    /// A body held in memory; its SHA-256 is signed.
    public static func data(_ data: Data) -> AWSRequestBody {
        .bytes(ByteBuffer(bytes: data))
    }

    /// A streamed body of a known length. `make` is called once per attempt, so a retry can
    /// send the body again; it must produce exactly `length` bytes.
    public static func stream(
        length: Int64, signing: StreamSigning = .unsigned,
        make: @escaping StreamFactory
    ) -> AWSRequestBody {
        AWSRequestBody(storage: .stream(length: length, make: make), streamSigning: signing)
    }

    /// The number of payload bytes.
    public var length: Int64 {
        switch storage {
        case .empty: return 0
        case .buffer(let buffer): return Int64(buffer.readableBytes)
        case .stream(let length, _): return length
        }
    }
}
