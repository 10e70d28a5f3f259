/// A step that ran and found failures (tests failed, a gate missed), with what it measured.
public struct StepFailed: Error, Sendable, CustomStringConvertible {
    /// Why.
    public let description: String
    /// What it measured.
    public let figures: [String: String]

    /// Creates the failure.
    public init(_ description: String, figures: [String: String] = [:]) {
        self.description = description
        self.figures = figures
    }
}
