import Foundation

/// ISO-8601 timestamps as AWS writes them (`2026-11-27T22:31:08Z`, `…08.123Z`, `…08+00:00`).
///
/// The common forms are parsed by hand: a listing of a million objects must not build a million
/// ICU formatters (profiling showed date parsing as the largest cost of a small-file sync).
package enum ISO8601 {
    package static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        if let date = fastParse(bytes) { return date }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff…](Z|+00:00)`.
    static func fastParse(_ b: [UInt8]) -> Date? {
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A, b[16] == 0x3A,
            let year = Timestamps.number(b, 0, 4), let month = Timestamps.number(b, 5, 2),
            let day = Timestamps.number(b, 8, 2),
            let hour = Timestamps.number(b, 11, 2), let minute = Timestamps.number(b, 14, 2),
            let second = Timestamps.number(b, 17, 2)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < b.count && b[index] == 0x2E {
            index += 1
            var scale = 0.1
            while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
                fraction += Double(b[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
        }
        let zone = b[index...]
        guard zone.elementsEqual("Z".utf8) || zone.elementsEqual("z".utf8) || zone.elementsEqual("+00:00".utf8) else {
            return nil  // other offsets: the formatter handles them
        }
        return Timestamps.date(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second, fraction: fraction)
    }
}

/// HTTP `Date`/`Last-Modified` headers in IMF-fixdate form (`Fri, 27 Nov 2026 22:31:08 GMT`).
package enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map {
        Array($0.utf8)
    }

    package static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count == 29, b[3] == 0x2C, b[4] == 0x20, b[7] == 0x20, b[11] == 0x20, b[16] == 0x20, b[19] == 0x3A,
            b[22] == 0x3A, b[25] == 0x20, b[26...].elementsEqual("GMT".utf8),
            let day = Timestamps.number(b, 5, 2), let year = Timestamps.number(b, 12, 4),
            let hour = Timestamps.number(b, 17, 2), let minute = Timestamps.number(b, 20, 2),
            let second = Timestamps.number(b, 23, 2),
            let month = months.firstIndex(where: { $0.elementsEqual(b[8..<11]) })
        else { return nil }
        return Timestamps.date(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second)
    }
}

enum Timestamps {
    /// `yyyyMMdd'T'HHmmss'Z'` and `yyyyMMdd` in UTC, without a shared formatter.
    static func sigV4(_ date: Date) -> (long: String, short: String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let day = pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2)
        let time = pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2)
        return (day + "T" + time + "Z", day)
    }
    static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for byte in bytes[start..<start + count] {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// Days from 1970-01-01 to a civil date (proleptic Gregorian), after H. Hinnant's algorithm.
    static func date(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fraction: Double = 0)
        -> Date?
    {
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
