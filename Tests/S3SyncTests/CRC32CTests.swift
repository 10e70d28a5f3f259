import Foundation
import Testing

@testable import S3Sync

struct CRC32CTests {
    /// RFC 3720 (iSCSI) B.4 test vectors and the common check value.
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func incrementalEqualsWhole() {
        let data = (0..<10_007).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        var crc = CRC32C()
        for start in stride(from: 0, to: data.count, by: 333) { crc.update(data[start..<min(start + 333, data.count)]) }
        #expect(crc.value == CRC32C.checksum(data))
        var check = CRC32C()
        check.update(Array("123456789".utf8))
        #expect(check.hex == "e3069283")
        #expect(check.base64 == "4waSgw==")
    }

    @Test func hardwareAndTablePathsAgree() {
        // Lengths and offsets around the 8-byte steps, so every head and tail path runs.
        let data = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        data.withUnsafeBytes { all in
            for (start, length) in [(0, 0), (0, 1), (1, 7), (3, 8), (5, 9), (7, 63), (0, 65_536), (13, 69_987)] {
                let slice = UnsafeRawBufferPointer(rebasing: all[start..<start + length])
                #expect(CRC32C.update(~0, slice) == CRC32C.tableUpdate(~0, slice), "\(start)+\(length)")
            }
        }
        #if arch(x86_64) || arch(arm64)
            #expect(CRC32C.hardware, "this CPU should have CRC-32C instructions")
        #endif
    }
}
