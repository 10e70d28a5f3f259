import AtlassianAdmin
import Foundation

/// The simulator's content: Jira issues with comments, Confluence pages with comments and
/// attachments. Kept in memory (the settings are what live in the database), seeded with a
/// `DEMO` project and space so read-only checks have something to read.
struct Content: Sendable {
    struct Issue: Sendable {
        var id: Int
        var key: String
        var summary: String
        var description: String
        var comments: [String]
    }

    struct Page: Sendable {
        var id: Int
        var type: String
        var title: String
        var body: String
        var version: Int
        var container: Int?
        var attachments: [String: Data]
    }

    var issues: [String: Issue] = [:]
    var pages: [Int: Page] = [:]
    var nextIssue = 1
    var nextPage = 65_537

    static func seeded() -> Content {
        var content = Content()
        for number in 1...5 {
            _ = content.createIssue(summary: "Seeded issue \(number)", description: "Seeded for read-only checks")
            _ = content.createPage(
                type: "page", title: "Seeded page \(number)", body: "<p>Seeded page</p>", container: nil)
        }
        return content
    }

    mutating func createIssue(summary: String, description: String) -> Issue {
        let issue = Issue(
            id: 10_000 + nextIssue, key: "DEMO-\(nextIssue)", summary: summary, description: description, comments: [])
        nextIssue += 1
        issues[issue.key] = issue
        return issue
    }

    mutating func createPage(type: String, title: String, body: String, container: Int?) -> Page {
        let page = Page(
            id: nextPage, type: type, title: title, body: body, version: 1, container: container, attachments: [:])
        nextPage += 1
        pages[page.id] = page
        return page
    }
}

extension AtlassianSimulator {
    func issueJSON(_ issue: Content.Issue) -> [String: Any] {
        [
            "id": String(issue.id), "key": issue.key, "self": "\(baseURL)/rest/api/2/issue/\(issue.id)",
            "fields": [
                "summary": issue.summary, "description": issue.description,
                "project": ["key": "DEMO", "name": "Demo"], "issuetype": ["name": "Task"],
                "comment": ["total": issue.comments.count, "comments": issue.comments.map { ["body": $0] }],
            ] as [String: Any],
        ]
    }

    func pageJSON(_ page: Content.Page) -> [String: Any] {
        var json: [String: Any] = [
            "id": String(page.id), "type": page.type, "title": page.title, "status": "current",
            "space": ["key": "DEMO"], "version": ["number": page.version],
            "body": ["storage": ["value": page.body, "representation": "storage"]],
            "_links": ["webui": "/pages/viewpage.action?pageId=\(page.id)"],
        ]
        if let container = page.container { json["container"] = ["id": String(container)] }
        return json
    }

    static func object(_ body: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }

    /// Jira's issue, comment, search and dashboard resources.
    func jiraContent(method: String, segments: [String], items: [String: String], body: Data) -> Answer? {
        if Self.match(method, segments, "POST", ["rest", "api", "2", "issue"]) != nil {
            guard let fields = Self.object(body)?["fields"] as? [String: Any],
                let summary = fields["summary"] as? String, !summary.isEmpty
            else { return error(400, "summary: You must specify a summary of the issue.", field: "summary") }
            let issue = content.withLock {
                $0.createIssue(summary: summary, description: fields["description"] as? String ?? "")
            }
            return .json(
                ["id": String(issue.id), "key": issue.key, "self": "\(baseURL)/rest/api/2/issue/\(issue.id)"],
                status: 201)
        }
        if let captures = Self.match(method, segments, "GET", ["rest", "api", "2", "issue", "*"]) {
            guard let issue = content.withLock({ $0.issues[captures[0]] }) else {
                return error(404, "Issue does not exist or you do not have permission to see it.")
            }
            return .json(issueJSON(issue))
        }
        if let captures = Self.match(method, segments, "PUT", ["rest", "api", "2", "issue", "*"]) {
            let fields = Self.object(body)?["fields"] as? [String: Any] ?? [:]
            let found = content.withLock { content -> Bool in
                guard content.issues[captures[0]] != nil else { return false }
                if let summary = fields["summary"] as? String { content.issues[captures[0]]!.summary = summary }
                if let text = fields["description"] as? String { content.issues[captures[0]]!.description = text }
                return true
            }
            return found ? .noContent : error(404, "Issue does not exist or you do not have permission to see it.")
        }
        if let captures = Self.match(method, segments, "DELETE", ["rest", "api", "2", "issue", "*"]) {
            let removed = content.withLock { $0.issues.removeValue(forKey: captures[0]) }
            return removed != nil
                ? .noContent : error(404, "Issue does not exist or you do not have permission to see it.")
        }
        if let captures = Self.match(method, segments, "POST", ["rest", "api", "2", "issue", "*", "comment"]) {
            guard let text = Self.object(body)?["body"] as? String, !text.isEmpty else {
                return error(400, "Comment body can not be empty!", field: "comment")
            }
            let found = content.withLock { content -> Bool in
                guard content.issues[captures[0]] != nil else { return false }
                content.issues[captures[0]]!.comments.append(text)
                return true
            }
            return found
                ? .json(["id": "1", "body": text], status: 201)
                : error(404, "Issue does not exist or you do not have permission to see it.")
        }
        if Self.match(method, segments, "GET", ["rest", "api", "2", "search"]) != nil {
            let jql = items["jql"] ?? ""
            guard !jql.contains("=="), jql.filter({ $0 == "\"" }).count % 2 == 0 else {
                return error(400, "Error in the JQL Query: \(jql)")
            }
            let words = jql.components(separatedBy: "~").dropFirst().first?
                .trimmingCharacters(in: CharacterSet(charactersIn: " \"'")).lowercased()
            let found = content.withLock { Array($0.issues.values) }
                .filter { words == nil || $0.summary.lowercased().contains(words!) }
                .sorted { $0.id < $1.id }
            let limit = Int(items["maxResults"] ?? "") ?? 50
            return .json([
                "startAt": 0, "maxResults": limit, "total": found.count, "issues": found.prefix(limit).map(issueJSON),
            ])
        }
        if Self.match(method, segments, "GET", ["rest", "api", "2", "dashboard"]) != nil {
            return .json([
                "startAt": 0, "maxResults": 20, "total": 1,
                "dashboards": [["id": "10000", "name": "System Dashboard"]],
            ])
        }
        return nil
    }

    /// Confluence's content, comment, attachment and search resources.
    func confluenceContent(
        method: String, segments: [String], items: [String: String], body: Data, contentType: String?
    )
        -> Answer?
    {
        if Self.match(method, segments, "POST", ["rest", "api", "content"]) != nil {
            guard let object = Self.object(body),
                let title = object["title"] as? String ?? (object["type"] as? String == "comment" ? "Re:" : nil),
                !title.isEmpty
            else { return error(400, "A page must have a title") }
            let type = object["type"] as? String ?? "page"
            let text = ((object["body"] as? [String: Any])?["storage"] as? [String: Any])?["value"] as? String ?? ""
            let container = ((object["container"] as? [String: Any])?["id"] as? String).flatMap(Int.init)
            if type == "comment" {
                guard let container, content.withLock({ $0.pages[container] != nil }) else {
                    return error(404, "No content found with id: \(container.map(String.init) ?? "none")")
                }
            }
            let page = content.withLock { $0.createPage(type: type, title: title, body: text, container: container) }
            return .json(pageJSON(page))
        }
        if let captures = Self.match(method, segments, "GET", ["rest", "api", "content", "*"]),
            let id = Int(captures[0])
        {
            guard let page = content.withLock({ $0.pages[id] }) else {
                return error(404, "No content found with id: \(id)")
            }
            return .json(pageJSON(page))
        }
        if let captures = Self.match(method, segments, "PUT", ["rest", "api", "content", "*"]),
            let id = Int(captures[0])
        {
            guard let object = Self.object(body), let version = (object["version"] as? [String: Any])?["number"] as? Int
            else { return error(400, "The body must carry version.number") }
            let text = ((object["body"] as? [String: Any])?["storage"] as? [String: Any])?["value"] as? String
            let title = object["title"] as? String
            let (page, current) = content.withLock { content -> (Content.Page?, Int?) in
                guard var page = content.pages[id] else { return (nil, nil) }
                guard version == page.version + 1 else { return (nil, page.version) }
                page.version = version
                if let title { page.title = title }
                if let text { page.body = text }
                content.pages[id] = page
                return (page, nil)
            }
            if let page { return .json(pageJSON(page)) }
            if let current {
                return error(409, "Version must be incremented on update. Current version is: \(current)")
            }
            return error(404, "No content found with id: \(id)")
        }
        if let captures = Self.match(method, segments, "DELETE", ["rest", "api", "content", "*"]),
            let id = Int(captures[0])
        {
            let removed = content.withLock { $0.pages.removeValue(forKey: id) }
            return removed != nil ? .noContent : error(404, "No content found with id: \(id)")
        }
        if let captures = Self.match(method, segments, "POST", ["rest", "api", "content", "*", "child", "attachment"]),
            let id = Int(captures[0])
        {
            guard let (name, data) = Self.multipartFile(body, contentType: contentType) else {
                return error(400, "Expected a multipart/form-data body with a file part")
            }
            let found = content.withLock { content -> Bool in
                guard content.pages[id] != nil else { return false }
                content.pages[id]!.attachments[name] = data
                return true
            }
            guard found else { return error(404, "No content found with id: \(id)") }
            return .json([
                "results": [
                    [
                        "title": name, "type": "attachment",
                        "_links": ["download": "/download/attachments/\(id)/\(name)"],
                    ]
                ],
                "size": 1,
            ])
        }
        if Self.match(method, segments, "GET", ["rest", "api", "content", "search"]) != nil {
            let cql = items["cql"] ?? ""
            guard cql.filter({ $0 == "\"" }).count % 2 == 0, !cql.isEmpty else {
                return error(400, "Could not parse cql : \(cql)")
            }
            let words = cql.components(separatedBy: "~").dropFirst().first?
                .trimmingCharacters(in: CharacterSet(charactersIn: " \"'")).lowercased()
            let found = content.withLock { Array($0.pages.values) }
                .filter { $0.type == "page" && (words == nil || $0.title.lowercased().contains(words!)) }
                .sorted { $0.id < $1.id }
            return .json(["results": found.map(pageJSON), "size": found.count])
        }
        return nil
    }

    /// Bytes of a download (`/download/attachments/{page}/{name}`), outside the REST API.
    func download(segments: [String]) -> Data? {
        guard segments.count == 4, segments[0] == "download", segments[1] == "attachments", let id = Int(segments[2])
        else {
            return nil
        }
        return content.withLock { $0.pages[id]?.attachments[segments[3]] }
    }

    /// The first file part of a `multipart/form-data` body: its filename and bytes.
    static func multipartFile(_ body: Data, contentType: String?) -> (String, Data)? {
        guard let contentType, let range = contentType.range(of: "boundary=") else { return nil }
        let boundary = "--" + contentType[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let delimiter = Data(boundary.utf8)
        guard let first = body.range(of: delimiter),
            let headerEnd = body.range(of: Data("\r\n\r\n".utf8), in: first.upperBound..<body.endIndex)
        else { return nil }
        let headers = String(decoding: body[first.upperBound..<headerEnd.lowerBound], as: UTF8.self)
        guard let nameRange = headers.range(of: "filename=\"") else { return nil }
        let name = String(headers[nameRange.upperBound...].prefix { $0 != "\"" })
        guard let end = body.range(of: Data("\r\n".utf8) + delimiter, in: headerEnd.upperBound..<body.endIndex) else {
            return nil
        }
        return (name, Data(body[headerEnd.upperBound..<end.lowerBound]))
    }
}
