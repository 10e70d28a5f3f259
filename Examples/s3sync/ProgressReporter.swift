import Foundation
import S3Sync

#if canImport(Glibc)
    import Glibc
#endif

/// A progress bar on a terminal; a structured line every few seconds otherwise.
final class ProgressReporter: @unchecked Sendable {
    let isTerminal = isatty(STDERR_FILENO) == 1
    let json: Bool
    let lock = NSLock()
    var lastLine = ContinuousClock.now
    var drewBar = false

    init(json: Bool) { self.json = json }

    func show(_ progress: SyncProgress) {
        lock.lock()
        defer { lock.unlock() }
        let percent = progress.bytesTotal > 0 ? Double(progress.bytesDone) * 100 / Double(progress.bytesTotal) : 100
        let eta = progress.estimatedRemaining.map { "\(Int($0.components.seconds))s" } ?? "?"
        let rate = S3SyncCommand.format(Int64(progress.bytesPerSecond))
        if isTerminal {
            let width = 30
            let filled = Int(percent / 100 * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = String(
                format: "\r%@ %5.1f%%  %@/%@  %d/%d objects  %@/s  ETA %@ ", bar, percent,
                S3SyncCommand.format(progress.bytesDone), S3SyncCommand.format(progress.bytesTotal),
                progress.objectsDone,
                progress.objectsTotal, rate, eta)
            FileHandle.standardError.write(Data(line.utf8))
            drewBar = true
        } else if !json, ContinuousClock.now - lastLine >= .seconds(5) {
            lastLine = .now
            FileHandle.standardError.write(
                Data(
                    "progress objects=\(progress.objectsDone)/\(progress.objectsTotal) bytes=\(progress.bytesDone)/\(progress.bytesTotal) rate_bytes_per_s=\(Int(progress.bytesPerSecond)) eta_s=\(progress.estimatedRemaining.map { String($0.components.seconds) } ?? "unknown")\n"
                        .utf8))
        }
    }

    func finish() {
        if drewBar { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
