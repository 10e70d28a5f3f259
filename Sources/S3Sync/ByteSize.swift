/// Sizes as people write them on a command line: `8MB`, `16MiB`, `1GB`, `5242880`.
///
/// Units are binary (KB = KiB = 1024 bytes), as the AWS CLI reads them. Parsing never traps: a
/// value too large for 64 bits, a negative or fractional value, or an unknown unit is a
/// ``SyncError/Kind/invalidArgument`` that says what to write.
public enum ByteSize {
    static let units: [(suffix: String, factor: Int64)] = [
        ("GIB", 1 << 30), ("GB", 1 << 30), ("MIB", 1 << 20), ("MB", 1 << 20), ("KIB", 1 << 10), ("KB", 1 << 10),
        ("TIB", 1 << 40), ("TB", 1 << 40), ("B", 1),
    ]

    /// The bytes `text` stands for.
    public static func parse(_ text: String) throws -> Int64 {
        let trimmed = text.trimmingSpaces
        let upper = trimmed.uppercased()
        var digits = Substring(trimmed)
        var factor: Int64 = 1
        if let unit = units.first(where: { upper.hasSuffix($0.suffix) }) {
            digits = trimmed.dropLast(unit.suffix.count)
            factor = unit.factor
        }
        let number = String(digits).trimmingSpaces
        guard !number.isEmpty, number.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw SyncError.invalidArgument("'\(text)' is not a size; write a whole number of bytes or units, e.g. 8MiB or 16MB")
        }
        guard let value = Int64(number) else {
            throw SyncError.invalidArgument("'\(text)' is too large to be a size (at most 8 EiB)")
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: factor)
        guard !overflow else {
            throw SyncError.invalidArgument("'\(text)' is too large to be a size (at most 8 EiB)")
        }
        return bytes
    }

    /// `bytes` in the largest binary unit that keeps it at least 1, e.g. `16.0 MiB`.
    public static func format(_ bytes: Int64) -> String {
        let names = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes)
        var unit = 0
        while abs(value) >= 1024 && unit < names.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = (value * 10).rounded()
        return "\(Int64(tenths) / 10).\(abs(Int64(tenths) % 10)) \(names[unit])"
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
