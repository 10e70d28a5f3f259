import AtlassianAdmin
import Foundation

extension AtlassianSimulator {
    func contentJSON(_ content: ConfluenceTables.Content) -> [String: Any] {
        var json: [String: Any] = [
            "id": String(content.id), "type": content.restType, "status": content.status,
            "title": content.title ?? "", "version": ["number": content.version],
            "body": ["storage": ["value": content.body ?? "", "representation": "storage"]],
            "_links": ["webui": "/pages/viewpage.action?pageId=\(content.id)", "self": "\(baseURL)/rest/api/content/\(content.id)"],
        ]
        if let key = content.spaceKey, let id = content.spaceId {
            json["space"] = ["id": id, "key": key, "name": content.spaceName ?? key]
        }
        if let page = content.pageId { json["container"] = ["id": String(page)] }
        if content.restType == "attachment", let page = content.pageId {
            json["_links"] = ["download": "/download/attachments/\(page)/\(content.title ?? "")"]
        }
        return json
    }

    static func storageBody(_ object: [String: Any]) -> String? {
        ((object["body"] as? [String: Any])?["storage"] as? [String: Any])?["value"] as? String
    }

    /// Confluence's content, comment, attachment and search resources, on `content`,
    /// `bodycontent`, `spaces`, `contentproperties` and the shared home's attachments.
    func confluenceContent(
        method: String, segments: [String], items: [String: String], user: Principal?, body: Data,
        contentType: String?
    ) async throws -> Answer? {
        let author = user?.name
        if Self.match(method, segments, "POST", ["rest", "api", "content"]) != nil {
            guard let object = Self.object(body) else { return error(400, "The body must be a JSON object") }
            let type = (object["type"] as? String ?? "page").lowercased()
            guard ["page", "blogpost", "comment"].contains(type) else {
                return error(400, "Cannot create content of type \(type) here")
            }
            let title = object["title"] as? String
            if type != "comment" && (title ?? "").isEmpty { return error(400, "A page must have a title") }
            let text = Self.storageBody(object) ?? ""
            let spaceKey = (object["space"] as? [String: Any])?["key"] as? String
            let container = ((object["container"] as? [String: Any])?["id"]).flatMap { value -> Int64? in
                (value as? String).flatMap(Int64.init) ?? (value as? Int).map(Int64.init)
            }
            do {
                let created = try await confluenceTransaction { tables in
                    let key = author == nil ? nil : try await tables.userKey(author!)
                    return try await tables.create(
                        type: type, title: type == "comment" ? nil : title, body: text, spaceKey: spaceKey,
                        container: container, author: key)
                }
                return .json(contentJSON(created))
            } catch ConfluenceTables.CreateError.badRequest(let message) {
                return error(400, message)
            } catch ConfluenceTables.CreateError.notFound(let message) {
                return error(404, message)
            }
        }
        if Self.match(method, segments, "GET", ["rest", "api", "content", "search"]) != nil {
            let cql = items["cql"] ?? ""
            let query: SearchQuery
            do {
                guard !cql.isEmpty else { throw SearchQuery.SyntaxError(description: "empty") }
                query = try SearchQuery.parse(cql)
            } catch { return self.error(400, "Could not parse cql : \(cql)") }
            let limit = Int(items["limit"] ?? "") ?? 25
            let start = Int(items["start"] ?? "") ?? 0
            do {
                let found = try await confluenceTables { try await $0.search(query, limit: limit, start: start) }
                return .json(["results": found.map(contentJSON), "size": found.count, "start": start, "limit": limit])
            } catch let failure as ConfluenceTables.SearchError {
                return error(400, failure.message)
            }
        }
        if let captures = Self.match(method, segments, "GET", ["rest", "api", "content", "*"]) {
            guard let id = Int64(captures[0]),
                let content = try await confluenceTables({ try await $0.content(id: id) })
            else { return error(404, "No content found with id: \(captures[0])") }
            return .json(contentJSON(content))
        }
        if let captures = Self.match(method, segments, "PUT", ["rest", "api", "content", "*"]) {
            guard let id = Int64(captures[0]) else { return error(404, "No content found with id: \(captures[0])") }
            guard let object = Self.object(body),
                let version = (object["version"] as? [String: Any])?["number"] as? Int
            else { return error(400, "The body must carry version.number") }
            let text = Self.storageBody(object)
            let title = object["title"] as? String
            enum Outcome: Sendable {
                case missing
                case conflict(Int)
                case updated(ConfluenceTables.Content)
            }
            let outcome = try await confluenceTransaction { tables -> Outcome in
                guard let current = try await tables.content(id: id) else { return .missing }
                guard version == current.version + 1 else { return .conflict(current.version) }
                let key = author == nil ? nil : try await tables.userKey(author!)
                try await tables.update(id: id, title: title, body: text, version: version, author: key)
                guard let updated = try await tables.content(id: id) else { return .missing }
                return .updated(updated)
            }
            switch outcome {
            case .missing: return error(404, "No content found with id: \(id)")
            case .conflict(let current):
                return error(409, "Version must be incremented on update. Current version is: \(current)")
            case .updated(let content): return .json(contentJSON(content))
            }
        }
        if let captures = Self.match(method, segments, "DELETE", ["rest", "api", "content", "*"]) {
            guard let id = Int64(captures[0]) else { return error(404, "No content found with id: \(captures[0])") }
            let found = try await confluenceTransaction { tables -> Bool in
                guard try await tables.content(id: id) != nil else { return false }
                try await tables.trash(id: id)
                return true
            }
            return found ? .noContent : error(404, "No content found with id: \(id)")
        }
        if let captures = Self.match(method, segments, "POST", ["rest", "api", "content", "*", "child", "attachment"]) {
            guard let id = Int64(captures[0]) else { return error(404, "No content found with id: \(captures[0])") }
            guard let (name, data, mediaType) = Self.multipartFile(body, contentType: contentType) else {
                return error(400, "Expected a multipart/form-data body with a file part")
            }
            guard let sharedHome = configuration.sharedHome else {
                return error(500, "the simulator has no shared home configured; attachments cannot be stored")
            }
            enum Outcome: Sendable {
                case missing
                case duplicate
                case stored(Int64)
            }
            let outcome = try await confluenceTransaction { tables -> Outcome in
                guard let page = try await tables.content(id: id), ["PAGE", "BLOGPOST"].contains(page.type),
                    let spaceId = page.spaceId
                else { return .missing }
                if try await tables.attachment(pageId: id, name: name) != nil { return .duplicate }
                let key = author == nil ? nil : try await tables.userKey(author!)
                let attachment = try await tables.createAttachment(
                    page: page, name: name, size: data.count, mediaType: mediaType, author: key)
                let file = ConfluenceTables.attachmentPath(
                    sharedHome: sharedHome, spaceId: spaceId, pageId: id, attachmentId: attachment, version: 1)
                // Written before the commit: a failed write rolls the rows back.
                try FileManager.default.createDirectory(
                    at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: file)
                return .stored(attachment)
            }
            switch outcome {
            case .missing: return error(404, "No content found with id: \(id)")
            case .duplicate:
                return error(
                    400, "Cannot add a new attachment with same file name as an existing attachment: \(name)")
            case .stored(let attachment):
                return .json([
                    "results": [
                        [
                            "id": "att\(attachment)", "title": name, "type": "attachment", "status": "current",
                            "version": ["number": 1],
                            "extensions": ["mediaType": mediaType, "fileSize": data.count],
                            "_links": ["download": "/download/attachments/\(id)/\(name)?version=1&api=v2"],
                        ]
                    ],
                    "size": 1,
                ])
            }
        }
        return nil
    }

    /// Bytes of a download (`/download/attachments/{page}/{name}`, outside the REST API), read
    /// from the shared home where the attachment's `content` row says they are.
    func download(segments: [String], items: [String: String]) async throws -> Answer? {
        guard segments.count == 4, segments[0] == "download", segments[1] == "attachments" else { return nil }
        guard let pageId = Int64(segments[2]) else { return error(404, "No attachment \(segments[3])") }
        let name = segments[3]
        guard let attachment = try await confluenceTables({ try await $0.attachment(pageId: pageId, name: name) }),
            let spaceId = attachment.spaceId
        else { return error(404, "No attachment \(name) on content \(pageId)") }
        guard let sharedHome = configuration.sharedHome else {
            return error(500, "the simulator has no shared home configured; attachments cannot be read")
        }
        let version = items["version"].flatMap(Int.init) ?? attachment.version
        let file = ConfluenceTables.attachmentPath(
            sharedHome: sharedHome, spaceId: spaceId, pageId: pageId, attachmentId: attachment.id, version: version)
        guard let data = FileManager.default.contents(atPath: file.path) else {
            return error(404, "The data of attachment \(name) (\(attachment.id), version \(version)) is missing from the shared home")
        }
        return Answer(status: 200, body: data, contentType: "application/octet-stream")
    }

    /// The first file part of a `multipart/form-data` body: its filename, bytes and media type.
    static func multipartFile(_ body: Data, contentType: String?) -> (String, Data, String)? {
        guard let contentType, let range = contentType.range(of: "boundary=") else { return nil }
        let boundary = "--" + contentType[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let delimiter = Data(boundary.utf8)
        guard let first = body.range(of: delimiter),
            let headerEnd = body.range(of: Data("\r\n\r\n".utf8), in: first.upperBound..<body.endIndex)
        else { return nil }
        let headers = String(decoding: body[first.upperBound..<headerEnd.lowerBound], as: UTF8.self)
        guard let nameRange = headers.range(of: "filename=\"") else { return nil }
        let name = String(headers[nameRange.upperBound...].prefix { $0 != "\"" })
        guard !name.isEmpty, !name.contains("/"),
            let end = body.range(of: Data("\r\n".utf8) + delimiter, in: headerEnd.upperBound..<body.endIndex)
        else { return nil }
        var mediaType = "application/octet-stream"
        for line in headers.split(whereSeparator: \.isNewline) where line.lowercased().hasPrefix("content-type:") {
            mediaType = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
        }
        return (name, Data(body[headerEnd.upperBound..<end.lowerBound]), mediaType)
    }

    func confluence(method: String, segments: [String], items: [String: String], user: Principal?, body: Data)
        async throws -> Answer
    {
        let adminOnly = "Could not perform this operation: only system administrators may do that."
        let isAdmin = user?.isAdmin == true
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "server-information"]) {
            let (settings, build) = try await confluenceTables { tables in
                (try await tables.settings(), try await tables.buildNumber())
            }
            return .json([
                "baseUrl": settings.baseURL ?? "", "siteTitle": settings.siteTitle ?? "",
                "serverTitle": settings.siteTitle ?? "", "version": configuration.version ?? "unknown",
                "buildNumber": build ?? 0,
            ])
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "user", "current"]) {
            return .json([
                "type": "known", "username": user!.name, "userKey": user!.key, "displayName": user!.displayName,
            ])
        }
        if let _ = Self.match(method, segments, "GET", ["rest", "api", "color-scheme"]) {
            guard isAdmin else { return error(403, adminOnly) }
            let values = try await confluenceTables { try await $0.bandana(prefix: ConfluenceTables.colourKeys.light) }
            var json: [String: Any] = [:]
            if let light = values[ConfluenceTables.colourKeys.light] {
                json["colorSchemeModelLight"] = ConfluenceTables.xstreamMap(light)
            }
            if let dark = values[ConfluenceTables.colourKeys.dark] {
                json["colorSchemeModelDark"] = ConfluenceTables.xstreamMap(dark)
            }
            return .json(json)
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
            var values: [String: String?] = [:]
            if let light = scheme.colorSchemeModelLight {
                values[ConfluenceTables.colourKeys.light] = ConfluenceTables.xstream(map: light)
            }
            if let dark = scheme.colorSchemeModelDark {
                values[ConfluenceTables.colourKeys.dark] = ConfluenceTables.xstream(map: dark)
            }
            if !values.isEmpty {
                let settled = values
                try await confluenceTransaction { try await $0.setBandana(settled) }
            }
            return .noContent
        }
        return error(404, "The simulator does not serve \(method) /\(segments.joined(separator: "/"))")
    }
}
