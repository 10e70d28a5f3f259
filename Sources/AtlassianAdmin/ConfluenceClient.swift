import Foundation

/// Confluence Data Center's admin REST API, typed.
public struct ConfluenceClient: AtlassianProduct {
    /// The connection.
    public let connection: AtlassianConnection

    /// Creates a client.
    public init(connection: AtlassianConnection) { self.connection = connection }

    /// ``Product/confluence``.
    public static let product = Product.confluence

    /// Where the licence details are.
    public static let licencePath = "/rest/license/1.0/license/details"

    /// `GET /rest/api/server-information`. Unlike Jira's `serverInfo` it has no site title
    /// (Confluence DC 10.0's OpenAPI lists `baseUrl`, `version`, `buildNumber`,
    /// `marketplaceBuildNumber` and `buildDate` only); the title is in the database's global
    /// settings (`bandana`, `atlassian.confluence.settings`, `<siteTitle>`).
    public struct ServerInformation: Sendable, Equatable, Decodable {
        /// The configured base URL.
        public let baseUrl: String
        /// The version, for example `10.0.3`.
        public let version: String
        /// The build number.
        public let buildNumber: Int
    }

    /// The server's identity and version.
    public func serverInformation() async throws -> ServerInformation {
        try await connection.call(.GET, "/rest/api/server-information")
    }

    /// `GET /rest/api/user/current`.
    public struct User: Sendable, Equatable, Decodable {
        /// The user name.
        public let username: String?
        /// The display name.
        public let displayName: String?
    }

    /// The signed-in user.
    public func currentUser() async throws -> User {
        try await connection.call(.GET, "/rest/api/user/current")
    }

    /// The site's colours (`/rest/api/color-scheme`); each value a `#rrggbb` string.
    public struct ColorScheme: Sendable, Equatable, Codable {
        /// The colours of the light theme, by name (`topBarColor`, `linkColor`, …).
        public var colorSchemeModelLight: [String: String]?
        /// The colours of the dark theme.
        public var colorSchemeModelDark: [String: String]?

        /// Creates a scheme.
        public init(light: [String: String]?, dark: [String: String]? = nil) {
            colorSchemeModelLight = light
            colorSchemeModelDark = dark
        }
    }

    /// The site's colour scheme.
    public func colorScheme() async throws -> ColorScheme {
        try await connection.call(.GET, "/rest/api/color-scheme")
    }

    /// Sets the site's colour scheme.
    public func setColorScheme(_ scheme: ColorScheme) async throws {
        _ = try await connection.call(.PUT, "/rest/api/color-scheme", body: scheme, as: AtlassianConnection.Empty.self)
    }
}
