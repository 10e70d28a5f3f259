/// The one version of this build: written into release manifests, snapshot manifests and reports,
/// and sent as the HTTP user agent.
public enum AtlasRelayVersion {
    /// This build's version.
    public static let current = "0.6.0"
    /// The `User-Agent` every client sends: `atlas-relay/<version>`.
    public static let userAgent = "atlas-relay/\(current)"
}
