import Foundation
import Logging
import PostgresNIO

#if canImport(FoundationXML)
    import FoundationXML
#endif

// Confluence's sanitisation steps, on the tables of the real Confluence 6 schema.

extension Sanitisation {
    static let confluenceTables = ["bandana", "hibernate_unique_key"]

    /// Where ConfluenceMailServerManager keeps every mail server (SMTP, POP and IMAP): one
    /// `_GLOBAL` bandana value, the XStream XML of a map from the server's id to the server.
    static let confluenceMailKey = "atlassian.confluence.smtp.mail.accounts"

    /// Where DefaultMailAccountManager keeps a space's mail accounts (mail archiving): bandana,
    /// context = the space key.
    static let confluenceSpaceMailKey = "atlassian.confluence.space.mailaccounts"

    static let confluenceActions: [SanitisationAction] = [
        confluenceMailAction(.confluenceOutgoingMailOff, outgoing: true),
        .combined(
            confluenceMailAction(.confluenceIncomingMailOff, outgoing: false),
            SanitisationAction(
                step: .confluenceIncomingMailOff,
                find: { connection, input in
                    let rows = try await rows(
                        connection,
                        """
                        SELECT bandanaid, bandanacontext, COALESCE(bandanavalue, '') FROM bandana
                        WHERE bandanakey = \(confluenceSpaceMailKey) ORDER BY bandanacontext
                        """, input.logger)
                    return (
                        rows.map { row in
                            let hosts = row.2.components(separatedBy: "<hostname>").dropFirst().compactMap {
                                $0.components(separatedBy: "<").first
                            }
                            return SanitisationItem(
                                id: "\(row.0)",
                                line:
                                    "space \(row.1) mail accounts removed (mail archiving, at \(hosts.joined(separator: ", ")))"
                            )
                        }, nil
                    )
                },
                change: { connection, items, input in
                    let ids = items.compactMap { Int64($0.id) }
                    _ = try await connection.query(
                        "DELETE FROM bandana WHERE bandanaid = ANY(\(ids))", logger: input.logger)
                })),
        webhooksAction(.confluenceWebhooksOff, table: "AO_A0B856_WEB_HOOK_LISTENER_AO"),
        SanitisationAction(
            step: .confluenceTrustedAppsRemoved, needs: ["trustedapp", "trustedapprestriction", "keystore"],
            find: { connection, input in
                var items: [SanitisationItem] = []
                for (id, name, key) in try await rows(
                    connection, "SELECT trustedappid, name, public_key_id FROM trustedapp ORDER BY trustedappid",
                    input.logger, as: (Int64, String, Int64).self)
                {
                    let restrictions = try await rows(
                        connection,
                        "SELECT type, COALESCE(restriction, '') FROM trustedapprestriction WHERE trustedappid = \(id)",
                        input.logger, as: (String, String).self)
                    items.append(
                        .init(
                            id: "\(id):\(key)",
                            line: "trustedapp \(id) '\(name)' removed, with its public key (keystore \(key)) and "
                                + "restrictions [\(restrictions.map { "\($0.0) \($0.1)" }.joined(separator: ", "))]"))
                }
                return (items, nil)
            },
            change: { connection, items, input in
                let pairs = items.map { $0.id.split(separator: ":").compactMap { Int64($0) } }
                let apps = pairs.map { $0[0] }
                let keys = pairs.map { $0[1] }
                _ = try await connection.query(
                    "DELETE FROM trustedapprestriction WHERE trustedappid = ANY(\(apps))", logger: input.logger)
                _ = try await connection.query(
                    "DELETE FROM trustedapp WHERE trustedappid = ANY(\(apps))", logger: input.logger)
                _ = try await connection.query("DELETE FROM keystore WHERE keyid = ANY(\(keys))", logger: input.logger)
            }),
        personalTokensAction(.confluencePersonalTokensRemoved),
        ServiceAccount.confluenceAction,
    ]

    /// Removes the outgoing (SMTP) or the incoming (POP, IMAP) servers from Confluence's mail
    /// server map; the bandana row goes when no server is left.
    static func confluenceMailAction(_ step: SanitisationStep, outgoing: Bool) -> SanitisationAction {
        SanitisationAction(
            step: step,
            find: { connection, input in
                guard let xml = try await confluenceMailXML(connection, input.logger) else {
                    return ([], "no mail server is configured (no bandana \(confluenceMailKey))")
                }
                let servers = try confluenceMailServers(xml).filter { $0.isOutgoing == outgoing }
                return (
                    servers.map {
                        .init(id: $0.id, line: "mail server \($0.id) removed (\($0.type) '\($0.name)' at \($0.host))")
                    }, nil
                )
            },
            change: { connection, items, input in
                guard let xml = try await confluenceMailXML(connection, input.logger) else { return }
                let document = try parseConfluenceMail(xml)
                let remove = Set(items.map(\.id))
                var left = 0
                for entry in document.rootElement()?.elements(forName: "entry") ?? [] {
                    if let server = confluenceMailServer(entry), remove.contains(server.id) {
                        entry.detach()
                    } else {
                        left += 1
                    }
                }
                if left == 0 {
                    _ = try await connection.query(
                        "DELETE FROM bandana WHERE bandanacontext = '_GLOBAL' AND bandanakey = \(confluenceMailKey)",
                        logger: input.logger)
                } else {
                    let updated = document.rootElement()!.xmlString
                    _ = try await connection.query(
                        """
                        UPDATE bandana SET bandanavalue = \(updated)
                        WHERE bandanacontext = '_GLOBAL' AND bandanakey = \(confluenceMailKey)
                        """, logger: input.logger)
                }
            })
    }

    /// One server of Confluence's mail server map.
    struct ConfluenceMailServer {
        let id: String
        let type: String
        let name: String
        let host: String
        var isOutgoing: Bool { type == "smtp" }
    }

    static func confluenceMailXML(_ connection: PostgresConnection, _ logger: Logger) async throws -> String? {
        try await rows(
            connection,
            "SELECT bandanavalue FROM bandana WHERE bandanacontext = '_GLOBAL' AND bandanakey = \(confluenceMailKey)",
            logger, as: String?.self
        ).first ?? nil
    }

    static func parseConfluenceMail(_ xml: String) throws -> XMLDocument {
        do {
            return try XMLDocument(xmlString: xml, options: [.nodePreserveWhitespace])
        } catch {
            throw AtlassianError(
                .malformedAnswer, "Confluence's mail server configuration (bandana \(confluenceMailKey)) is not XML",
                underlying: error)
        }
    }

    /// The servers of the map: each `<entry>` holds the id (`<long>`) and the server, whose
    /// element is named after its class (`…SMTPMailServerImpl`, `…PopMailServerImpl`,
    /// `…ImapMailServerImpl`) and whose `<type>` is `smtp`, `pop` or `imap`.
    static func confluenceMailServers(_ xml: String) throws -> [ConfluenceMailServer] {
        let document = try parseConfluenceMail(xml)
        return (document.rootElement()?.elements(forName: "entry") ?? []).compactMap(confluenceMailServer)
    }

    static func confluenceMailServer(_ entry: XMLElement) -> ConfluenceMailServer? {
        let children = entry.children?.compactMap { $0 as? XMLElement } ?? []
        guard let server = children.first(where: { $0.name != "long" && $0.name != "string" }) else { return nil }
        let id = children.first { $0.name == "long" || $0.name == "string" }?.stringValue ?? ""
        func field(_ name: String) -> String {
            server.elements(forName: name).first?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        let className = (server.name ?? "").lowercased()
        var type = field("type").lowercased()
        if type.isEmpty {
            type = className.contains("smtp") ? "smtp" : className.contains("imap") ? "imap" : "pop"
        }
        // Anything that is not SMTP fetches mail (pop, pops, imap, imaps).
        if type != "smtp" && !type.hasPrefix("pop") && !type.hasPrefix("imap") {
            type = className.contains("smtp") ? "smtp" : type
        }
        return ConfluenceMailServer(id: id, type: type, name: field("name"), host: field("hostname"))
    }

    /// `count` fresh ids from Confluence's Hibernate hi/lo generator (`hibernate_unique_key`,
    /// blocks of 32,768 ids): a whole block is taken and `next_hi` moved past it, as Confluence
    /// does when it starts a block.
    static func confluenceIds(_ count: Int, _ connection: PostgresConnection, _ logger: Logger) async throws -> [Int64]
    {
        let nextHi =
            try await rows(
                connection, "SELECT COALESCE(MAX(next_hi), 0)::bigint FROM hibernate_unique_key", logger,
                as: Int64.self
            ).first ?? 0
        let first = nextHi * 32_768
        _ = try await connection.query("DELETE FROM hibernate_unique_key", logger: logger)
        _ = try await connection.query(
            "INSERT INTO hibernate_unique_key (next_hi) VALUES (\(nextHi + 1 + Int64(count) / 32_768))", logger: logger)
        return (0..<Int64(count)).map { first + $0 }
    }
}
