import AtlassianAdmin
import Foundation

extension AtlassianSimulator {
    /// The Jira properties an administrator may change over REST here.
    static func isEditableJiraProperty(_ key: String) -> Bool {
        key == "jira.title" || key.hasPrefix("jira.lf.")
    }

    static func object(_ body: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }

    static let noIssue = "Issue Does Not Exist"

    func issueJSON(_ issue: JiraTables.Issue) -> [String: Any] {
        var fields: [String: Any] = [
            "summary": issue.summary, "description": Self.nullable(issue.description),
            "project": [
                "id": String(issue.projectId), "key": issue.projectKey, "name": issue.projectName ?? issue.projectKey,
                "self": "\(baseURL)/rest/api/2/project/\(issue.projectId)",
            ],
            "issuetype": ["id": issue.typeId ?? "", "name": issue.typeName ?? ""],
            "status": ["id": issue.statusId ?? "", "name": issue.statusName ?? ""],
            "comment": [
                "startAt": 0, "maxResults": issue.comments.count, "total": issue.comments.count,
                "comments": issue.comments.map { comment -> [String: Any] in
                    [
                        "id": String(comment.id), "body": comment.body,
                        "author": ["key": comment.author ?? "", "name": comment.author ?? ""],
                        "created": Self.nullable(Self.timestamp(comment.created)),
                        "self": "\(baseURL)/rest/api/2/issue/\(issue.id)/comment/\(comment.id)",
                    ]
                },
            ] as [String: Any],
        ]
        if let priority = issue.priorityId { fields["priority"] = ["id": priority, "name": issue.priorityName ?? ""] }
        if let reporter = issue.reporter { fields["reporter"] = ["key": reporter] }
        fields["created"] = Self.nullable(Self.timestamp(issue.created))
        fields["updated"] = Self.nullable(Self.timestamp(issue.updated))
        return [
            "id": String(issue.id), "key": issue.key, "self": "\(baseURL)/rest/api/2/issue/\(issue.id)",
            "fields": fields,
        ]
    }

    /// Jira's issue, comment, search and dashboard resources, on `jiraissue`, `jiraaction`,
    /// `project`, `issuetype` and `portalpage`.
    func jiraContent(method: String, segments: [String], items: [String: String], user: Principal?, body: Data)
        async throws -> Answer?
    {
        if Self.match(method, segments, "POST", ["rest", "api", "2", "issue"]) != nil {
            guard let fields = Self.object(body)?["fields"] as? [String: Any] else {
                return error(400, "The body must carry fields.")
            }
            guard let summary = fields["summary"] as? String, !summary.isEmpty else {
                return error(400, "You must specify a summary of the issue.", field: "summary")
            }
            nonisolated(unsafe) let project = fields["project"] as? [String: Any] ?? [:]
            nonisolated(unsafe) let type = fields["issuetype"] as? [String: Any] ?? [:]
            let description = fields["description"] as? String
            let author = user?.name ?? ""
            do {
                let issue = try await jiraTransaction { tables in
                    try await tables.createIssue(
                        project: project, type: type, summary: summary, description: description,
                        reporter: try await tables.userKey(author))
                }
                state.withLock { state in
                    if state.indexLag > .zero { state.unindexed[issue.id] = .now + state.indexLag }
                }
                return .json(
                    ["id": String(issue.id), "key": issue.key, "self": "\(baseURL)/rest/api/2/issue/\(issue.id)"],
                    status: 201)
            } catch JiraTables.CreateError.field(let field, let message) {
                return error(400, message, field: field)
            }
        }
        if let captures = Self.match(method, segments, "GET", ["rest", "api", "2", "issue", "*"]) {
            guard let issue = try await jiraTables({ try await $0.issue(captures[0]) }) else {
                return error(404, Self.noIssue)
            }
            return .json(issueJSON(issue))
        }
        if let captures = Self.match(method, segments, "PUT", ["rest", "api", "2", "issue", "*"]) {
            let fields = Self.object(body)?["fields"] as? [String: Any] ?? [:]
            let summary = fields["summary"] as? String
            let description = fields["description"] as? String
            if let summary, summary.isEmpty {
                return error(400, "You must specify a summary of the issue.", field: "summary")
            }
            let found = try await jiraTransaction { tables -> Bool in
                guard let issue = try await tables.issue(captures[0]) else { return false }
                try await tables.editIssue(id: issue.id, summary: summary, description: description)
                return true
            }
            return found ? .noContent : error(404, Self.noIssue)
        }
        if let captures = Self.match(method, segments, "DELETE", ["rest", "api", "2", "issue", "*"]) {
            let found = try await jiraTransaction { tables -> Bool in
                guard let issue = try await tables.issue(captures[0]) else { return false }
                try await tables.deleteIssue(id: issue.id)
                return true
            }
            return found ? .noContent : error(404, Self.noIssue)
        }
        if let captures = Self.match(method, segments, "POST", ["rest", "api", "2", "issue", "*", "comment"]) {
            guard let text = Self.object(body)?["body"] as? String, !text.isEmpty else {
                return error(400, "Comment body can not be empty!", field: "comment")
            }
            let author = user?.name ?? ""
            let comment = try await jiraTransaction { tables -> JiraTables.Comment? in
                guard let issue = try await tables.issue(captures[0]) else { return nil }
                return try await tables.addComment(issueId: issue.id, body: text, author: try await tables.userKey(author))
            }
            guard let comment else { return error(404, Self.noIssue) }
            return .json(
                [
                    "id": String(comment.id), "body": comment.body, "author": ["key": comment.author ?? ""],
                    "created": Self.nullable(Self.timestamp(comment.created)),
                ], status: 201)
        }
        if Self.match(method, segments, "GET", ["rest", "api", "2", "search"]) != nil
            || Self.match(method, segments, "POST", ["rest", "api", "2", "search"]) != nil
        {
            var jql = items["jql"] ?? ""
            var maxResults = Int(items["maxResults"] ?? "") ?? 50
            var startAt = Int(items["startAt"] ?? "") ?? 0
            if method == "POST", let object = Self.object(body) {
                jql = object["jql"] as? String ?? jql
                maxResults = object["maxResults"] as? Int ?? maxResults
                startAt = object["startAt"] as? Int ?? startAt
            }
            let query: SearchQuery
            do { query = try SearchQuery.parse(jql) } catch {
                return self.error(400, "Error in the JQL Query: \(error) (\(jql))")
            }
            do {
                let (limit, offset) = (min(maxResults, 1000), startAt)
                let hidden = state.withLock { state -> [Int64] in
                    let now = ContinuousClock.now
                    state.unindexed = state.unindexed.filter { $0.value > now }
                    return Array(state.unindexed.keys)
                }
                let (total, issues) = try await jiraTables { tables in
                    try await tables.search(query, maxResults: limit, startAt: offset, hiding: hidden)
                }
                return .json([
                    "startAt": startAt, "maxResults": maxResults, "total": total, "issues": issues.map(issueJSON),
                ])
            } catch let failure as JiraTables.SearchError {
                return error(400, failure.message)
            }
        }
        if Self.match(method, segments, "GET", ["rest", "api", "2", "dashboard"]) != nil {
            let dashboards = try await jiraTables { try await $0.dashboards() }
            return .json([
                "startAt": 0, "maxResults": 20, "total": dashboards.count,
                "dashboards": dashboards.map {
                    ["id": String($0.id), "name": $0.name, "self": "\(baseURL)/rest/api/2/dashboard/\($0.id)"]
                },
            ])
        }
        return nil
    }

    func reindexJSON(_ task: ReindexTask) -> [String: Any] {
        let progress = task.finished != nil && task.fault == nil ? 100 : min(99, task.polls * 100 / (configuration.reindexPolls + 1))
        var json: [String: Any] = [
            "progressUrl": "/secure/admin/jira/IndexProgress.jspa?taskId=\(task.id)",
            "currentProgress": progress, "success": task.finished != nil && task.fault == nil,
            "submittedTime": Self.nullable(Self.timestamp(task.submitted)),
            "startTime": Self.nullable(Self.timestamp(task.submitted)), "type": task.type,
        ]
        if let finished = task.finished { json["finishTime"] = Self.timestamp(finished) }
        if let fault = task.fault, task.finished != nil {
            json["currentSubTask"] = "Indexing failed: \(fault)"
        } else if task.finished == nil {
            json["currentSubTask"] = "Currently reindexing issues"
        }
        return json
    }

    /// One poll of reindex task `id` (nil: the newest): it advances, and finishes (or fails with
    /// the fault it was started under) after ``Configuration/reindexPolls`` polls.
    func pollReindex(_ id: Int?) -> ReindexTask? {
        let polls = configuration.reindexPolls
        return state.withLock { state -> ReindexTask? in
            guard let index = id.map({ id in state.reindexTasks.firstIndex { $0.id == id } })
                ?? (state.reindexTasks.isEmpty ? nil : state.reindexTasks.count - 1)
            else { return nil }
            var task = state.reindexTasks[index]
            if task.finished == nil {
                task.polls += 1
                if task.polls >= polls { task.finished = Date() }
                state.reindexTasks[index] = task
            }
            return task
        }
    }

    func jira(method: String, segments: [String], items: [String: String], user: Principal?, body: Data) async throws
        -> Answer
    {
        let adminOnly = "You are not authorized to perform this operation. Please log in as an administrator."
        let isAdmin = user?.isAdmin == true
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "2", "serverInfo"]) {
            let info = try await jiraTables { try await $0.serverInfo() }
            let version = info.version ?? configuration.version ?? "unknown"
            let numbers = version.split(separator: ".").compactMap { Int($0) }
            return .json([
                "baseUrl": info.baseURL ?? "", "version": version, "versionNumbers": numbers,
                "buildNumber": info.buildNumber ?? 0, "deploymentType": "Server",
                "serverTitle": info.title ?? Product.jira.displayName,
            ])
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "2", "myself"]) {
            return .json([
                "name": user!.name, "key": user!.key, "displayName": user!.displayName,
                "emailAddress": Self.nullable(user!.email), "active": true,
            ])
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "2", "application-properties"]) {
            guard isAdmin else { return error(403, adminOnly) }
            let properties = try await jiraTables { try await $0.properties(prefix: "jira.") }
            func shape(_ key: String, _ value: String) -> [String: Any] {
                [
                    "id": key, "key": key, "value": value, "name": key, "desc": "", "type": "string",
                    "defaultValue": "",
                ]
            }
            if let key = items["key"] {
                guard let property = properties[key] else {
                    return error(404, "Property with key: \(key) does not exist.")
                }
                return .json(shape(key, property.value))
            }
            return .json(properties.sorted { $0.key < $1.key }.map { shape($0.key, $0.value.value) })
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
            try await jiraTransaction { try await $0.setStrings([key: update.value]) }
            return .json(["id": key, "key": key, "value": update.value])
        }
        if let _ = Self.match(method, segments, "PUT", ["rest", "api", "2", "settings", "baseUrl"]) {
            guard isAdmin else { return error(403, adminOnly) }
            guard let url = try? JSONDecoder().decode(String.self, from: body),
                let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else {
                return error(400, "The base URL must be a JSON string holding an absolute http(s) URL.")
            }
            try await jiraTransaction { try await $0.setStrings(["jira.baseurl": url]) }
            return .noContent
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "2", "cluster", "nodes"]) {
            guard isAdmin else { return error(403, adminOnly) }
            let nodes = try await jiraTables { try await $0.clusterNodes() }
            if nodes.isEmpty {
                // Not clustered: the node answering is the only one.
                return .json([["nodeId": "node-1", "state": "ACTIVE", "local": true, "ip": "127.0.0.1", "alive": true]])
            }
            return .json(
                nodes.map { ["nodeId": $0.id, "state": $0.state, "local": false, "ip": Self.nullable($0.ip), "alive": $0.state == "ACTIVE"] })
        }
        if let _ = Self.match(method, segments, "POST", ["rest", "api", "2", "reindex"]) {
            guard isAdmin else { return error(403, adminOnly) }
            let type = items["type"] ?? "BACKGROUND_PREFERRED"
            guard ["FOREGROUND", "BACKGROUND", "BACKGROUND_PREFERRED", "BACKGROUND_PREFFERED"].contains(type) else {
                return error(400, "type must be FOREGROUND, BACKGROUND or BACKGROUND_PREFERRED")
            }
            // The index is built from the issues: a database without them cannot be indexed.
            _ = try await jiraTables { tables in
                try await tables.db.rows("SELECT count(*) FROM jiraissue")
            }
            let task = state.withLock { state -> ReindexTask in
                let task = ReindexTask(
                    id: 10_000 + state.reindexTasks.count + 1, type: type, submitted: Date(), fault: state.reindexFault)
                state.reindexTasks.append(task)
                return task
            }
            return .json(reindexJSON(task), status: 202)
        }
        if Self.match(method, segments, "GET", ["rest", "api", "2", "reindex", "progress"]) != nil
            || Self.match(method, segments, "GET", ["rest", "api", "2", "reindex"]) != nil
        {
            guard isAdmin else { return error(403, adminOnly) }
            let id = items["taskId"].flatMap(Int.init)
            if items["taskId"] != nil && id == nil { return error(400, "taskId must be a number") }
            guard let task = pollReindex(id) else {
                return error(404, id.map { "No reindex task \($0)" } ?? "No reindex has taken place")
            }
            return .json(reindexJSON(task))
        }
        return error(404, "The simulator does not serve \(method) /\(segments.joined(separator: "/"))")
    }
}

extension AtlassianSimulator {
    /// `value`, or JSON null.
    static func nullable(_ value: String?) -> Any { value.map { $0 as Any } ?? NSNull() }
}
