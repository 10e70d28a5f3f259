import AtlassianAdmin
import Foundation

extension AtlassianSimulator {
    func confluence(method: String, segments: [String], items: [String: String], user: User?, body: Data)
        async throws -> Answer
    {
        let adminOnly = "Could not perform this operation: only system administrators may do that."
        let isAdmin = user?.isAdmin == true
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "server-information"]) {
            let settings = try await backend.confluence { try await $0.settings() }
            let numbers = configuration.version.split(separator: ".").compactMap { Int($0) }
            return .json([
                "baseUrl": settings.baseURL ?? "", "version": configuration.version,
                "buildNumber": numbers.reduce(0) { $0 * 1000 + $1 }, "buildDate": "2025-01-01T00:00:00.000Z",
            ])
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "user", "current"]) {
            return .json([
                "type": "known", "username": user!.name, "userKey": user!.name, "displayName": user!.name.capitalized,
            ])
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "color-scheme"]) {
            guard isAdmin else { return error(403, adminOnly) }
            return .encoded(try await backend.confluence { try await $0.colourScheme() })
        }
        if let _ = Self.match(method, segments, "PUT", ["rest", "api", "color-scheme"]) {
            guard isAdmin else { return error(403, adminOnly) }
            guard let scheme = try? JSONDecoder().decode(ConfluenceClient.ColorScheme.self, from: body) else {
                return error(400, "The body must be a colour scheme (colorSchemeModelLight / colorSchemeModelDark)")
            }
            let all = (scheme.colorSchemeModelLight ?? [:]).merging(scheme.colorSchemeModelDark ?? [:]) { $1 }
            if let bad = all.first(where: { !Self.isColour($0.value) }) {
                return error(400, "\(bad.key) is '\(bad.value)', not a #rrggbb colour")
            }
            try await backend.confluence { try await $0.setColourScheme(scheme) }
            return .noContent
        }
        return error(404, "The simulator does not serve \(method) /\(segments.joined(separator: "/"))")
    }
}
