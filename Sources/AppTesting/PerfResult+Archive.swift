import CompressNIO
import Foundation
import NIOCore

extension PerfResult {
    /// The result as gzip-compressed JSON: every action's latency histogram (each sample at 3
    /// significant digits), its counts and the timeline, small enough to keep beside a release
    /// as the next run's baseline and to read back with ``init(archive:)``.
    public func archived() throws -> Data {
        var json = ByteBuffer(data: try Reports.json(self))
        let compressed = try json.compress(with: .gzip())
        return Data(compressed.readableBytesView)
    }

    /// Reads what ``archived()`` wrote (or plain JSON, as `app-tester perf` writes it).
    ///
    /// - Throws: ``PerfArchiveError`` when the data is neither.
    public init(archive data: Data) throws {
        var json = data
        if data.starts(with: [0x1f, 0x8b]) {  // the gzip magic number
            var buffer = ByteBuffer(data: data)
            do {
                json = Data(try buffer.decompress(with: .gzip(), maxSize: 1 << 30).readableBytesView)
            } catch {
                throw PerfArchiveError("the gzip stream is damaged (\(error))")
            }
        }
        do {
            self = try JSONDecoder.perfResults.decode(PerfResult.self, from: json)
        } catch {
            throw PerfArchiveError("it is not a load run's result (\(error))")
        }
    }
}

/// Data that is not an archived ``PerfResult``.
public struct PerfArchiveError: Error, CustomStringConvertible {
    /// What was wrong.
    public let description: String

    init(_ problem: String) { description = "cannot read the load run's result: \(problem)" }
}

extension JSONDecoder {
    /// Reads what ``Reports/json(_:)`` writes (ISO 8601 dates).
    static let perfResults: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
