import CCRC32C
import Foundation

/// CRC-32C (Castagnoli), the checksum S3 computes for `x-amz-checksum-crc32c`.
///
/// The CPU's CRC-32C instructions where it has them (SSE 4.2, ARMv8 CRC), otherwise slicing-by-8
/// over a table built once; incremental, so a stream is checksummed as it passes.
public struct CRC32C: Sendable, Equatable {
    /// The running value (finalised).
    public private(set) var value: UInt32 = 0

    /// Starts a checksum.
    public init() {}

    /// Adds `bytes`.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        var crc = ~value
        let done: Bool? = bytes.withContiguousStorageIfAvailable { buffer in
            crc = Self.update(crc, UnsafeRawBufferPointer(buffer))
            return true
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { crc = Self.update(crc, $0) }
        }
        value = ~crc
    }

    /// The checksum of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The big-endian bytes of the value, base64-encoded, as S3 sends it.
    public var base64: String {
        let bytes = [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        return Data(bytes).base64EncodedString()
    }

    /// The value as eight lower-case hex digits.
    public var hex: String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 8 - text.count) + text
    }

    static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            tables[0][index] = crc
        }
        for index in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[slice - 1][index]
                tables[slice][index] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// Whether the CPU's instructions are used.
    static let hardware = ccrc32c_hardware_available() == 1

    static func update(_ start: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        guard hardware, let base = buffer.baseAddress else { return tableUpdate(start, buffer) }
        return ccrc32c_hardware_update(start, base, buffer.count)
    }

    /// The portable path (also the reference the hardware path is tested against).
    static func tableUpdate(_ start: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        var crc = start
        var offset = 0
        let count = buffer.count
        Self.tables.withUnsafeBufferPointer { tables in
            let t0 = tables[0], t1 = tables[1], t2 = tables[2], t3 = tables[3]
            let t4 = tables[4], t5 = tables[5], t6 = tables[6], t7 = tables[7]
            while count - offset >= 8 {
                let low =
                    UInt32(buffer[offset]) | UInt32(buffer[offset + 1]) << 8 | UInt32(buffer[offset + 2]) << 16
                    | UInt32(buffer[offset + 3]) << 24
                let high =
                    UInt32(buffer[offset + 4]) | UInt32(buffer[offset + 5]) << 8 | UInt32(buffer[offset + 6]) << 16
                    | UInt32(buffer[offset + 7]) << 24
                let mixed = crc ^ low
                crc =
                    t7[Int(mixed & 0xFF)] ^ t6[Int(mixed >> 8 & 0xFF)] ^ t5[Int(mixed >> 16 & 0xFF)]
                    ^ t4[Int(mixed >> 24)] ^ t3[Int(high & 0xFF)] ^ t2[Int(high >> 8 & 0xFF)]
                    ^ t1[Int(high >> 16 & 0xFF)] ^ t0[Int(high >> 24)]
                offset += 8
            }
            while offset < count {
                crc = (crc >> 8) ^ t0[Int((crc ^ UInt32(buffer[offset])) & 0xFF)]
                offset += 1
            }
        }
        return crc
    }
}
