import AWSCore

/// Counters shared by the transfers of one run, progress reporting, and the give-up rule.
actor RunState {
    private(set) var summary = SyncSummary()
    private(set) var gaveUp = false
    /// Multipart uploads started and not yet completed or aborted.
    private var openUploads: Set<SyncSummary.OpenUpload> = []
    private var progress: SyncProgress
    private let started = ContinuousClock.now
    private var lastSuccess = ContinuousClock.now
    private var lastReport = ContinuousClock.now
    private let giveUpAfter: Duration
    private let report: @Sendable (SyncProgress) -> Void

    init(total: Int, bytes: Int64, giveUpAfter: Duration, report: @escaping @Sendable (SyncProgress) -> Void) {
        self.progress = SyncProgress(
            objectsDone: 0, objectsTotal: total, bytesDone: 0, bytesTotal: bytes, elapsed: .zero,
            listingComplete: false)
        self.giveUpAfter = giveUpAfter
        self.report = report
    }

    /// More transfers were planned (a streamed sync learns its totals as it lists).
    func planned(_ entries: [SyncEntry]) {
        progress.objectsTotal += entries.count
        progress.bytesTotal += entries.reduce(0) { $0 + $1.size }
    }

    /// Both listings are read: the totals are final, so the estimate of what remains holds.
    func listingComplete() {
        progress.listingComplete = true
    }

    func moved(_ bytes: Int64) {
        progress.bytesDone += bytes
        lastSuccess = .now
        maybeReport()
    }

    func succeeded(_ entry: SyncEntry) {
        summary.transferred += 1
        summary.transferredBytes += entry.size
        progress.objectsDone += 1
        lastSuccess = .now
        maybeReport()
    }

    func failed(_ entry: SyncEntry, _ error: any Error) {
        summary.failures.append(.init(key: entry.key.string, message: "\(error)"))
        progress.objectsDone += 1
        if let error = error as? AWSClientError, [.connectionFailed, .timedOut].contains(error.kind),
            ContinuousClock.now - lastSuccess > giveUpAfter
        {
            gaveUp = true
        }
        maybeReport()
    }

    func notAttempted() {
        summary.notAttempted += 1
        progress.objectsDone += 1
        maybeReport()
    }

    /// A transfer cut short by cancellation.
    func interrupted(_ entry: SyncEntry) {
        summary.interrupted += 1
        progress.objectsDone += 1
        maybeReport()
    }

    /// A multipart upload was started.
    func opened(_ upload: SyncSummary.OpenUpload) {
        openUploads.insert(upload)
        summary.uploadsLeftOpen = openUploads.sorted { SyncKey($0.key) < SyncKey($1.key) }
    }

    /// A multipart upload was completed, or aborted.
    func closed(_ upload: SyncSummary.OpenUpload, aborted: Bool) {
        openUploads.remove(upload)
        summary.uploadsLeftOpen = openUploads.sorted { SyncKey($0.key) < SyncKey($1.key) }
        if aborted { summary.abortedUploads += 1 }
    }

    private func maybeReport() {
        guard ContinuousClock.now - lastReport >= .milliseconds(500) else { return }
        lastReport = .now
        progress.elapsed = .now - started
        report(progress)
    }

    func finalReport() {
        progress.elapsed = .now - started
        report(progress)
    }
}
