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
            return error(503, "\(configuration.product.displayName) is not running yet")
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
        } catch let failure as AtlassianError {
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
