import Foundation
import NIOCore
import NIOHTTP1

/// A response whose body has been read into memory.
public struct AWSResponse: Sendable {
    /// The HTTP status.
    public let status: HTTPResponseStatus
    /// The response headers.
    public let headers: HTTPHeaders
    /// The body.
    public let body: ByteBuffer

    /// The body as `Data`.
    public var data: Data { Data(body.readableBytesView) }
}
