import AtlassianAdmin
import Foundation
import PostgresNIO

/// Jira 8's own tables, read and written as Jira does (OFBiz entity engine):
///
/// - application properties: `propertyentry` (entity `jira.properties`, id 1) with the value in
///   `propertystring` (type 5), `propertytext` (type 6) or `propertynumber` (types 1 boolean, 2
///   int, 3 long); application links are such properties (`applinks.global.application.ids`, a
///   `#java.util.List` in `propertytext`, and `applinks.admin.<id>.*` strings);
/// - issues: `jiraissue` (its key is `project.pkey` and `issuenum`; `jiraissue.pkey` is empty
///   since Jira 6.1) with `project`, `issuetype`, `issuestatus`, `priority`; comments are
///   `jiraaction` rows of `actiontype` `comment`;
/// - ids: `sequence_value_item`, taken in banks of 100 as OFBiz's `SequenceUtil` does;
/// - users: `cwd_user` in an active `cwd_directory`, groups by `cwd_membership`, user keys by
///   `app_user`.
struct JiraTables: Sendable {
    let db: SimulatorDatabase
    let backend: DatabaseBackend

    static let entity = "jira.properties"
    static let bankSize: Int64 = 100

    /// The next id of OFBiz sequence `name` (`Issue`, `Action`, `OSPropertyEntry`, …): from the
    /// bank in memory, else a new bank of 100 (the row is created at 10000 when missing, as OFBiz
    /// does). Must run inside a transaction.
    func nextId(_ name: String) async throws -> Int64 {
        if let cached = backend.takeCachedId(name) { return cached }
        let rows = try await db.rows(
            "SELECT seq_id::bigint FROM sequence_value_item WHERE seq_name = \(name) FOR UPDATE")
        let first: Int64
        if let row = rows.first {
            first = try row.decode(Int64.self)
            try await db.run(
                "UPDATE sequence_value_item SET seq_id = \(first + Self.bankSize) WHERE seq_name = \(name)")
        } else {
            first = 10_000
            try await db.run(
                "INSERT INTO sequence_value_item (seq_name, seq_id) VALUES (\(name), \(first + Self.bankSize))")
        }
        backend.keepBlock(name, first: first, end: first + Self.bankSize)
        return first
    }

    // MARK: Properties

    /// A property's value as text (booleans `true`/`false`, as Jira's REST shows them).
    struct Property: Sendable {
        let id: Int64
        let type: Int
        let value: String
    }

    /// The application properties whose key starts with `prefix`, by key.
    func properties(prefix: String = "") async throws -> [String: Property] {
        let rows = try await db.rows(
            """
            SELECT e.id::bigint, e.property_key, e.propertytype::int, s.propertyvalue, t.propertyvalue,
                   n.propertyvalue::text
            FROM propertyentry e
            LEFT JOIN propertystring s ON s.id = e.id
            LEFT JOIN propertytext t ON t.id = e.id
            LEFT JOIN propertynumber n ON n.id = e.id
            WHERE e.entity_name = \(Self.entity) AND e.entity_id = 1 AND starts_with(e.property_key, \(prefix))
            """)
        var properties: [String: Property] = [:]
        for row in rows {
            let (id, key, type, string, text, number) = try row.decode(
                (Int64, String, Int, String?, String?, String?).self)
            let value: String
            switch type {
            case 1: value = number.map { $0 == "0" ? "false" : "true" } ?? ""
            case 2, 3: value = number ?? ""
            case 6: value = text ?? ""
            default: value = string ?? text ?? number ?? ""
            }
            properties[key] = Property(id: id, type: type, value: value)
        }
        return properties
    }

    /// Sets string properties (created as `propertystring`, type 5, when missing; a text
    /// property stays text). Must run inside a transaction.
    func setStrings(_ values: [String: String]) async throws {
        let existing = try await properties()
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            if let property = existing[key] {
                switch property.type {
                case 6: try await db.run("UPDATE propertytext SET propertyvalue = \(value) WHERE id = \(property.id)")
                case 5: try await db.run("UPDATE propertystring SET propertyvalue = \(value) WHERE id = \(property.id)")
                default:
                    throw BrokenDatabase("property \(key) is of type \(property.type), not a string")
                }
            } else {
                let id = try await nextId("OSPropertyEntry")
                try await db.run(
                    """
                    INSERT INTO propertyentry (id, entity_name, entity_id, property_key, propertytype)
                    VALUES (\(id), \(Self.entity), 1, \(key), 5)
                    """)
                try await db.run("INSERT INTO propertystring (id, propertyvalue) VALUES (\(id), \(value))")
            }
        }
    }

    /// Sets a text property (`propertytext`, type 6). Must run inside a transaction.
    func setText(_ key: String, _ value: String) async throws {
        if let property = try await properties(prefix: key)[key] {
            try await db.run("DELETE FROM propertystring WHERE id = \(property.id)")
            try await db.run("DELETE FROM propertytext WHERE id = \(property.id)")
            try await db.run("UPDATE propertyentry SET propertytype = 6 WHERE id = \(property.id)")
            try await db.run("INSERT INTO propertytext (id, propertyvalue) VALUES (\(property.id), \(value))")
        } else {
            let id = try await nextId("OSPropertyEntry")
            try await db.run(
                """
                INSERT INTO propertyentry (id, entity_name, entity_id, property_key, propertytype)
                VALUES (\(id), \(Self.entity), 1, \(key), 6)
                """)
            try await db.run("INSERT INTO propertytext (id, propertyvalue) VALUES (\(id), \(value))")
        }
    }

    /// Removes properties. Must run inside a transaction.
    func remove(_ keys: [String]) async throws {
        let existing = try await properties()
        for key in keys {
            guard let property = existing[key] else { continue }
            for table in ["propertystring", "propertytext", "propertynumber"] {
                try await db.run(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE id = \(property.id)"))
            }
            try await db.run("DELETE FROM propertyentry WHERE id = \(property.id)")
        }
    }

    // MARK: Server info

    /// The title, base URL, version and build number as the database records them.
    struct ServerInfo: Sendable {
        let title: String?
        let baseURL: String?
        let version: String?
        let buildNumber: Int?
    }

    /// `jira.title`, `jira.baseurl`, `jira.version` and `jira.version.patched` (the build Jira's
    /// data was last upgraded to), else the newest `upgradeversionhistory` row.
    func serverInfo() async throws -> ServerInfo {
        let properties = try await properties(prefix: "jira.")
        var version = properties["jira.version"]?.value
        var build = properties["jira.version.patched"].flatMap { Int($0.value) }
        if version == nil || build == nil, try await db.missingTables(["upgradeversionhistory"]).isEmpty {
            let rows = try await db.rows(
                "SELECT targetbuild, targetversion FROM upgradeversionhistory ORDER BY timeperformed DESC NULLS LAST LIMIT 1")
            if let row = rows.first {
                let (targetBuild, targetVersion) = try row.decode((String?, String?).self)
                build = build ?? targetBuild.flatMap { Int($0) }
                version = version ?? targetVersion
            }
        }
        return ServerInfo(
            title: properties["jira.title"]?.value, baseURL: properties["jira.baseurl"]?.value, version: version,
            buildNumber: build)
    }

    // MARK: Application links

    static let linkIdsKey = "applinks.global.application.ids"
    static let typeClasses: [String: String] = [
        "jira": "com.atlassian.applinks.application.jira.JiraApplicationTypeImpl",
        "confluence": "com.atlassian.applinks.application.confluence.ConfluenceApplicationTypeImpl",
        "bitbucket": "com.atlassian.applinks.application.bitbucket.BitbucketApplicationTypeImpl",
        "bamboo": "com.atlassian.applinks.application.bamboo.BambooApplicationTypeImpl",
        "fecru": "com.atlassian.applinks.application.fecru.FishEyeCrucibleApplicationTypeImpl",
        "refapp": "com.atlassian.applinks.application.refapp.RefAppApplicationTypeImpl",
    ]

    /// The type id of an applinks type class, for example `confluence`.
    static func typeId(ofClass typeClass: String) -> String {
        if let known = typeClasses.first(where: { $0.value == typeClass }) { return known.key }
        // com.atlassian.applinks.application.<type>.<Name>ApplicationTypeImpl
        let parts = typeClass.split(separator: ".")
        return parts.count >= 2 ? String(parts[parts.count - 2]) : typeClass
    }

    func applicationLinks() async throws -> [ApplicationLink] {
        let properties = try await properties(prefix: "applinks.")
        let ids = (properties[Self.linkIdsKey]?.value ?? "").split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.isEmpty && !$0.hasPrefix("#java.util.List") }
        return ids.compactMap { id -> ApplicationLink? in
            let base = "applinks.admin.\(id)."
            guard let rpc = properties[base + "rpc.url"]?.value else { return nil }
            return ApplicationLink(
                id: id, name: properties[base + "name"]?.value ?? id,
                typeId: Self.typeId(ofClass: properties[base + "type"]?.value ?? ""), rpcUrl: rpc,
                displayUrl: properties[base + "display.url"]?.value,
                isPrimary: properties[base + "primary"]?.value == "true")
        }
    }

    /// Creates or updates `link`. Must run inside a transaction.
    func saveApplicationLink(_ link: ApplicationLink) async throws {
        var ids = try await applicationLinks().map(\.id)
        if !ids.contains(link.id) { ids.append(link.id) }
        let base = "applinks.admin.\(link.id)."
        try await setStrings([
            base + "name": link.name, base + "type": Self.typeClasses[link.typeId] ?? link.typeId,
            base + "display.url": link.displayUrl ?? link.rpcUrl, base + "rpc.url": link.rpcUrl,
            base + "primary": link.isPrimary ? "true" : "false",
        ])
        try await setText(Self.linkIdsKey, (["#java.util.List"] + ids).joined(separator: "\n"))
    }

    /// Removes link `id`; false when there is none. Must run inside a transaction.
    func deleteApplicationLink(id: String) async throws -> Bool {
        let ids = try await applicationLinks().map(\.id)
        guard ids.contains(id) else { return false }
        try await setText(Self.linkIdsKey, (["#java.util.List"] + ids.filter { $0 != id }).joined(separator: "\n"))
        let prefix = "applinks.admin.\(id)."
        try await remove(Array(try await properties(prefix: prefix).keys))
        return true
    }

    // MARK: Users

    /// A user of the database.
    struct User: Sendable {
        let name: String
        let key: String
        let displayName: String?
        let email: String?
        let credential: String?
        let isAdmin: Bool
    }

    /// The active user `name` of the first active directory that has it (Jira's directory
    /// order), with admin rights from `jira-administrators` or `system-administrators`.
    func user(named name: String) async throws -> User? {
        let lower = name.lowercased()
        let rows = try await db.rows(
            """
            SELECT u.user_name, u.display_name, u.email_address, u.credential, u.directory_id::bigint,
                   (SELECT a.user_key FROM app_user a WHERE a.lower_user_name = u.lower_user_name LIMIT 1)
            FROM cwd_user u JOIN cwd_directory d ON d.id = u.directory_id
            WHERE u.lower_user_name = \(lower) AND d.active = 1
            ORDER BY d.directory_position NULLS LAST, d.id
            LIMIT 1
            """)
        guard let row = rows.first else { return nil }
        let (userName, display, email, credential, directory, key) = try row.decode(
            (String, String?, String?, String?, Int64, String?).self)
        let active = try await db.rows(
            "SELECT 1 FROM cwd_user WHERE lower_user_name = \(lower) AND directory_id = \(directory) AND active = 1")
        guard !active.isEmpty else { return nil }
        let admin = try await db.rows(
            """
            SELECT 1 FROM cwd_membership
            WHERE lower_child_name = \(lower) AND directory_id = \(directory) AND membership_type = 'GROUP_USER'
              AND lower_parent_name IN ('jira-administrators', 'system-administrators')
            """)
        return User(
            name: userName, key: key ?? lower, displayName: display, email: email, credential: credential,
            isAdmin: !admin.isEmpty)
    }

    /// The user key of `name` (`app_user`), or `name` for an account the database does not have.
    func userKey(_ name: String) async throws -> String {
        let rows = try await db.rows(
            "SELECT user_key FROM app_user WHERE lower_user_name = \(name.lowercased()) LIMIT 1")
        return try rows.first?.decode(String.self) ?? name
    }

    // MARK: Issues

    struct Comment: Sendable {
        let id: Int64
        let author: String?
        let body: String
        let created: Date?
    }

    struct Issue: Sendable {
        let id: Int64
        let key: String
        let summary: String
        let description: String?
        let projectId: Int64
        let projectKey: String
        let projectName: String?
        let typeId: String?
        let typeName: String?
        let statusId: String?
        let statusName: String?
        let priorityId: String?
        let priorityName: String?
        let reporter: String?
        let created: Date?
        let updated: Date?
        var comments: [Comment] = []
    }

    static let issueColumns = """
        SELECT i.id::bigint, p.pkey || '-' || i.issuenum::bigint::text, COALESCE(i.summary, ''), i.description,
               p.id::bigint, p.pkey, p.pname, i.issuetype, t.pname, i.issuestatus, s.pname, i.priority, r.pname,
               i.reporter, i.created, i.updated
        FROM jiraissue i
        JOIN project p ON p.id = i.project
        LEFT JOIN issuetype t ON t.id = i.issuetype
        LEFT JOIN issuestatus s ON s.id = i.issuestatus
        LEFT JOIN priority r ON r.id = i.priority
        """

    static func issue(_ row: PostgresRow) throws -> Issue {
        let cells = row.makeRandomAccess()
        func text(_ index: Int) throws -> String? { try cells[index].decode(String?.self) }
        return Issue(
            id: try cells[0].decode(Int64.self), key: try cells[1].decode(String.self),
            summary: try cells[2].decode(String.self), description: try text(3),
            projectId: try cells[4].decode(Int64.self), projectKey: try cells[5].decode(String.self),
            projectName: try text(6), typeId: try text(7), typeName: try text(8), statusId: try text(9),
            statusName: try text(10), priorityId: try text(11), priorityName: try text(12), reporter: try text(13),
            created: try cells[14].decode(Date?.self), updated: try cells[15].decode(Date?.self))
    }

    /// The issue with id or key `idOrKey`, with its comments.
    func issue(_ idOrKey: String) async throws -> Issue? {
        let rows: [PostgresRow]
        if let id = Int64(idOrKey) {
            rows = try await db.rows(PostgresQuery(unsafeSQL: Self.issueColumns + " WHERE i.id = $1", binds: Self.binds(id)))
        } else {
            guard let dash = idOrKey.lastIndex(of: "-"), let number = Int64(idOrKey[idOrKey.index(after: dash)...])
            else { return nil }
            let projectKey = idOrKey[..<dash].uppercased()
            rows = try await db.rows(
                PostgresQuery(
                    unsafeSQL: Self.issueColumns + " WHERE p.pkey = $1 AND i.issuenum = $2",
                    binds: Self.binds(projectKey, number)))
        }
        guard let row = rows.first else { return nil }
        var issue = try Self.issue(row)
        issue.comments = try await comments(issueId: issue.id)
        return issue
    }

    func comments(issueId: Int64) async throws -> [Comment] {
        try await db.rows(
            """
            SELECT id::bigint, author, COALESCE(actionbody, ''), created FROM jiraaction
            WHERE issueid = \(issueId) AND actiontype = 'comment' ORDER BY created, id
            """
        ).map { row in
            let (id, author, body, created) = try row.decode((Int64, String?, String, Date?).self)
            return Comment(id: id, author: author, body: body, created: created)
        }
    }

    static func binds(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { bindings.append(value) }
        return bindings
    }

    enum CreateError: Error {
        case field(String, String)
    }

    /// Creates an issue as Jira does: id from sequence `Issue`, number from `project.pcounter`
    /// (incremented), type by name or id, the project's first "to do" status, the default
    /// priority. Must run inside a transaction.
    func createIssue(
        project: [String: Any], type: [String: Any], summary: String, description: String?, reporter: String
    ) async throws -> Issue {
        let projectRows: [PostgresRow]
        if let key = project["key"] as? String {
            projectRows = try await db.rows(
                "SELECT id::bigint, pkey, COALESCE(pcounter, 0)::bigint FROM project WHERE pkey = \(key.uppercased()) FOR UPDATE")
        } else if let id = (project["id"] as? String).flatMap(Int64.init) ?? (project["id"] as? Int).map(Int64.init) {
            projectRows = try await db.rows(
                "SELECT id::bigint, pkey, COALESCE(pcounter, 0)::bigint FROM project WHERE id = \(id) FOR UPDATE")
        } else {
            projectRows = []
        }
        guard let projectRow = projectRows.first else { throw CreateError.field("project", "valid project is required") }
        let (projectId, projectKey, counter) = try projectRow.decode((Int64, String, Int64).self)
        let typeRows: [PostgresRow]
        if let name = type["name"] as? String {
            typeRows = try await db.rows("SELECT id FROM issuetype WHERE lower(pname) = \(name.lowercased()) LIMIT 1")
        } else if let id = type["id"] as? String {
            typeRows = try await db.rows("SELECT id FROM issuetype WHERE id = \(id)")
        } else {
            typeRows = []
        }
        guard let typeId = try typeRows.first?.decode(String.self) else {
            throw CreateError.field("issuetype", "valid issue type is required")
        }
        let status =
            try await db.rows(
                """
                SELECT s.id FROM issuestatus s
                WHERE s.statuscategory = 2
                ORDER BY (SELECT count(*) FROM jiraissue i WHERE i.project = \(projectId) AND i.issuestatus = s.id) DESC,
                         s.sequence
                LIMIT 1
                """
            ).first?.decode(String.self)
        // The priority most of the project's issues have (Jira's default comes from the
        // priority scheme's field configuration, which the simulator does not model).
        let priority =
            try await db.rows(
                """
                SELECT r.id FROM priority r
                ORDER BY (SELECT count(*) FROM jiraissue i WHERE i.project = \(projectId) AND i.priority = r.id) DESC,
                         r.sequence
                LIMIT 1
                """
            ).first?.decode(String.self)
        let id = try await nextId("Issue")
        let number = counter + 1
        try await db.run("UPDATE project SET pcounter = \(number) WHERE id = \(projectId)")
        try await db.run(
            """
            INSERT INTO jiraissue (id, issuenum, project, reporter, creator, issuetype, summary, description,
                                   priority, issuestatus, created, updated, votes, watches)
            VALUES (\(id), \(number), \(projectId), \(reporter), \(reporter), \(typeId), \(summary), \(description),
                    \(priority), \(status), now(), now(), 0, 0)
            """)
        guard let issue = try await issue("\(projectKey)-\(number)") else {
            throw BrokenDatabase("the issue just inserted (\(id)) cannot be read back")
        }
        return issue
    }

    /// Changes summary and description. Must run inside a transaction.
    func editIssue(id: Int64, summary: String?, description: String?) async throws {
        if let summary { try await db.run("UPDATE jiraissue SET summary = \(summary), updated = now() WHERE id = \(id)") }
        if let description {
            try await db.run("UPDATE jiraissue SET description = \(description), updated = now() WHERE id = \(id)")
        }
    }

    /// Deletes an issue and its actions. Must run inside a transaction.
    func deleteIssue(id: Int64) async throws {
        try await db.run("DELETE FROM jiraaction WHERE issueid = \(id)")
        try await db.run("DELETE FROM jiraissue WHERE id = \(id)")
    }

    /// Adds a comment (`jiraaction`, id from sequence `Action`). Must run inside a transaction.
    func addComment(issueId: Int64, body: String, author: String) async throws -> Comment {
        let id = try await nextId("Action")
        try await db.run(
            """
            INSERT INTO jiraaction (id, issueid, author, actiontype, actionbody, created, updateauthor, updated)
            VALUES (\(id), \(issueId), \(author), 'comment', \(body), now(), \(author), now())
            """)
        try await db.run("UPDATE jiraissue SET updated = now() WHERE id = \(issueId)")
        return Comment(id: id, author: author, body: body, created: Date())
    }

    struct SearchError: Error {
        let message: String
    }

    /// The issues `query` finds (the JQL subset of ``SearchQuery``: `project`, `key`/`issuekey`,
    /// `summary`, `description`, `text`, `issuetype`/`type`, `status`), with the total.
    /// The issues `query` finds but those of `hidden` (ids the index of this node does not
    /// hold yet).
    func search(_ query: SearchQuery, maxResults: Int, startAt: Int, hiding hidden: [Int64] = []) async throws
        -> (total: Int, issues: [Issue])
    {
        var conditions: [String] = []
        var bindings = PostgresBindings()
        func bind(_ value: String) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        for clause in query.clauses {
            let negate = clause.op.hasPrefix("!")
            let text = clause.op.hasSuffix("~")
            var condition: String
            switch (clause.field, text) {
            case ("project", false):
                let known = try await db.rows(
                    "SELECT 1 FROM project WHERE pkey = \(clause.value.uppercased()) OR pname = \(clause.value) OR id::text = \(clause.value)")
                guard !known.isEmpty else {
                    throw SearchError(message: "The value '\(clause.value)' does not exist for the field 'project'.")
                }
                let value = bind(clause.value)
                condition = "(p.pkey = upper(\(value)) OR p.pname = \(value) OR p.id::text = \(value))"
            case ("key", false), ("issuekey", false), ("id", false):
                let value = bind(clause.value.uppercased())
                condition = "(p.pkey || '-' || i.issuenum::bigint::text = \(value) OR i.id::text = \(value))"
            case ("summary", true):
                condition = "i.summary ILIKE \(bind("%" + clause.value + "%"))"
            case ("description", true):
                condition = "i.description ILIKE \(bind("%" + clause.value + "%"))"
            case ("text", true):
                let value = bind("%" + clause.value + "%")
                condition = "(i.summary ILIKE \(value) OR i.description ILIKE \(value))"
            case ("issuetype", false), ("type", false):
                condition = "lower(t.pname) = lower(\(bind(clause.value)))"
            case ("status", false):
                condition = "lower(s.pname) = lower(\(bind(clause.value)))"
            case ("summary", false), ("description", false), ("text", false):
                throw SearchError(
                    message: "The operator '\(clause.op)' is not supported by the '\(clause.field)' field.")
            case ("project", true), ("key", true), ("issuekey", true), ("issuetype", true), ("type", true),
                ("status", true), ("id", true):
                throw SearchError(
                    message: "The operator '\(clause.op)' is not supported by the '\(clause.field)' field.")
            default:
                throw SearchError(
                    message: "Field '\(clause.field)' does not exist or you do not have permission to view it.")
            }
            if negate { condition = "NOT \(condition)" }
            conditions.append(condition)
        }
        if !hidden.isEmpty {
            bindings.append(hidden.map(String.init))
            conditions.append("NOT (i.id::text = ANY($\(bindings.count)))")
        }
        var order: [String] = []
        for item in query.order {
            let column: String
            switch item.field {
            case "created": column = "i.created"
            case "updated": column = "i.updated"
            case "key", "issuekey", "id": column = "p.pkey \(item.descending ? "DESC" : "ASC"), i.issuenum"
            case "summary": column = "i.summary"
            default: throw SearchError(message: "Not able to sort using field '\(item.field)'.")
            }
            order.append("\(column) \(item.descending ? "DESC" : "ASC")")
        }
        if order.isEmpty { order = ["i.created DESC", "i.id DESC"] } else { order.append("i.id") }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let countSQL = """
            SELECT count(*) FROM jiraissue i JOIN project p ON p.id = i.project
            LEFT JOIN issuetype t ON t.id = i.issuetype LEFT JOIN issuestatus s ON s.id = i.issuestatus
            """ + whereClause
        let total = try await db.rows(PostgresQuery(unsafeSQL: countSQL, binds: bindings)).first?.decode(Int.self) ?? 0
        let sql =
            Self.issueColumns + whereClause + " ORDER BY " + order.joined(separator: ", ")
            + " LIMIT \(max(0, maxResults)) OFFSET \(max(0, startAt))"
        let issues = try await db.rows(PostgresQuery(unsafeSQL: sql, binds: bindings)).map(Self.issue)
        return (total, issues)
    }

    // MARK: Dashboards and cluster

    /// The shared dashboards (`portalpage` without an owner, as the System Dashboard).
    func dashboards() async throws -> [(id: Int64, name: String)] {
        try await db.rows("SELECT id::bigint, pagename FROM portalpage ORDER BY sequence NULLS LAST, id").map {
            try $0.decode((Int64, String).self)
        }
    }

    /// The registered cluster nodes (`clusternode`).
    func clusterNodes() async throws -> [(id: String, state: String, ip: String?)] {
        guard try await db.missingTables(["clusternode"]).isEmpty else { return [] }
        return try await db.rows("SELECT node_id, COALESCE(node_state, ''), ip FROM clusternode ORDER BY node_id").map {
            try $0.decode((String, String, String?).self)
        }
    }
}
