import Foundation
import Testing

@testable import AWSSigning

struct TimestampTests {
    @Test func iso8601FastPathAgreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for text in [
            "2026-11-27T22:31:08Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2024-12-31T12:00:00.5Z",
            "2031-06-01T12:00:00.123Z", "1999-03-01T00:00:00+00:00", "2100-03-01T01:02:03Z",
        ] {
            let expected = ISO8601DateFormatter().date(from: text) ?? formatter.date(from: text)
            let parsed = ISO8601.parse(text)
            #expect(parsed != nil, "\(text)")
            #expect(
                abs((parsed?.timeIntervalSince1970 ?? 0) - (expected?.timeIntervalSince1970 ?? 1)) < 0.001, "\(text)")
        }
        #expect(
            ISO8601.parse("2026-11-27T22:31:08+02:00") == ISO8601DateFormatter().date(from: "2026-11-27T22:31:08+02:00")
        )
        #expect(ISO8601.parse("not a date") == nil)
        #expect(ISO8601.parse("2026-13-01T00:00:00Z") == nil)
    }

    @Test func httpDates() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        for text in ["Fri, 27 Nov 2026 22:31:08 GMT", "Thu, 01 Jan 1970 00:00:00 GMT", "Tue, 29 Feb 2028 13:14:15 GMT"]
        {
            #expect(HTTPDate.parse(text) == formatter.date(from: text), "\(text)")
        }
        #expect(HTTPDate.parse("Fri, 27 Foo 2026 22:31:08 GMT") == nil)
        #expect(HTTPDate.parse("yesterday") == nil)
    }
}
