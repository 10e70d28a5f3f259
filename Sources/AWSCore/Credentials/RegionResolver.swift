import AWSSigning
import Foundation

/// Finds the region the way the AWS CLI does: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the
/// profile's `region`.
public enum RegionResolver {
    /// The region, or `nil` when none is configured.
    public static func region(
        environment: [String: String] = ProcessInfo.processInfo.environment, config: SharedConfig? = nil,
        profile: String? = nil
    ) -> String? {
        if let region = environment["AWS_REGION"], !region.isEmpty { return region }
        if let region = environment["AWS_DEFAULT_REGION"], !region.isEmpty { return region }
        let config = config ?? (try? SharedConfig.load(environment: environment))
        return config?.region(profile: profile ?? SharedConfig.selectedProfile(environment: environment))
    }
}
