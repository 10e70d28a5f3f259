import AtlassianAdmin
import Foundation
import Hummingbird
import NIOCore

/// An answer before it becomes a `Response`.
struct Answer: Sendable {
    var status: Int
    var body: Data

    static func json(_ object: Any, status: Int = 200) -> Answer {
        Answer(
            status: status,
            body: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    static func encoded(_ value: some Encodable, status: Int = 200) -> Answer {
        Answer(status: status, body: (try? JSONEncoder().encode(value)) ?? Data())
    }

    static let noContent = Answer(status: 204, body: Data())
}

extension AtlassianSimulator {
    /// One request: records it, applies the mode, scripted failures and auth, then routes it.
    func respond(to request: Hummingbird.Request) async throws -> Response {
        var request = request
        let body = Data((try await request.collectBody(upTo: 1 << 20)).readableBytesView)
        let method = request.method.rawValue
        let path = request.uri.path
        let query = request.uri.query ?? ""
        let authorization = request.headers[.authorization]
        let answer = await answer(
            method: method, path: path, query: query, authorization: authorization, body: body,
            contentType: request.headers[.contentType])
        state.withLock {
            $0.requests.append(
                Request(
                    method: method, path: path, query: query, authorization: authorization, body: body,
                    status: answer.status))
        }
        var response = Response(
            status: .init(code: answer.status), body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        if !answer.body.isEmpty { response.headers[.contentType] = "application/json;charset=UTF-8" }
        return response
    }

    func answer(
        method: String, path: String, query: String, authorization: String?, body: Data, contentType: String? = nil
    ) async -> Answer {
        let (mode, failure) = state.withLock { state -> (Mode, Failure?) in
            let mode = state.mode
            if path == "/status", case .starting(let polls) = mode {
                state.mode = polls > 1 ? .starting(polls: polls - 1) : .running
            }
            return (mode, state.failures.last { path.hasPrefix($0.pathPrefix) })
        }
        if let failure {
            if failure.delay > .zero { try? await Task.sleep(for: failure.delay) }
            if failure.status < 400 {
                // A delay only: answer normally below.
            } else {
                return error(failure.status, "the simulator was told to fail \(failure.pathPrefix)")
            }
        }
        if path == "/status" {
            switch mode {
            case .running: return .json(["state": "RUNNING"])
            case .starting: return .json(["state": "STARTING"])
            case .maintenance: return .json(["state": "MAINTENANCE"], status: 503)
            case .error: return .json(["state": "ERROR"], status: 500)
            }
        }
        guard mode == .running else {
            return error(503, "\(configuration.product == .jira ? "Jira" : "Confluence") is not running yet")
        }
        let anonymous = method == "GET" && (path == "/rest/api/2/serverInfo" || path == "/rest/api/server-information")
        let user = authenticate(authorization)
        if user == nil && !anonymous {
            if authorization == nil {
                return error(401, "You are not authenticated. Authentication required to perform this operation.")
            }
            return error(401, "The credentials are not valid (wrong user name, password or token).")
        }
        do {
            return try await route(
                method: method, path: path, query: query, user: user, body: body, contentType: contentType)
        } catch let failure as SettingsStoreError {
            return error(500, failure.description)
        } catch {
            return self.error(500, "\(error)")
        }
    }

    func authenticate(_ authorization: String?) -> User? {
        guard let authorization else { return nil }
        if authorization.hasPrefix("Bearer ") {
            let token = String(authorization.dropFirst(7))
            return configuration.users.first { $0.token == token }
        }
        if authorization.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(authorization.dropFirst(6))).map({
                String(decoding: $0, as: UTF8.self)
            }),
            let colon = decoded.firstIndex(of: ":")
        {
            let name = String(decoded[..<colon])
            let password = String(decoded[decoded.index(after: colon)...])
            return configuration.users.first { $0.name == name && $0.password == password }
        }
        return nil
    }

    /// An error in the product's own shape: Jira's `errorMessages`/`errors`, Confluence's
    /// `statusCode`/`message`/`data`.
    func error(_ status: Int, _ message: String, field: String? = nil) -> Answer {
        switch configuration.product {
        case .jira:
            return .json(
                ["errorMessages": field == nil ? [message] : [], "errors": field.map { [$0: message] } ?? [:]],
                status: status)
        case .confluence:
            return .json(
                [
                    "statusCode": status, "message": message,
                    "data": [
                        "authorized": status != 401 && status != 403, "valid": true, "errors": [], "successful": false,
                    ],
                ], status: status)
        }
    }

    static func queryItems(_ query: String) -> [String: String] {
        var items: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            items[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return items
    }

    func route(method: String, path: String, query: String, user: User?, body: Data, contentType: String?)
        async throws -> Answer
    {
        let items = Self.queryItems(query)
        let adminOnly = "You are not authorized to perform this operation. Please log in as an administrator."
        let isAdmin = user?.isAdmin == true
        let segments = path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }

        // Shared by both products.
        if let _ = Self.match(method, segments, "GET", ["rest", "applinks", "1.0", "listApplicationlinks"]) {
            guard isAdmin else { return error(403, adminOnly) }
            let links = try await backend.applicationLinks()
            return .json([
                "list": try links.map { link in
                    [
                        "application": try JSONSerialization.jsonObject(with: JSONEncoder().encode(link)),
                        "appLinkState": "OK", "isSystem": false,
                    ] as [String: Any]
                }
            ])
        }
        if let captures = Self.match(method, segments, "GET", ["rest", "applinks", "1.0", "applicationlink", "*"]) {
            let id = captures[0]
            guard isAdmin else { return error(403, adminOnly) }
            guard let link = try await backend.applicationLinks().first(where: { $0.id == id }) else {
                return error(404, "No application link with id \(id)")
            }
            return .encoded(link)
        }
        if let captures = Self.match(method, segments, "PUT", ["rest", "applinks", "1.0", "applicationlink", "*"]) {
            let id = captures[0]
            guard isAdmin else { return error(403, adminOnly) }
            guard let link = try? JSONDecoder().decode(ApplicationLink.self, from: body), link.id == id else {
                return error(400, "The body must be an application link whose id is \(id)")
            }
            guard try await backend.applicationLinks().contains(where: { $0.id == id }) else {
                return error(404, "No application link with id \(id)")
            }
            try await backend.saveApplicationLink(link)
            return .encoded(link)
        }
        if let captures = Self.match(method, segments, "DELETE", ["rest", "applinks", "1.0", "applicationlink", "*"]) {
            let id = captures[0]
            guard isAdmin else { return error(403, adminOnly) }
            guard try await backend.deleteApplicationLink(id: id) else {
                return error(404, "No application link with id \(id)")
            }
            return .json(["status-code": 200, "message": "Application link \(id) deleted"])
        }
        if let captures = Self.match(
            method, segments, "POST", ["rest", "applinks", "1.0", "relocateApplicationlink", "*"])
        {
            let id = captures[0]
            guard isAdmin else { return error(403, adminOnly) }
            guard let url = items["newUrl"], let parsed = URL(string: url), parsed.host != nil else {
                return error(400, "newUrl must be an absolute URL")
            }
            guard let link = try await backend.applicationLinks().first(where: { $0.id == id }) else {
                return error(404, "No application link with id \(id)")
            }
            guard items["nowarning"] == "true" else {
                return error(409, "\(url) could not be reached to confirm the relocation; add nowarning=true")
            }
            try await backend.saveApplicationLink(link.relocated(to: url))
            return .noContent
        }
        if let captures = Self.match(method, segments, "GET", ["rest", "applinks", "3.0", "status", "*"]) {
            guard isAdmin else { return error(403, adminOnly) }
            guard let link = try await backend.applicationLinks().first(where: { $0.id == captures[0] }) else {
                return error(404, "No application link with id \(captures[0])")
            }
            // The simulator cannot reach real peers: a link works when it points at a loopback
            // address or a host that resolves here.
            let host = URL(string: link.rpcUrl)?.host ?? ""
            let working = host == "127.0.0.1" || host == "localhost"
            return .encoded(
                ApplicationLinkStatus(
                    working: working, error: working ? nil : .init(category: "NETWORK_ERROR", type: "UNKNOWN_HOST")))
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "troubleshooting", "1.0", "check"]) {
            guard isAdmin else { return error(403, adminOnly) }
            return .json([
                "statuses": [
                    [
                        "completeKey":
                            "com.atlassian.troubleshooting.plugin-\(configuration.product.rawValue):dbLatency",
                        "name": "Database latency", "isHealthy": true, "failureReason": "",
                        "severity": "undefined", "tag": "Database", "healthy": true,
                    ],
                    [
                        "completeKey": "com.atlassian.troubleshooting.plugin-\(configuration.product.rawValue):licence",
                        "name": "Licence", "isHealthy": configuration.licence.isUsable(),
                        "failureReason": configuration.licence.isUsable() ? "" : "The licence has expired",
                        "severity": configuration.licence.isUsable() ? "undefined" : "critical",
                        "tag": "Licence", "healthy": configuration.licence.isUsable(),
                    ],
                ]
            ])
        }
        if "/" + segments.joined(separator: "/") == JiraClient.licencePath && configuration.product == .jira
            || "/" + segments.joined(separator: "/") == ConfluenceClient.licencePath
                && configuration.product == .confluence
        {
            guard isAdmin else { return error(403, adminOnly) }
            return .encoded(configuration.licence)
        }
        switch configuration.product {
        case .jira:
            if let answer = jiraContent(method: method, segments: segments, items: items, body: body) { return answer }
        case .confluence:
            if method == "GET", let data = download(segments: segments) { return Answer(status: 200, body: data) }
            if let answer = confluenceContent(
                method: method, segments: segments, items: items, body: body, contentType: contentType)
            {
                return answer
            }
        }
        switch configuration.product {
        case .jira: return try await jira(method: method, segments: segments, items: items, user: user, body: body)
        case .confluence:
            return try await confluence(method: method, segments: segments, items: items, user: user, body: body)
        }
    }
}

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
                "serverTitle": properties["jira.title"]?.description ?? "Jira",
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

    /// The captures of `pattern` (`*` matches one segment) when `method` and `segments` match it.
    static func match(_ method: String, _ segments: [String], _ wantedMethod: String, _ pattern: [String]) -> [String]?
    {
        guard method == wantedMethod, segments.count == pattern.count else { return nil }
        var captures: [String] = []
        for (segment, expected) in zip(segments, pattern) {
            if expected == "*" { captures.append(segment) } else if segment != expected { return nil }
        }
        return captures
    }

    static func isColour(_ value: String) -> Bool {
        value.count == 7 && value.hasPrefix("#") && value.dropFirst().allSatisfy(\.isHexDigit)
    }
}
