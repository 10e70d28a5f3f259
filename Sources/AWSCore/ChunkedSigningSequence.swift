import AWSSigning
import NIOCore
import NIOFoundationCompat

/// Frames a byte stream as `aws-chunked`, signing each fixed-size chunk as it passes.
///
/// Pull-based: one chunk is assembled at a time, so memory stays at about one chunk whatever the
/// body's size. Ends with the signed empty chunk.
struct ChunkedSigningSequence: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: AWSByteStream
    let signer: SigV4ChunkSigner
    let chunkSize: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: any AsyncIteratorProtocol<ByteBuffer, any Error>
        var signer: SigV4ChunkSigner
        let chunkSize: Int
        var pending = ByteBuffer()
        var sourceDone = false
        var finished = false

        mutating func next() async throws -> ByteBuffer? {
            if finished { return nil }
            while !sourceDone && pending.readableBytes < chunkSize {
                if var part = try await base.next() {
                    pending.writeBuffer(&part)
                } else {
                    sourceDone = true
                }
            }
            let size = Swift.min(chunkSize, pending.readableBytes)
            let chunk = pending.readSlice(length: size)!
            pending.discardReadBytes()
            if size == 0 { finished = true }
            let (_, prefix) = signer.signChunk(chunk.readableBytesView)
            var framed = ByteBuffer()
            framed.reserveCapacity(prefix.utf8.count + size + 2)
            framed.writeString(prefix)
            framed.writeImmutableBuffer(chunk)
            framed.writeStaticString("\r\n")
            return framed
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), signer: signer, chunkSize: chunkSize)
    }
}
