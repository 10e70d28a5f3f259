import Foundation

/// The package's executables as the build left them, for tests that run a tool as a user would.
public enum BuiltProducts {
    /// The path of the executable `name` (test bundles live beside the built products, or one
    /// folder below them).
    public static func path(_ name: String) -> String {
        var url = Bundle.main.bundleURL
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent(name).path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent(name).path
    }
}
