/// The pipeline's phases.
public enum Phase: String, Sendable, CaseIterable, Codable {
    /// A developer's branch into DEV's deploy bucket.
    case devRelease = "dev-release"
    /// Nightly integration in DEV.
    case nightly
    /// User acceptance in UAT.
    case uat
    /// Go-live in PROD.
    case goLive = "go-live"

    /// The phase whose passed record this phase's promotion needs.
    public var requires: Phase? {
        switch self {
        case .devRelease, .nightly: nil
        case .uat: .nightly
        case .goLive: .uat
        }
    }
}
