import AtlassianAdmin
import Foundation

extension AtlassianSimulator {
    /// The Jira properties an administrator may change over REST here.
    static func isEditableJiraProperty(_ key: String) -> Bool {
        key == "jira.title" || key.hasPrefix("jira.lf.")
    }

    func jira(method: String, segments: [String], items: [String: String], user: User?, body: Data) async throws
        -> Answer
    {
        let adminOnly = "You are not authorized to perform this operation. Please log in as an administrator."
        let isAdmin = user?.isAdmin == true
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "2", "serverInfo"]) {
            let properties = try await backend.jira { try await $0.properties() }
            let numbers = configuration.version.split(separator: ".").compactMap { Int($0) }
            return .json([
                "baseUrl": properties["jira.baseurl"]?.description ?? "", "version": configuration.version,
                "versionNumbers": numbers,
                "buildNumber": numbers.reduce(0) { $0 * 1000 + $1 }, "deploymentType": "Server",
                "serverTitle": properties["jira.title"]?.description ?? Product.jira.displayName,
            ])
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "2", "myself"]) {
            return .json([
                "name": user!.name, "key": user!.name, "displayName": user!.name.capitalized,
                "emailAddress": "\(user!.name)@example.com", "active": true,
            ])
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "2", "application-properties"]) {
            guard isAdmin else { return error(403, adminOnly) }
            let properties = try await backend.jira { try await $0.properties() }
                .filter { $0.key.hasPrefix("jira.") }
            func shape(_ key: String, _ value: JiraSettingsStore.Value) -> [String: Any] {
                [
                    "id": key, "key": key, "value": value.description, "name": key, "desc": "", "type": "string",
                    "defaultValue": "",
                ]
            }
            if let key = items["key"] {
                guard let value = properties[key] else {
                    return error(404, "Property with key: \(key) does not exist.")
                }
                return .json(shape(key, value))
            }
            return .json(properties.sorted { $0.key < $1.key }.map { shape($0.key, $0.value) })
        }
        if let captures = Self.match(method, segments, "PUT", ["rest", "api", "2", "application-properties", "*"]) {
            let key = captures[0]
            guard isAdmin else { return error(403, adminOnly) }
            struct Body: Decodable {
                let id: String?
                let value: String
            }
            guard let update = try? JSONDecoder().decode(Body.self, from: body) else {
                return error(400, "The body must be {\"id\": \"\(key)\", \"value\": \"…\"}")
            }
            guard Self.isEditableJiraProperty(key) else {
                return error(403, "The property \(key) cannot be edited through this resource.")
            }
            try await backend.jira { _ = try await $0.set([key: .string(update.value)]) }
            return .json(["id": key, "key": key, "value": update.value])
        }
        if let _ = Self.match(method, segments, "PUT", ["rest", "api", "2", "settings", "baseUrl"]) {
            guard isAdmin else { return error(403, adminOnly) }
            guard let url = try? JSONDecoder().decode(String.self, from: body),
                let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                return error(400, "The base URL must be a JSON string holding an absolute http(s) URL.")
            }
            try await backend.jira { _ = try await $0.set(["jira.baseurl": .string(url)]) }
            return .noContent
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "2", "cluster", "nodes"]) {
            guard isAdmin else { return error(403, adminOnly) }
            return .json([
                ["nodeId": "node-1", "state": "ACTIVE", "local": true, "ip": "127.0.0.1", "alive": true]
            ])
        }
        if let _ = Self.match(method, segments, "POST", ["rest", "api", "2", "reindex"]) {
            guard isAdmin else { return error(403, adminOnly) }
            let type = items["type"] ?? "BACKGROUND_PREFERRED"
            guard ["FOREGROUND", "BACKGROUND", "BACKGROUND_PREFERRED"].contains(type) else {
                return error(400, "type must be FOREGROUND, BACKGROUND or BACKGROUND_PREFERRED")
            }
            let task = state.withLock { state -> Int in
                state.reindexTasks += 1
                return 10_000 + state.reindexTasks
            }
            return .json(["currentTaskId": task, "currentProgress": 0, "type": type, "success": false], status: 202)
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "2", "reindex", "progress"]) {
            guard isAdmin else { return error(403, adminOnly) }
            guard let id = items["taskId"].flatMap(Int.init), id > 10_000,
                id <= 10_000 + state.withLock({ $0.reindexTasks })
            else { return error(404, "No reindex task \(items["taskId"] ?? "")") }
            return .json(["currentTaskId": id, "currentProgress": 100, "type": "BACKGROUND", "success": true])
        }
        return error(404, "The simulator does not serve \(method) /\(segments.joined(separator: "/"))")
    }
}
