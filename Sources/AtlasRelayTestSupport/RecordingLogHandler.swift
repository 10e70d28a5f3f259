import Logging
import Synchronization

/// Collects log lines in memory so tests can assert what was (and was not) logged.
public final class LogRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    /// Creates an empty recorder.
    public init() {}

    /// A logger at `level` that writes into this recorder.
    public func logger(level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "recorded") { _ in Handler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    /// Every line so far: level, message and metadata rendered as text.
    public var all: [String] { lines.withLock { $0 } }

    /// All lines joined, for `contains` checks.
    public var text: String { all.joined(separator: "\n") }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            recorder.append("\(event.level) \(event.message) \(rendered)")
        }
    }
}
