import AtlassianAdmin
import Foundation
import Hummingbird
import NIOCore
import PostgresNIO

/// An answer before it becomes a `Response`.
struct Answer: Sendable {
    var status: Int
    var body: Data
    var contentType: String? = "application/json;charset=UTF-8"

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

/// Who a request is from: one of the configured accounts or a database user.
struct Principal: Sendable {
    let name: String
    /// The user key to record as author (`app_user` / `user_mapping`), or the name.
    let key: String
    let displayName: String
    let email: String?
    let isAdmin: Bool
}

extension AtlassianSimulator {
    /// One request: records it, applies the mode, scripted failures and auth, then routes it.
    func respond(to request: Hummingbird.Request) async throws -> Response {
        var request = request
        let body = Data((try await request.collectBody(upTo: 16 << 20)).readableBytesView)
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
        if !answer.body.isEmpty, let type = answer.contentType { response.headers[.contentType] = type }
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
        do {
            let anonymous =
                method == "GET" && (path == "/rest/api/2/serverInfo" || path == "/rest/api/server-information")
            let user = try await authenticate(authorization)
            if user == nil && !anonymous {
                if authorization == nil {
                    return error(
                        401, "You are not authenticated. Authentication required to perform this operation.")
                }
                return error(401, "The credentials are not valid (wrong user name, password or token).")
            }
            return try await route(
                method: method, path: path, query: query, user: user, body: body, contentType: contentType)
        } catch {
            return self.error(500, Self.describe(error))
        }
    }

    /// What a failure says, with PostgreSQL's own message (a missing table after a truncated
    /// restore: `relation "jiraissue" does not exist`).
    static func describe(_ error: any Error) -> String {
        if let failure = error as? PSQLError {
            let message = failure.serverInfo?[.message] ?? "\(failure.code)"
            return "database error: \(message)"
        }
        if let failure = error as? AtlassianError, let underlying = failure.underlying as? PSQLError {
            return "\(failure.description): \(describe(underlying))"
        }
        return "\(error)"
    }

    /// The configured account or database user the `Authorization` header names, nil when it
    /// names none or the password is wrong. Bearer tokens are the configured accounts' only
    /// (Jira 8 and Confluence 6 have no personal access tokens).
    func authenticate(_ authorization: String?) async throws -> Principal? {
        guard let authorization else { return nil }
        if authorization.hasPrefix("Bearer ") {
            let token = String(authorization.dropFirst(7))
            return configuration.users.first { $0.token == token }.map(Self.principal)
        }
        guard authorization.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(authorization.dropFirst(6))).map({
                String(decoding: $0, as: UTF8.self)
            }),
            let colon = decoded.firstIndex(of: ":")
        else { return nil }
        let name = String(decoded[..<colon])
        let password = String(decoded[decoded.index(after: colon)...])
        if let configured = configuration.users.first(where: { $0.name == name && $0.password == password }) {
            return Self.principal(configured)
        }
        guard !name.isEmpty else { return nil }
        let backend = self.backend
        switch configuration.product {
        case .jira:
            guard
                let user = try await backend.use({ db in
                    try await JiraTables(db: db, backend: backend).user(named: name)
                }),
                let credential = user.credential, PKCS5S2.verify(password, credential: credential)
            else { return nil }
            return Principal(
                name: user.name, key: user.key, displayName: user.displayName ?? user.name, email: user.email,
                isAdmin: user.isAdmin)
        case .confluence:
            guard
                let user = try await backend.use({ db in
                    try await ConfluenceTables(db: db, backend: backend).user(named: name)
                }),
                let credential = user.credential, PKCS5S2.verify(password, credential: credential)
            else { return nil }
            return Principal(
                name: user.name, key: user.key, displayName: user.displayName ?? user.name, email: nil,
                isAdmin: user.isAdmin)
        }
    }

    static func principal(_ user: User) -> Principal {
        Principal(
            name: user.name, key: user.name, displayName: user.name.capitalized, email: "\(user.name)@example.com",
            isAdmin: user.isAdmin)
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

    /// Runs `body` with the Jira tables, one database use at a time.
    func jiraTables<T: Sendable>(_ body: @escaping @Sendable (JiraTables) async throws -> T) async throws -> T {
        let backend = self.backend
        return try await backend.use { db in try await body(JiraTables(db: db, backend: backend)) }
    }

    /// Runs `body` with the Jira tables in one transaction. A rolled-back transaction also
    /// forgets the id blocks in memory: one it took would be rolled back with it (OFBiz takes its
    /// banks in a transaction of their own; forgetting only wastes ids).
    func jiraTransaction<T: Sendable>(_ body: @escaping @Sendable (JiraTables) async throws -> T) async throws -> T {
        let backend = self.backend
        return try await backend.use { db in
            do {
                return try await db.transaction { try await body(JiraTables(db: db, backend: backend)) }
            } catch {
                backend.forgetBlocks()
                throw error
            }
        }
    }

    /// Runs `body` with the Confluence tables, one database use at a time.
    func confluenceTables<T: Sendable>(_ body: @escaping @Sendable (ConfluenceTables) async throws -> T) async throws
        -> T
    {
        let backend = self.backend
        return try await backend.use { db in try await body(ConfluenceTables(db: db, backend: backend)) }
    }

    /// Runs `body` with the Confluence tables in one transaction (forgetting the id blocks when
    /// it rolls back, as ``jiraTransaction(_:)``).
    func confluenceTransaction<T: Sendable>(_ body: @escaping @Sendable (ConfluenceTables) async throws -> T)
        async throws -> T
    {
        let backend = self.backend
        return try await backend.use { db in
            do {
                return try await db.transaction { try await body(ConfluenceTables(db: db, backend: backend)) }
            } catch {
                backend.forgetBlocks()
                throw error
            }
        }
    }

    func applicationLinks() async throws -> [ApplicationLink] {
        switch configuration.product {
        case .jira: try await jiraTables { try await $0.applicationLinks() }
        case .confluence: try await confluenceTables { try await $0.applicationLinks() }
        }
    }

    func saveApplicationLink(_ link: ApplicationLink) async throws {
        switch configuration.product {
        case .jira: try await jiraTransaction { try await $0.saveApplicationLink(link) }
        case .confluence: try await confluenceTransaction { try await $0.saveApplicationLink(link) }
        }
    }

    func deleteApplicationLink(id: String) async throws -> Bool {
        switch configuration.product {
        case .jira: try await jiraTransaction { try await $0.deleteApplicationLink(id: id) }
        case .confluence: try await confluenceTransaction { try await $0.deleteApplicationLink(id: id) }
        }
    }

    func route(method: String, path: String, query: String, user: Principal?, body: Data, contentType: String?)
        async throws -> Answer
    {
        let items = Self.queryItems(query)
        let adminOnly = "You are not authorized to perform this operation. Please log in as an administrator."
        let isAdmin = user?.isAdmin == true
        let segments = path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }

        // Shared by both products.
        if let _ = Self.match(method, segments, "GET", ["rest", "applinks", "1.0", "listApplicationlinks"]) {
            guard isAdmin else { return error(403, adminOnly) }
            let links = try await applicationLinks()
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
            guard let link = try await applicationLinks().first(where: { $0.id == id }) else {
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
            guard try await applicationLinks().contains(where: { $0.id == id }) else {
                return error(404, "No application link with id \(id)")
            }
            try await saveApplicationLink(link)
            return .encoded(link)
        }
        if let captures = Self.match(method, segments, "DELETE", ["rest", "applinks", "1.0", "applicationlink", "*"]) {
            let id = captures[0]
            guard isAdmin else { return error(403, adminOnly) }
            guard try await deleteApplicationLink(id: id) else {
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
            guard let link = try await applicationLinks().first(where: { $0.id == id }) else {
                return error(404, "No application link with id \(id)")
            }
            guard items["nowarning"] == "true" else {
                return error(409, "\(url) could not be reached to confirm the relocation; add nowarning=true")
            }
            try await saveApplicationLink(link.relocated(to: url))
            return .noContent
        }
        if let captures = Self.match(method, segments, "GET", ["rest", "applinks", "3.0", "status", "*"]) {
            guard isAdmin else { return error(403, adminOnly) }
            guard let link = try await applicationLinks().first(where: { $0.id == captures[0] }) else {
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
            if let answer = try await jiraContent(method: method, segments: segments, items: items, user: user, body: body)
            {
                return answer
            }
            return try await jira(method: method, segments: segments, items: items, user: user, body: body)
        case .confluence:
            if method == "GET", let answer = try await download(segments: segments, items: items) { return answer }
            if let answer = try await confluenceContent(
                method: method, segments: segments, items: items, user: user, body: body, contentType: contentType)
            {
                return answer
            }
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

    /// A timestamp as the products write them in JSON (`2020-07-09T09:21:38.238+0000`).
    static func timestamp(_ date: Date?) -> String? {
        guard let date else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        return formatter.string(from: date)
    }
}
