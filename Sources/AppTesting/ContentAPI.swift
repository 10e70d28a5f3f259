import AtlassianAdmin
import Foundation
import NIOHTTP1
import RelayFoundation

/// A small untyped JSON object, as the content resources answer.
public typealias JSONObject = [String: Any]

extension AtlassianConnection {
    /// Sends a JSON request and returns the JSON object of a 2xx answer (empty for no body).
    ///
    /// - Throws: ``AtlassianError`` with what the product said for anything else.
    func json(_ method: HTTPMethod, _ path: String, _ body: JSONObject? = nil) async throws -> JSONObject {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, answer) = try await raw(method, path, body: data)
        guard (200..<300).contains(status) else {
            throw AtlassianError.decode(status: status, request: "\(method.rawValue) \(path)", body: answer)
        }
        if answer.isEmpty { return [:] }
        return (try? JSONSerialization.jsonObject(with: answer)) as? JSONObject ?? [:]
    }
}

extension JiraClient {
    /// Creates an issue; returns its key.
    public func createIssue(project: String, summary: String, description: String = "", type: String = "Task")
        async throws -> String
    {
        let answer = try await connection.json(
            .POST, "/rest/api/2/issue",
            [
                "fields": [
                    "project": ["key": project], "summary": summary, "description": description,
                    "issuetype": ["name": type],
                ]
            ])
        guard let key = answer["key"] as? String else {
            throw CheckFailed("Jira created an issue but sent no key", kind: .malformedAnswer)
        }
        return key
    }

    /// An issue, as JSON.
    public func issue(_ key: String) async throws -> JSONObject {
        try await connection.json(.GET, "/rest/api/2/issue/\(PercentEncoding.component(key))")
    }

    /// Changes an issue's fields.
    public func editIssue(_ key: String, fields: JSONObject) async throws {
        _ = try await connection.json(.PUT, "/rest/api/2/issue/\(PercentEncoding.component(key))", ["fields": fields])
    }

    /// Adds a comment.
    public func addComment(_ key: String, _ text: String) async throws {
        _ = try await connection.json(
            .POST, "/rest/api/2/issue/\(PercentEncoding.component(key))/comment", ["body": text])
    }

    /// Deletes an issue.
    public func deleteIssue(_ key: String) async throws {
        _ = try await connection.json(.DELETE, "/rest/api/2/issue/\(PercentEncoding.component(key))")
    }

    /// The keys of the issues a JQL query finds.
    public func search(jql: String, maxResults: Int = 50) async throws -> [String] {
        let answer = try await connection.json(
            .GET, "/rest/api/2/search?jql=\(PercentEncoding.component(jql))&maxResults=\(maxResults)")
        return (answer["issues"] as? [JSONObject] ?? []).compactMap { $0["key"] as? String }
    }

    /// The dashboards' names.
    public func dashboards() async throws -> [String] {
        let answer = try await connection.json(.GET, "/rest/api/2/dashboard")
        return (answer["dashboards"] as? [JSONObject] ?? []).compactMap { $0["name"] as? String }
    }
}

extension ConfluenceClient {
    /// Creates a page (or blog post with `type: "blogpost"`); returns its id.
    public func createPage(space: String, title: String, body: String, type: String = "page") async throws -> String {
        let answer = try await connection.json(
            .POST, "/rest/api/content",
            [
                "type": type, "title": title, "space": ["key": space],
                "body": ["storage": ["value": body, "representation": "storage"]],
            ])
        guard let id = answer["id"] as? String else {
            throw CheckFailed("Confluence created content but sent no id", kind: .malformedAnswer)
        }
        return id
    }

    /// A page with its body and version.
    public func page(_ id: String) async throws -> JSONObject {
        try await connection.json(
            .GET, "/rest/api/content/\(PercentEncoding.component(id))?expand=body.storage,version")
    }

    /// Replaces a page's title and body, as the next version.
    public func editPage(_ id: String, title: String, body: String) async throws {
        let current = try await page(id)
        let version = (current["version"] as? JSONObject)?["number"] as? Int ?? 1
        _ = try await connection.json(
            .PUT, "/rest/api/content/\(PercentEncoding.component(id))",
            [
                "type": current["type"] as? String ?? "page", "title": title, "version": ["number": version + 1],
                "body": ["storage": ["value": body, "representation": "storage"]],
            ])
    }

    /// Adds a comment to a page.
    public func addComment(toPage id: String, _ text: String) async throws {
        _ = try await connection.json(
            .POST, "/rest/api/content",
            [
                "type": "comment", "container": ["id": id, "type": "page"],
                "body": ["storage": ["value": text, "representation": "storage"]],
            ])
    }

    /// Attaches a file to a page (multipart, with the XSRF opt-out Confluence requires).
    public func attach(toPage id: String, name: String, data: Data) async throws {
        let boundary = "atlas-relay-\(UUID().uuidString)"
        var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\n".utf8)
        body +=
            Data("Content-Type: application/octet-stream\r\n\r\n".utf8) + data + Data("\r\n--\(boundary)--\r\n".utf8)
        let path = "/rest/api/content/\(PercentEncoding.component(id))/child/attachment"
        let (status, answer) = try await connection.raw(
            .POST, path, body: body, contentType: "multipart/form-data; boundary=\(boundary)",
            headers: [("X-Atlassian-Token", "no-check")])
        guard (200..<300).contains(status) else {
            throw AtlassianError.decode(status: status, request: "POST \(path)", body: answer)
        }
    }

    /// Downloads an attachment of a page.
    public func download(page id: String, name: String) async throws -> Data {
        let path = "/download/attachments/\(PercentEncoding.component(id))/\(PercentEncoding.component(name))"
        let (status, data) = try await connection.raw(.GET, path)
        guard status == 200 else { throw AtlassianError.decode(status: status, request: "GET \(path)", body: data) }
        return data
    }

    /// Deletes a page.
    public func deletePage(_ id: String) async throws {
        _ = try await connection.json(.DELETE, "/rest/api/content/\(PercentEncoding.component(id))")
    }

    /// The ids of the content a CQL query finds.
    public func search(cql: String) async throws -> [String] {
        let answer = try await connection.json(.GET, "/rest/api/content/search?cql=\(PercentEncoding.component(cql))")
        return (answer["results"] as? [JSONObject] ?? []).compactMap { $0["id"] as? String }
    }
}
