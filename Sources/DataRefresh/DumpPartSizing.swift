import S3Sync

/// The part sizes of a dump's multipart upload, for dumps of any size.
///
/// `pg_dump` streams, so the dump's size is unknown until it ends, and S3 allows at most 10,000
/// parts of 5 MiB to 5 GiB (the last may be smaller). Fixed 16 MiB parts would cap a dump near
/// 156 GiB. Instead the part size starts at ``basePartSize`` (16 MiB) and doubles after every
/// ``partsPerStep`` (1,000) parts, up to 5 GiB: 1,000 parts of 16 MiB, then 1,000 of 32 MiB, and so
/// on. A 1 GiB dump is 64 parts of 16 MiB; a 156 GiB dump 3,373 parts, the largest 128 MiB; a 5 TiB
/// dump 8,284 parts, the largest 4 GiB; 10,000 parts hold about 12.7 TiB.
///
/// Memory: one part is held in memory while it is uploaded (besides at most three 16 MiB chunks
/// of `pg_dump`'s output), so a dump past about 4 TiB needs up to 4 GiB for its last parts.
public enum DumpPartSizing {
    /// The first parts' size: 16 MiB.
    public static let basePartSize: Int64 = 16 << 20
    /// How many parts are uploaded at each size before it doubles.
    public static let partsPerStep = 1_000

    /// The size of part `partNumber` (1-based): ``basePartSize`` doubled once per
    /// ``partsPerStep`` parts before it, never more than S3's 5 GiB.
    public static func partSize(partNumber: Int) -> Int64 {
        let doublings = min(max(0, partNumber - 1) / partsPerStep, 20)
        return min(basePartSize << Int64(doublings), S3Client.maximumPartSize)
    }

    /// How many parts a dump of `bytes` takes, and the largest part's size.
    public static func parts(for bytes: Int64) -> (count: Int, largest: Int64) {
        var remaining = bytes
        var count = 0
        var largest: Int64 = 0
        while remaining > 0 {
            count += 1
            let size = partSize(partNumber: count)
            largest = max(largest, min(size, remaining))
            remaining -= size
        }
        return (count, largest)
    }

    /// The largest dump that fits in S3's 10,000 parts.
    public static var capacity: Int64 {
        (1...S3Client.maximumParts).reduce(Int64(0)) { $0 + partSize(partNumber: $1) }
    }
}
