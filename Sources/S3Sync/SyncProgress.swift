import RelayFoundation

/// Where a running sync stands.
public struct SyncProgress: Sendable, Equatable {
    /// Objects finished (transferred or failed) and planned so far (the plan grows while the
    /// listings are read; see ``listingComplete``).
    public var objectsDone: Int
    public var objectsTotal: Int
    /// Bytes moved and planned.
    public var bytesDone: Int64
    public var bytesTotal: Int64
    /// Time since the transfers started.
    public var elapsed: Duration
    /// Both listings are read, so the totals are final.
    public var listingComplete: Bool

    /// Creates a progress report.
    public init(
        objectsDone: Int, objectsTotal: Int, bytesDone: Int64, bytesTotal: Int64, elapsed: Duration,
        listingComplete: Bool = true
    ) {
        self.objectsDone = objectsDone
        self.objectsTotal = objectsTotal
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.elapsed = elapsed
        self.listingComplete = listingComplete
    }

    /// Bytes per second so far.
    public var bytesPerSecond: Double {
        let seconds = elapsed.seconds
        return seconds > 0 ? Double(bytesDone) / seconds : 0
    }

    /// The estimated time left at the current rate, once there is a rate and the totals are final.
    public var estimatedRemaining: Duration? {
        let rate = bytesPerSecond
        guard listingComplete, rate > 0, bytesTotal >= bytesDone else { return nil }
        return .seconds(Double(bytesTotal - bytesDone) / rate)
    }
}
