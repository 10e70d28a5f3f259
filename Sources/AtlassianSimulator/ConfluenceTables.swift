import AtlassianAdmin
import Foundation
import PostgresNIO

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Confluence 6's own tables, read and written as Confluence does (Hibernate):
///
/// - settings: `bandana` context `_GLOBAL`, key `atlassian.confluence.settings` (XStream XML:
///   `siteTitle`, `baseUrl`, `customHtmlSettings`); application links and the colour scheme are
///   other `_GLOBAL` keys (`applinks.*` as `<string>`/`<list>` XStream values);
/// - content: `content` rows (`contenttype` `PAGE`, `BLOGPOST`, `COMMENT`, `ATTACHMENT`; the
///   current version has `prevver` null, older versions point at it; `content_status` `current`,
///   `deleted` once trashed), bodies in `bodycontent` (`bodytypeid` 2, storage format), spaces in
///   `spaces`, attachment metadata in `contentproperties` (`FILESIZE`, `MEDIA_TYPE`) and the bytes
///   in the shared home (``attachmentPath(sharedHome:spaceId:pageId:attachmentId:version:)``);
/// - ids: Hibernate's hi/lo, `hibernate_unique_key.next_hi` taken once per block of 32,768;
/// - users: `cwd_user` (`active` `T`) in an active `cwd_directory`, groups by `cwd_membership`
///   and `cwd_group`, user keys by `user_mapping`; the build by `confversion`.
struct ConfluenceTables: Sendable {
    let db: SimulatorDatabase
    let backend: DatabaseBackend

    static let maxLo: Int64 = 32_767

    /// The next Hibernate id: from the hi/lo block in memory, else a new block (`next_hi`
    /// incremented; ids `hi * 32768 + lo`, `lo` from 1 for hi 0, as Hibernate's legacy
    /// `TableHiLoGenerator`). Must run inside a transaction.
    func nextId() async throws -> Int64 {
        if let cached = backend.takeCachedId("hibernate_unique_key") { return cached }
        guard let hi = try await db.rows("SELECT next_hi::bigint FROM hibernate_unique_key FOR UPDATE").first?
            .decode(Int64.self)
        else { throw BrokenDatabase("hibernate_unique_key has no row; Confluence cannot allocate ids") }
        try await db.run("UPDATE hibernate_unique_key SET next_hi = \(hi + 1)")
        let first = hi * (Self.maxLo + 1) + (hi == 0 ? 1 : 0)
        backend.keepBlock("hibernate_unique_key", first: first, end: (hi + 1) * (Self.maxLo + 1))
        return first
    }

    // MARK: bandana

    /// The raw `_GLOBAL` bandana values whose key starts with `prefix`.
    func bandana(prefix: String) async throws -> [String: String] {
        var values: [String: String] = [:]
        for row in try await db.rows(
            "SELECT bandanakey, bandanavalue FROM bandana WHERE bandanacontext = '_GLOBAL' AND starts_with(bandanakey, \(prefix))"
        ) {
            let (key, value) = try row.decode((String, String?).self)
            values[key] = value ?? ""
        }
        return values
    }

    /// Sets (or, for nil, removes) `_GLOBAL` bandana values. Must run inside a transaction.
    func setBandana(_ values: [String: String?]) async throws {
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let value else {
                try await db.run("DELETE FROM bandana WHERE bandanacontext = '_GLOBAL' AND bandanakey = \(key)")
                continue
            }
            let updated = try await db.rows(
                """
                UPDATE bandana SET bandanavalue = \(value) WHERE bandanacontext = '_GLOBAL' AND bandanakey = \(key)
                RETURNING bandanaid::bigint
                """)
            if updated.isEmpty {
                let id = try await nextId()
                try await db.run(
                    "INSERT INTO bandana (bandanaid, bandanacontext, bandanakey, bandanavalue) VALUES (\(id), '_GLOBAL', \(key), \(value))"
                )
            }
        }
    }

    static func xml(_ text: String) throws -> XMLElement? {
        try XMLDocument(xmlString: text, options: [.nodePreserveWhitespace]).rootElement()
    }

    /// The text of an XStream `<string>` value.
    static func xstreamString(_ text: String) -> String? { (try? xml(text))?.stringValue }

    static func xstreamList(_ text: String) -> [String] {
        ((try? xml(text))?.elements(forName: "string") ?? []).compactMap(\.stringValue)
    }

    static func xstream(string: String) -> String { XMLElement(name: "string", stringValue: string).xmlString }

    static func xstream(list: [String]) -> String {
        let element = XMLElement(name: "list")
        for item in list { element.addChild(XMLElement(name: "string", stringValue: item)) }
        return element.xmlString
    }

    // MARK: Settings

    struct Settings: Sendable {
        let siteTitle: String?
        let baseURL: String?
        let customHTML: [String: String]
    }

    /// The global settings; throws ``BrokenDatabase`` when the row is missing or not XML.
    func settings() async throws -> Settings {
        guard let text = try await bandana(prefix: "atlassian.confluence.settings")["atlassian.confluence.settings"]
        else { throw BrokenDatabase("bandana has no _GLOBAL atlassian.confluence.settings; the restore is incomplete") }
        guard let root = try? Self.xml(text) else {
            throw BrokenDatabase("bandana atlassian.confluence.settings is not XML")
        }
        var custom: [String: String] = [:]
        for element in root.elements(forName: "customHtmlSettings").first?.children ?? [] {
            if let name = element.name { custom[name] = element.stringValue ?? "" }
        }
        return Settings(
            siteTitle: root.elements(forName: "siteTitle").first?.stringValue,
            baseURL: root.elements(forName: "baseUrl").first?.stringValue, customHTML: custom)
    }

    /// The newest `confversion` build number.
    func buildNumber() async throws -> Int? {
        guard try await db.missingTables(["confversion"]).isEmpty else { return nil }
        return try await db.rows("SELECT buildnumber::int FROM confversion ORDER BY confversionid DESC LIMIT 1").first?
            .decode(Int?.self)
    }

    // MARK: Application links

    func applicationLinks() async throws -> [ApplicationLink] {
        let values = try await bandana(prefix: "applinks.")
        let ids = values[JiraTables.linkIdsKey].map(Self.xstreamList) ?? []
        return ids.compactMap { id -> ApplicationLink? in
            let base = "applinks.admin.\(id)."
            func value(_ name: String) -> String? { values[base + name].flatMap(Self.xstreamString) }
            guard let rpc = value("rpc.url") else { return nil }
            return ApplicationLink(
                id: id, name: value("name") ?? id, typeId: JiraTables.typeId(ofClass: value("type") ?? ""),
                rpcUrl: rpc, displayUrl: value("display.url"), isPrimary: value("primary") == "true")
        }
    }

    func saveApplicationLink(_ link: ApplicationLink) async throws {
        var ids = try await applicationLinks().map(\.id)
        if !ids.contains(link.id) { ids.append(link.id) }
        let base = "applinks.admin.\(link.id)."
        var values: [String: String?] = [
            base + "name": Self.xstream(string: link.name),
            base + "type": Self.xstream(string: JiraTables.typeClasses[link.typeId] ?? link.typeId),
            base + "display.url": Self.xstream(string: link.displayUrl ?? link.rpcUrl),
            base + "rpc.url": Self.xstream(string: link.rpcUrl),
            base + "primary": Self.xstream(string: link.isPrimary ? "true" : "false"),
        ]
        values[JiraTables.linkIdsKey] = Self.xstream(list: ids)
        try await setBandana(values)
    }

    func deleteApplicationLink(id: String) async throws -> Bool {
        let ids = try await applicationLinks().map(\.id)
        guard ids.contains(id) else { return false }
        var values: [String: String?] = [JiraTables.linkIdsKey: Self.xstream(list: ids.filter { $0 != id })]
        for key in try await bandana(prefix: "applinks.admin.\(id).").keys { values[key] = .some(nil) }
        try await setBandana(values)
        return true
    }

    // MARK: Colour scheme

    static let colourKeys = (light: "atlassian.confluence.colour.scheme", dark: "atlassian.confluence.colour.scheme.dark")

    static func xstreamMap(_ text: String) -> [String: String] {
        var map: [String: String] = [:]
        for entry in (try? xml(text))?.elements(forName: "entry") ?? [] {
            let strings = entry.elements(forName: "string").compactMap(\.stringValue)
            if strings.count == 2 { map[strings[0]] = strings[1] }
        }
        return map
    }

    static func xstream(map: [String: String]) -> String {
        let root = XMLElement(name: "map")
        for (key, value) in map.sorted(by: { $0.key < $1.key }) {
            let entry = XMLElement(name: "entry")
            entry.addChild(XMLElement(name: "string", stringValue: key))
            entry.addChild(XMLElement(name: "string", stringValue: value))
            root.addChild(entry)
        }
        return root.xmlString
    }

    // MARK: Users

    struct User: Sendable {
        let name: String
        let key: String
        let displayName: String?
        let credential: String?
        let isAdmin: Bool
    }

    /// The active user `name` of an active directory, admin by `confluence-administrators`.
    func user(named name: String) async throws -> User? {
        let lower = name.lowercased()
        let rows = try await db.rows(
            """
            SELECT u.id::bigint, u.user_name, u.display_name, u.credential,
                   (SELECT m.user_key FROM user_mapping m WHERE m.lower_username = u.lower_user_name LIMIT 1)
            FROM cwd_user u JOIN cwd_directory d ON d.id = u.directory_id
            WHERE u.lower_user_name = \(lower) AND u.active = 'T' AND d.active = 'T'
            ORDER BY d.id LIMIT 1
            """)
        guard let row = rows.first else { return nil }
        let (id, userName, display, credential, key) = try row.decode((Int64, String, String?, String?, String?).self)
        let admin = try await db.rows(
            """
            SELECT 1 FROM cwd_membership m JOIN cwd_group g ON g.id = m.parent_id
            WHERE m.child_user_id = \(id) AND g.lower_group_name = 'confluence-administrators' AND g.active = 'T'
            """)
        return User(name: userName, key: key ?? lower, displayName: display, credential: credential, isAdmin: !admin.isEmpty)
    }

    func userKey(_ name: String) async throws -> String? {
        try await db.rows("SELECT user_key FROM user_mapping WHERE lower_username = \(name.lowercased()) LIMIT 1").first?
            .decode(String.self)
    }

    // MARK: Content

    struct Content: Sendable {
        let id: Int64
        let type: String
        let title: String?
        let version: Int
        let status: String
        let spaceId: Int64?
        let spaceKey: String?
        let spaceName: String?
        let pageId: Int64?
        let body: String?
        let created: Date?
        let modified: Date?

        /// `page`, `blogpost`, `comment`, `attachment`.
        var restType: String { type.lowercased() }
    }

    static let contentColumns = """
        SELECT c.contentid, c.contenttype, c.title, COALESCE(c.version, 1), COALESCE(c.content_status, 'current'),
               c.spaceid, s.spacekey, s.spacename, c.pageid,
               (SELECT b.body FROM bodycontent b WHERE b.contentid = c.contentid ORDER BY b.bodycontentid DESC LIMIT 1),
               c.creationdate, c.lastmoddate
        FROM content c LEFT JOIN spaces s ON s.spaceid = c.spaceid
        """

    static func content(_ row: PostgresRow) throws -> Content {
        let cells = row.makeRandomAccess()
        return Content(
            id: try cells[0].decode(Int64.self), type: try cells[1].decode(String.self),
            title: try cells[2].decode(String?.self), version: try cells[3].decode(Int.self),
            status: try cells[4].decode(String.self), spaceId: try cells[5].decode(Int64?.self),
            spaceKey: try cells[6].decode(String?.self), spaceName: try cells[7].decode(String?.self),
            pageId: try cells[8].decode(Int64?.self), body: try cells[9].decode(String?.self),
            created: try cells[10].decode(Date?.self), modified: try cells[11].decode(Date?.self))
    }

    static let restTypes = ["PAGE", "BLOGPOST", "COMMENT", "ATTACHMENT"]

    /// The current version of content `id` that is not trashed (nil otherwise).
    func content(id: Int64) async throws -> Content? {
        let rows = try await db.rows(
            PostgresQuery(
                unsafeSQL: Self.contentColumns
                    + " WHERE c.contentid = $1 AND c.prevver IS NULL AND c.content_status = 'current'"
                    + " AND c.contenttype IN ('PAGE', 'BLOGPOST', 'COMMENT', 'ATTACHMENT')",
                binds: JiraTables.binds(id)))
        return try rows.first.map(Self.content)
    }

    enum CreateError: Error {
        case badRequest(String)
        case notFound(String)
    }

    /// Creates a page or blog post in `spaceKey`, or a comment on `container`. Must run inside a
    /// transaction.
    func create(type: String, title: String?, body: String, spaceKey: String?, container: Int64?, author: String?)
        async throws -> Content
    {
        let id = try await nextId()
        let contentType = type.uppercased()
        var spaceId: Int64?
        var pageId: Int64?
        if contentType == "COMMENT" {
            guard let container, let page = try await content(id: container), page.type != "COMMENT" else {
                throw CreateError.notFound("No content found with id: \(container.map(String.init) ?? "none")")
            }
            pageId = page.id
        } else {
            guard let spaceKey,
                let found = try await db.rows("SELECT spaceid FROM spaces WHERE spacekey = \(spaceKey)").first?.decode(
                    Int64.self)
            else { throw CreateError.badRequest("No space with key : \(spaceKey ?? "")") }
            spaceId = found
            let title = title ?? ""
            let duplicate = try await db.rows(
                """
                SELECT 1 FROM content WHERE spaceid = \(found) AND lowertitle = \(title.lowercased())
                AND contenttype = \(contentType) AND prevver IS NULL AND content_status = 'current'
                """)
            if !duplicate.isEmpty {
                throw CreateError.badRequest(
                    "A page with this title already exists: A page already exists with the title \(title) in the space with key \(spaceKey)"
                )
            }
        }
        try await db.run(
            """
            INSERT INTO content (contentid, hibernateversion, contenttype, title, lowertitle, version, creator,
                                 creationdate, lastmodifier, lastmoddate, content_status, spaceid, pageid)
            VALUES (\(id), 0, \(contentType), \(title), \(title?.lowercased()), 1, \(author), now(), \(author), now(),
                    'current', \(spaceId), \(pageId))
            """)
        try await db.run(
            "INSERT INTO bodycontent (bodycontentid, body, contentid, bodytypeid) VALUES (\(try await nextId()), \(body), \(id), 2)"
        )
        guard let created = try await content(id: id) else { throw BrokenDatabase("content \(id) cannot be read back") }
        return created
    }

    /// Makes `title` and `body` version `version` of content `id`, keeping the previous version as
    /// a historical row (`prevver` = `id`) with its body, as Confluence does. Must run inside a
    /// transaction.
    func update(id: Int64, title: String?, body: String?, version: Int, author: String?) async throws {
        let historical = try await nextId()
        try await db.run(
            """
            INSERT INTO content (contentid, hibernateversion, contenttype, title, lowertitle, version, creator,
                                 creationdate, lastmodifier, lastmoddate, versioncomment, prevver, content_status,
                                 spaceid, pageid, parentid)
            SELECT \(historical), 0, contenttype, title, lowertitle, version, creator, creationdate, lastmodifier,
                   lastmoddate, versioncomment, contentid, content_status, spaceid, pageid, parentid
            FROM content WHERE contentid = \(id)
            """)
        try await db.run(
            """
            INSERT INTO bodycontent (bodycontentid, body, contentid, bodytypeid)
            SELECT \(try await nextId()), body, \(historical), bodytypeid FROM bodycontent WHERE contentid = \(id)
            ORDER BY bodycontentid DESC LIMIT 1
            """)
        try await db.run(
            """
            UPDATE content SET version = \(version), title = COALESCE(\(title), title),
                   lowertitle = COALESCE(lower(\(title)), lowertitle), lastmodifier = \(author), lastmoddate = now(),
                   hibernateversion = hibernateversion + 1
            WHERE contentid = \(id)
            """)
        if let body {
            let updated = try await db.rows(
                "UPDATE bodycontent SET body = \(body) WHERE contentid = \(id) RETURNING bodycontentid")
            if updated.isEmpty {
                try await db.run(
                    "INSERT INTO bodycontent (bodycontentid, body, contentid, bodytypeid) VALUES (\(try await nextId()), \(body), \(id), 2)"
                )
            }
        }
    }

    /// Moves content `id` to the trash (`content_status` `deleted`), as a DELETE of current
    /// content does. Must run inside a transaction.
    func trash(id: Int64) async throws {
        try await db.run(
            "UPDATE content SET content_status = 'deleted', lastmoddate = now(), hibernateversion = hibernateversion + 1 WHERE contentid = \(id)"
        )
    }

    // MARK: Attachments

    /// Where Confluence keeps version `version` of an attachment (the hierarchical file system
    /// attachment storage, `ver003`): under `attachments/ver003/`, the space id's last three
    /// digits modulo 250, its next three digits modulo 250, the space id, the same two levels and
    /// the full id for the page, then the attachment id and a file named by the version.
    static func attachmentPath(sharedHome: URL, spaceId: Int64, pageId: Int64, attachmentId: Int64, version: Int)
        -> URL
    {
        func levels(_ id: Int64) -> [String] { [String((id % 1000) % 250), String(((id / 1000) % 1000) % 250), String(id)] }
        let components = ["attachments", "ver003"] + levels(spaceId) + levels(pageId) + [String(attachmentId), String(version)]
        return components.reduce(sharedHome) { $0.appendingPathComponent($1) }
    }

    /// The current attachment `name` of page `pageId`.
    func attachment(pageId: Int64, name: String) async throws -> Content? {
        let rows = try await db.rows(
            PostgresQuery(
                unsafeSQL: Self.contentColumns
                    + " WHERE c.pageid = $1 AND c.title = $2 AND c.contenttype = 'ATTACHMENT' AND c.prevver IS NULL"
                    + " AND c.content_status = 'current'",
                binds: JiraTables.binds(pageId, name)))
        return try rows.first.map(Self.content)
    }

    /// Records attachment `name` of `page` (its `content` row and `contentproperties` `FILESIZE`
    /// and `MEDIA_TYPE`); the caller writes the bytes. Must run inside a transaction.
    func createAttachment(page: Content, name: String, size: Int, mediaType: String, author: String?) async throws
        -> Int64
    {
        let id = try await nextId()
        try await db.run(
            """
            INSERT INTO content (contentid, hibernateversion, contenttype, title, lowertitle, version, creator,
                                 creationdate, lastmodifier, lastmoddate, content_status, spaceid, pageid)
            VALUES (\(id), 0, 'ATTACHMENT', \(name), \(name.lowercased()), 1, \(author), now(), \(author), now(),
                    'current', \(page.spaceId), \(page.id))
            """)
        try await db.run(
            "INSERT INTO contentproperties (propertyid, propertyname, longval, contentid) VALUES (\(try await nextId()), 'FILESIZE', \(Int64(size)), \(id))"
        )
        try await db.run(
            "INSERT INTO contentproperties (propertyid, propertyname, stringval, contentid) VALUES (\(try await nextId()), 'MEDIA_TYPE', \(mediaType), \(id))"
        )
        return id
    }

    struct SearchError: Error {
        let message: String
    }

    /// The current content `query` finds (the CQL subset of ``SearchQuery``: `space`, `type`,
    /// `title`, `text`, `id`).
    func search(_ query: SearchQuery, limit: Int, start: Int) async throws -> [Content] {
        var conditions = [
            "c.prevver IS NULL", "c.content_status = 'current'",
            "c.contenttype IN ('PAGE', 'BLOGPOST', 'COMMENT', 'ATTACHMENT')",
        ]
        var bindings = PostgresBindings()
        func bind(_ value: String) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        for clause in query.clauses {
            let text = clause.op.hasSuffix("~")
            var condition: String
            switch (clause.field, text) {
            case ("space", false): condition = "s.spacekey = \(bind(clause.value))"
            case ("type", false): condition = "c.contenttype = upper(\(bind(clause.value)))"
            case ("title", false): condition = "c.title = \(bind(clause.value))"
            case ("id", false), ("content", false): condition = "c.contentid::text = \(bind(clause.value))"
            case ("title", true): condition = "c.title ILIKE \(bind("%" + clause.value + "%"))"
            case ("text", true):
                let value = bind("%" + clause.value + "%")
                condition =
                    "(c.title ILIKE \(value) OR EXISTS (SELECT 1 FROM bodycontent b WHERE b.contentid = c.contentid AND b.body ILIKE \(value)))"
            default: throw SearchError(message: "Could not parse cql : unsupported field or operator '\(clause.field) \(clause.op)'")
            }
            if clause.op.hasPrefix("!") { condition = "NOT \(condition)" }
            conditions.append(condition)
        }
        var order: [String] = []
        for item in query.order {
            let column: String
            switch item.field {
            case "created": column = "c.creationdate"
            case "lastmodified": column = "c.lastmoddate"
            case "title": column = "c.title"
            case "id": column = "c.contentid"
            default: throw SearchError(message: "Could not parse cql : cannot order by '\(item.field)'")
            }
            order.append("\(column) \(item.descending ? "DESC" : "ASC")")
        }
        order.append("c.contentid")
        let sql =
            Self.contentColumns + " WHERE " + conditions.joined(separator: " AND ") + " ORDER BY "
            + order.joined(separator: ", ") + " LIMIT \(max(0, limit)) OFFSET \(max(0, start))"
        return try await db.rows(PostgresQuery(unsafeSQL: sql, binds: bindings)).map(Self.content)
    }
}
