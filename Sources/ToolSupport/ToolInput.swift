import ArgumentParser

/// Checks of numeric options that would otherwise trap or mean nothing: converting a huge,
/// negative, infinite or NaN `Double` to an integer traps in Swift, so every such option goes
/// through here first.
public enum ToolInput {
    /// `value` seconds as a `Duration`.
    ///
    /// - Throws: `ValidationError` (exit 2) naming `option` when `value` is not a finite number
    ///   of seconds within `range`.
    public static func seconds(_ value: Double, option: String, within range: ClosedRange<Double>) throws -> Duration {
        try number(value, option: option, within: range, unit: " seconds")
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// `value`, checked to be finite and within `range`.
    ///
    /// - Throws: `ValidationError` (exit 2) naming `option` otherwise.
    @discardableResult
    public static func number(_ value: Double, option: String, within range: ClosedRange<Double>, unit: String = "")
        throws -> Double
    {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError(
                "\(option) \(value) is outside \(format(range.lowerBound)) to \(format(range.upperBound))\(unit)")
        }
        return value
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
