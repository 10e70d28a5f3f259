import Foundation
import NIOCore
import Testing

@testable import S3Sync

/// Reading parts into recycled buffers: the storage is reused only when nothing else holds it.
struct LocalFileTests {
    static func address(_ buffer: ByteBuffer) -> UInt {
        buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
    }

    @Test func aRecycledBufferIsReusedOnlyWhenNothingElseHoldsIt() async throws {
        let megabyte = 1 << 20
        let path = NSTemporaryDirectory() + "relay-localfile-\(UUID().uuidString)"
        let first = Data(repeating: 0xA1, count: megabyte)
        let second = Data((0..<megabyte).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try (first + second).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        try await LocalFile.withReading(path) { file in
            let one = try await file.read(offset: 0, count: megabyte)
            #expect(Data(one.readableBytesView) == first)
            let storage = Self.address(one)

            // Given up by its only holder: the same storage, now holding the second megabyte.
            let two = try await file.read(offset: Int64(megabyte), count: megabyte, reusing: consume one)
            #expect(Self.address(two) == storage)
            #expect(Data(two.readableBytesView) == second)

            // Still held (an upload in flight, say): a fresh buffer, and the held one is untouched.
            let held = two
            let three = try await file.read(offset: 0, count: megabyte, reusing: two)
            #expect(Self.address(three) != storage)
            #expect(Data(three.readableBytesView) == first)
            #expect(Data(held.readableBytesView) == second)
        }
    }

    @Test func thePoolKeepsNoMoreThanItsLimit() {
        let pool = BufferPool(limit: 3 << 20)
        #expect(pool.take() == nil)
        for _ in 0..<5 { pool.give(ByteBufferAllocator().buffer(capacity: 1 << 20)) }
        var taken = 0
        while pool.take() != nil { taken += 1 }
        #expect(taken == 3)
    }
}
