extension Duration {
    /// The duration in seconds, with its fraction (for rates, reports and log lines).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds (for NIO's `TimeAmount`), rounded toward zero.
    public var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
