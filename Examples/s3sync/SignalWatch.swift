import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// SIGINT and SIGTERM while a sync runs: the first calls `cancel` (the engine then stops its
/// transfers, aborts their multipart uploads and returns); a second exits at once.
final class SignalWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Int32?
    private var sources: [any DispatchSourceSignal] = []

    /// The first signal received, if any.
    var received: Int32? { lock.withLock { first } }

    /// Starts watching: the signals' default action (ending the process) is turned off first, so
    /// only the dispatch sources see them.
    init(cancel: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            // Signals that arrive before the handler runs are counted in one event: a quick
            // double Ctrl-C is two.
            source.setEventHandler { [unowned self] in  // stop() cancels the source, which releases this
                for _ in 0..<min(source.data, 2) { self.handle(number, cancel: cancel) }
            }
            source.resume()
            sources.append(source)
        }
    }

    private func handle(_ number: Int32, cancel: @Sendable () -> Void) {
        let isFirst = lock.withLock {
            defer { first = first ?? number }
            return first == nil
        }
        if isFirst {
            S3SyncCommand.warn(
                "s3sync: \(Self.name(number)) received: stopping and aborting the uploads in flight (a second signal exits at once)"
            )
            cancel()
        } else {
            S3SyncCommand.warn(
                "s3sync: \(Self.name(number)) again: exiting at once; uploads left open are aborted by a run of this sync once --stale-upload-age old"
            )
            _exit(128 + number)
        }
    }

    /// Stops watching.
    func stop() {
        for source in sources { source.cancel() }
    }

    static func name(_ number: Int32) -> String {
        number == SIGINT ? "SIGINT" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
    }
}
