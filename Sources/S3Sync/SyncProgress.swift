import RelayFoundation

/// Where a running sync stands.
public struct SyncProgress: Sendable, Equatable {
    /// Objects finished (transferred or failed) and planned.
    public var objectsDone: Int
    public var objectsTotal: Int
    /// Bytes moved and planned.
    public var bytesDone: Int64
    public var bytesTotal: Int64
    /// Time since the transfers started.
    public var elapsed: Duration

    /// Bytes per second so far.
    public var bytesPerSecond: Double {
        let seconds = elapsed.seconds
        return seconds > 0 ? Double(bytesDone) / seconds : 0
    }

    /// The estimated time left at the current rate, when there is a rate.
    public var estimatedRemaining: Duration? {
        let rate = bytesPerSecond
        guard rate > 0, bytesTotal >= bytesDone else { return nil }
        return .seconds(Double(bytesTotal - bytesDone) / rate)
    }
}
