import Foundation
import Logging
import PostgresNIO

// Jira's sanitisation steps, on the tables of the real Jira 8 schema.

extension Sanitisation {
    static let jiraTables = ["propertyentry", "propertynumber", "sequence_value_item"]

    /// The mail-fetching service classes of Jira 8 (and the POP/IMAP services of older Jiras).
    static let jiraMailFetcherClasses = [
        "com.atlassian.jira.service.services.mail.MailFetcherService",
        "com.atlassian.jira.service.services.pop.PopService",
        "com.atlassian.jira.service.services.imap.ImapService",
    ]

    static let jiraActions: [SanitisationAction] = [
        SanitisationAction(
            step: .jiraOutgoingMailOff,
            find: { connection, input in
                var items = try await flagItems("jira.mail.send.disabled", connection, input.logger)
                guard try await exists("mailserver", connection, input.logger) else { return (items, nil) }
                items += try await rows(
                    connection,
                    """
                    SELECT id::bigint, COALESCE(name, ''), COALESCE(servername, '') FROM mailserver
                    WHERE lower(server_type) = 'smtp' ORDER BY id
                    """, input.logger
                ).map { .init(id: "\($0.0)", line: "mailserver \($0.0) removed (smtp '\($0.1)' at \($0.2))") }
                return (items, nil)
            },
            change: { connection, items, input in
                try await setFlags(items, connection, input.logger)
                let ids = items.compactMap { Int64($0.id) }
                if !ids.isEmpty {
                    _ = try await connection.query(
                        "DELETE FROM mailserver WHERE id::bigint = ANY(\(ids))", logger: input.logger)
                }
            }),
        SanitisationAction(
            step: .jiraIncomingMailOff, needs: ["mailserver", "serviceconfig"],
            find: { connection, input in
                var items = try await rows(
                    connection,
                    """
                    SELECT id::bigint, COALESCE(name, ''), COALESCE(server_type, ''), COALESCE(servername, '')
                    FROM mailserver WHERE lower(server_type) IN ('pop', 'imap', 'pops', 'imaps') ORDER BY id
                    """, input.logger, as: (Int64, String, String, String).self
                ).map {
                    SanitisationItem(
                        id: "mailserver:\($0.0)", line: "mailserver \($0.0) removed (\($0.2) '\($0.1)' at \($0.3))")
                }
                items = try await flagItems("jira.mail.fetch.disabled", connection, input.logger) + items
                let classes = jiraMailFetcherClasses
                for (id, name, clazz, properties) in try await rows(
                    connection,
                    """
                    SELECT s.id::bigint, COALESCE(s.servicename, ''), COALESCE(s.clazz, ''),
                           (SELECT count(*) FROM propertyentry e
                            WHERE e.entity_name = 'ServiceConfig' AND e.entity_id = s.id)::bigint
                    FROM serviceconfig s WHERE s.clazz = ANY(\(classes)) ORDER BY s.id
                    """, input.logger, as: (Int64, String, String, Int64).self)
                {
                    items.append(
                        .init(
                            id: "service:\(id)",
                            line: "serviceconfig \(id) removed ('\(name)', \(clazz.split(separator: ".").last ?? ""), "
                                + "with its \(properties) propert\(properties == 1 ? "y" : "ies"))"))
                }
                return (items, nil)
            },
            change: { connection, items, input in
                try await setFlags(items, connection, input.logger)
                let services = items.compactMap { $0.id.hasPrefix("service:") ? Int64($0.id.dropFirst(8)) : nil }
                let servers = items.compactMap { $0.id.hasPrefix("mailserver:") ? Int64($0.id.dropFirst(11)) : nil }
                let properties = try await rows(
                    connection,
                    """
                    SELECT id::bigint FROM propertyentry
                    WHERE entity_name = 'ServiceConfig' AND entity_id::bigint = ANY(\(services))
                    """, input.logger, as: Int64.self)
                for table in [
                    "propertystring", "propertytext", "propertynumber", "propertydate", "propertydecimal",
                    "propertydata",
                ]
                where try await exists(table, connection, input.logger) {
                    _ = try await connection.query(
                        "DELETE FROM \(unescaped: table) WHERE id::bigint = ANY(\(properties))", logger: input.logger)
                }
                _ = try await connection.query(
                    "DELETE FROM propertyentry WHERE id::bigint = ANY(\(properties))", logger: input.logger)
                _ = try await connection.query(
                    "DELETE FROM serviceconfig WHERE id::bigint = ANY(\(services))", logger: input.logger)
                _ = try await connection.query(
                    "DELETE FROM mailserver WHERE id::bigint = ANY(\(servers))", logger: input.logger)
            }),
        webhooksAction(.jiraWebhooksOff, table: "AO_4AEACD_WEBHOOK_DAO"),
        SanitisationAction(
            step: .jiraClusterNodesRemoved, needs: ["clusternode"],
            find: { connection, input in
                var items = try await rows(
                    connection,
                    "SELECT node_id, COALESCE(node_state, '') FROM clusternode ORDER BY node_id", input.logger,
                    as: (String, String).self
                ).map { SanitisationItem(id: "node", line: "clusternode '\($0.0)' (\($0.1)) removed") }
                if try await exists("clusternodeheartbeat", connection, input.logger) {
                    items += try await rows(
                        connection, "SELECT node_id FROM clusternodeheartbeat ORDER BY node_id", input.logger,
                        as: String.self
                    ).map { SanitisationItem(id: "heartbeat", line: "clusternodeheartbeat '\($0)' removed") }
                }
                return (items, nil)
            },
            change: { connection, items, input in
                if try await exists("clusternodeheartbeat", connection, input.logger) {
                    _ = try await connection.query("DELETE FROM clusternodeheartbeat", logger: input.logger)
                }
                _ = try await connection.query("DELETE FROM clusternode", logger: input.logger)
            }),
        SanitisationAction(
            step: .jiraOAuthConsumersRemoved,
            find: { connection, input in
                var items: [SanitisationItem] = []
                if try await exists("oauthconsumer", connection, input.logger) {
                    items += try await rows(
                        connection,
                        """
                        SELECT id::bigint, COALESCE(consumername, ''), COALESCE(consumer_key, '') FROM oauthconsumer
                        WHERE consumerservice IS DISTINCT FROM '__HOST_SERVICE__' ORDER BY id
                        """, input.logger
                    ).map {
                        SanitisationItem(id: "consumer", line: "oauthconsumer \($0.0) removed ('\($0.1)', key \($0.2))")
                    }
                }
                if try await exists("oauthspconsumer", connection, input.logger) {
                    items += try await rows(
                        connection,
                        """
                        SELECT id::bigint, COALESCE(consumername, ''), COALESCE(consumer_key, '') FROM oauthspconsumer
                        ORDER BY id
                        """, input.logger
                    ).map {
                        SanitisationItem(id: "sp", line: "oauthspconsumer \($0.0) removed ('\($0.1)', key \($0.2))")
                    }
                }
                for table in ["oauthconsumertoken", "oauthsptoken"]
                where try await exists(table, connection, input.logger) {
                    let count =
                        try await rows(
                            connection, PostgresQuery(unsafeSQL: "SELECT count(*)::bigint FROM \(table)"), input.logger,
                            as: Int64.self
                        ).first ?? 0
                    if count > 0 {
                        items.append(.init(id: "tokens", line: "\(table): \(count) token(s) of PROD's peers removed"))
                    }
                }
                return (items, nil)
            },
            change: { connection, _, input in
                if try await exists("oauthconsumer", connection, input.logger) {
                    _ = try await connection.query(
                        "DELETE FROM oauthconsumer WHERE consumerservice IS DISTINCT FROM '__HOST_SERVICE__'",
                        logger: input.logger)
                }
                for table in ["oauthspconsumer", "oauthconsumertoken", "oauthsptoken"]
                where try await exists(table, connection, input.logger) {
                    _ = try await connection.query(
                        PostgresQuery(unsafeSQL: "DELETE FROM \(table)"), logger: input.logger)
                }
            }),
        SanitisationAction(
            step: .jiraTrustedAppsRemoved,
            find: { connection, input in
                guard try await exists("trustedapp", connection, input.logger) else {
                    return ([], "no trustedapp table")
                }
                let items = try await rows(
                    connection,
                    "SELECT id::bigint, COALESCE(application_id, ''), COALESCE(name, '') FROM trustedapp ORDER BY id",
                    input.logger
                ).map { SanitisationItem(id: "\($0.0)", line: "trustedapp \($0.0) removed ('\($0.2)', \($0.1))") }
                return (items, nil)
            },
            change: { connection, _, input in
                _ = try await connection.query("DELETE FROM trustedapp", logger: input.logger)
            }),
        SanitisationAction(
            step: .jiraLicenceReplaced, needs: ["productlicense"],
            find: { connection, input in
                guard let licence = input.context.licence else {
                    return (
                        [],
                        input.policy.licences["jira"] != nil
                            ? "a licence reference is configured, but the caller passed no licence: PROD's is kept"
                            : "the environment gives no licence: PROD's is kept"
                    )
                }
                let current = try await rows(
                    connection, "SELECT id::bigint, COALESCE(license, '') FROM productlicense ORDER BY id",
                    input.logger, as: (Int64, String).self)
                if current.count == 1, current[0].1 == licence {
                    return ([], "the licence is already the environment's")
                }
                return (
                    current.map { .init(id: "old", line: "productlicense \($0.0) removed (PROD's licence)") }
                        + [.init(id: "new", line: "productlicense: the environment's licence added")], nil
                )
            },
            change: { connection, _, input in
                guard let licence = input.context.licence else { return }
                _ = try await connection.query("DELETE FROM productlicense", logger: input.logger)
                let id = try await nextJiraId(
                    connection, sequence: "ProductLicense", table: "productlicense", input.logger)
                _ = try await connection.query(
                    "INSERT INTO productlicense (id, license) VALUES (\(id), \(licence))", logger: input.logger)
            }),
        personalTokensAction(.jiraPersonalTokensRemoved),
        ServiceAccount.jiraAction,
    ]

    /// Disables the enabled webhooks of an Active Objects webhook table (Jira's and Confluence's
    /// have the same `ID`, `NAME`, `URL`, `ENABLED` columns), except allow-listed URLs.
    /// Removes every personal access token (the PAT plugin's table, the same in Jira and
    /// Confluence); a version without the table has nothing to remove.
    static func personalTokensAction(_ step: SanitisationStep) -> SanitisationAction {
        let table = "AO_81F455_PERSONAL_TOKEN"
        return SanitisationAction(
            step: step,
            find: { connection, input in
                guard try await exists(table, connection, input.logger) else {
                    return ([], "no personal access tokens in this version (no \(table) table)")
                }
                let items = try await rows(
                    connection,
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT "ID"::bigint, COALESCE("NAME", ''), COALESCE("USER_KEY", '') FROM "\(table)" ORDER BY "ID"
                            """), input.logger, as: (Int64, String, String).self
                ).map { SanitisationItem(id: "\($0.0)", line: "personal access token \($0.0) '\($0.1)' of \($0.2) removed") }
                return (items, nil)
            },
            change: { connection, items, input in
                let ids = items.compactMap { Int64($0.id) }
                _ = try await connection.query(
                    "DELETE FROM \"\(unescaped: table)\" WHERE \"ID\"::bigint = ANY(\(ids))", logger: input.logger)
            })
    }

    static func webhooksAction(_ step: SanitisationStep, table: String) -> SanitisationAction {
        SanitisationAction(
            step: step,
            find: { connection, input in
                guard try await exists(table, connection, input.logger) else {
                    return ([], "no webhook table (\(table)) in this database")
                }
                var items: [SanitisationItem] = []
                var kept = 0
                for (id, name, url) in try await rows(
                    connection,
                    PostgresQuery(
                        unsafeSQL: """
                            SELECT "ID"::bigint, "NAME", "URL" FROM "\(table)"
                            WHERE "ENABLED" IS NOT FALSE ORDER BY "ID"
                            """), input.logger, as: (Int64, String, String).self)
                {
                    if input.policy.allowsWebhook(url) {
                        kept += 1
                    } else {
                        items.append(.init(id: "\(id)", line: "webhook \(id) '\(name)' → \(url) disabled"))
                    }
                }
                return (items, kept > 0 ? "\(kept) allow-listed webhook(s) stay enabled" : nil)
            },
            change: { connection, items, input in
                let ids = items.compactMap { Int64($0.id) }
                _ = try await connection.query(
                    "UPDATE \"\(unescaped: table)\" SET \"ENABLED\" = false WHERE \"ID\"::bigint = ANY(\(ids))",
                    logger: input.logger)
            })
    }

    /// An item setting the boolean application property `key` to true, unless it is already.
    static func flagItems(_ key: String, _ connection: PostgresConnection, _ logger: Logger) async throws
        -> [SanitisationItem]
    {
        var current: String?
        for (type, number) in try await rows(
            connection,
            """
            SELECT e.propertytype::int, n.propertyvalue::bigint FROM propertyentry e
            LEFT JOIN propertynumber n ON n.id = e.id
            WHERE e.entity_name = 'jira.properties' AND e.entity_id = 1 AND e.property_key = \(key)
            """, logger, as: (Int, Int64?).self)
        {
            current = type == 1 ? (number.map(String.init) ?? "(no value)") : "type \(type)"
        }
        return current == "1" ? [] : [.init(id: "flag:\(key)", line: "\(key): \(current ?? "(absent)") → 1")]
    }

    /// Sets the flags of `items` (see ``flagItems(_:_:_:)``) inside the caller's transaction.
    static func setFlags(_ items: [SanitisationItem], _ connection: PostgresConnection, _ logger: Logger) async throws {
        let keys = items.compactMap { $0.id.hasPrefix("flag:") ? String($0.id.dropFirst(5)) : nil }
        guard !keys.isEmpty else { return }
        try await JiraSettingsStore.write(
            Dictionary(uniqueKeysWithValues: keys.map { ($0, JiraSettingsStore.Value.number(1)) }),
            connection: connection,
            logger: logger)
    }

    // MARK: - Helpers shared by the steps

    /// Every row of `query`, decoded as `T`.
    static func rows<T: Sendable>(
        _ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger, as type: T.Type
    ) async throws -> [T] where T: PostgresDecodable {
        var result: [T] = []
        for try await row in try await connection.query(query, logger: logger).decode(T.self) { result.append(row) }
        return result
    }

    static func rows<A: PostgresDecodable, B: PostgresDecodable>(
        _ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger, as type: (A, B).Type
    ) async throws -> [(A, B)] {
        var result: [(A, B)] = []
        for try await row in try await connection.query(query, logger: logger).decode((A, B).self) {
            result.append(row)
        }
        return result
    }

    /// Rows of an id and two texts, the shape most steps list.
    static func rows(_ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger) async throws
        -> [(Int64, String, String)]
    {
        try await rows(connection, query, logger, as: (Int64, String, String).self)
    }

    static func rows<A: PostgresDecodable, B: PostgresDecodable, C: PostgresDecodable>(
        _ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger, as type: (A, B, C).Type
    ) async throws -> [(A, B, C)] {
        var result: [(A, B, C)] = []
        for try await row in try await connection.query(query, logger: logger).decode((A, B, C).self) {
            result.append(row)
        }
        return result
    }

    static func rows<A: PostgresDecodable, B: PostgresDecodable, C: PostgresDecodable, D: PostgresDecodable>(
        _ connection: PostgresConnection, _ query: PostgresQuery, _ logger: Logger, as type: (A, B, C, D).Type
    ) async throws -> [(A, B, C, D)] {
        var result: [(A, B, C, D)] = []
        for try await row in try await connection.query(query, logger: logger).decode((A, B, C, D).self) {
            result.append(row)
        }
        return result
    }

    /// Whether `table` exists (in the search path).
    static func exists(_ table: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> Bool {
        let name = "\"\(table)\""
        let found = try await rows(connection, "SELECT to_regclass(\(name))::text", logger, as: String?.self)
        return found.first.flatMap { $0 } != nil
    }

    /// The next id of a Jira entity, with its OfBiz sequence (`sequence_value_item`, banks of
    /// 100) moved past it, as Jira would after taking a bank.
    static func nextJiraId(_ connection: PostgresConnection, sequence: String, table: String, _ logger: Logger)
        async throws -> Int64
    {
        let highest =
            try await rows(
                connection, PostgresQuery(unsafeSQL: "SELECT COALESCE(MAX(id), 0)::bigint FROM \(table)"), logger,
                as: Int64.self
            ).first ?? 0
        let banked =
            try await rows(
                connection,
                "SELECT seq_id::bigint FROM sequence_value_item WHERE seq_name = \(sequence) FOR UPDATE", logger,
                as: Int64.self
            ).first ?? 10_000
        let id = max(highest + 1, banked)
        _ = try await connection.query(
            """
            INSERT INTO sequence_value_item (seq_name, seq_id) VALUES (\(sequence), \(id + 100))
            ON CONFLICT (seq_name) DO UPDATE SET seq_id = EXCLUDED.seq_id
            """, logger: logger)
        return id
    }
}
