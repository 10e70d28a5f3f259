import Foundation
import Logging
import PostgresNIO

/// A value in a restored database's settings that still names a PROD host.
public struct ProductionReference: Sendable, Equatable, CustomStringConvertible {
    /// The table (for bandana, `bandana`).
    public let table: String
    /// The row's key: a property key, a bandana key, or `id N (name)`.
    public let key: String
    /// The PROD host it names.
    public let host: String
    /// The value around the host (at most about 100 characters, on one line).
    public let excerpt: String

    public var description: String { "\(table) \(key): \(excerpt) (names PROD host \(host))" }
}

/// The PROD-reference scan: reads the settings-bearing tables of a Jira or Confluence database
/// and returns every value that names a PROD host. Content (issue text, comments, page bodies)
/// is data and is not read.
///
/// Jira: `propertystring` and `propertytext` (application properties, application links, the
/// mail handlers' parameters), `mailserver`, `serviceconfig`, enabled webhooks
/// (`AO_4AEACD_WEBHOOK_DAO`), `oauthconsumer`, `oauthspconsumer`, `trustedapp`. Confluence: every
/// `_GLOBAL` `bandana` value (the global settings, application links, mail servers) and the
/// spaces' mail accounts,
/// `os_propertyentry`, `trustedapp` and `trustedapprestriction`, enabled webhooks
/// (`AO_A0B856_WEB_HOOK_LISTENER_AO`). A disabled webhook calls nobody and is not reported.
///
/// A host matches as a whole host name, case-insensitively: `jira.example.com` matches in
/// `https://jira.example.com/x`, `jira.example.com:8443` and `JIRA.EXAMPLE.COM`, not in
/// `notjira.example.com`, `a.jira.example.com` (another host) or `jira.example.com.au`. Values are
/// also read percent-decoded, so `https%3A%2F%2Fjira.example.com` matches too.
public enum ProductionReferenceScan {
    /// PROD's hosts: the hosts of `urls` (PROD's base URLs) and `hosts` (host names, or URLs),
    /// lower-case, without duplicates. A URL with an explicit port gives `host:port`, which
    /// matches only with that port (PROD and DEV on one host, different ports, stay apart); a
    /// URL without one, or a bare host name, matches the host with any port.
    public static func hosts(urls: [String], hosts extra: [String] = []) -> [String] {
        var result: [String] = []
        for text in urls + extra {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            var host: String
            if trimmed.contains("://") {
                let components = URLComponents(string: trimmed)
                host = components?.host ?? ""
                while host.hasSuffix(".") { host.removeLast() }
                if let port = components?.port, !host.isEmpty { host += ":\(port)" }
            } else {
                host = trimmed
                if let cut = host.firstIndex(where: { $0 == "/" || $0 == ":" }) { host = String(host[..<cut]) }
                while host.hasSuffix(".") { host.removeLast() }
            }
            host = host.lowercased()
            if !host.isEmpty && !result.contains(host) { result.append(host) }
        }
        return result
    }

    /// The hosts of `hosts` that `value` names (see the matching rule above).
    public static func hostsNamed(in value: String, hosts: [String]) -> [String] {
        let forms = [value.lowercased()] + (value.removingPercentEncoding.map { [$0.lowercased()] } ?? [])
        return hosts.filter { host in forms.contains { firstMatch(of: host, in: $0) != nil } }
    }

    /// Where `host` first occurs in `text` (both lower-case) as a whole host name.
    static func firstMatch(of host: String, in text: String) -> Range<String.Index>? {
        guard !host.isEmpty else { return nil }
        func isHostCharacter(_ character: Character) -> Bool {
            character.isASCII && (character.isLetter || character.isNumber || character == "-" || character == "_")
        }
        var searchFrom = text.startIndex
        while let range = text.range(of: host, range: searchFrom..<text.endIndex) {
            searchFrom = text.index(after: range.lowerBound)
            if range.lowerBound > text.startIndex {
                let before = text[text.index(before: range.lowerBound)]
                if isHostCharacter(before) || before == "." { continue }
            }
            if range.upperBound < text.endIndex {
                let after = text[range.upperBound]
                if isHostCharacter(after) { continue }
                if after == "." {
                    // A dot that starts another label makes it another host (jira.example.com.au);
                    // a dot that ends a sentence or the name (jira.example.com.) does not.
                    let next = text.index(after: range.upperBound)
                    if next < text.endIndex, isHostCharacter(text[next]) { continue }
                }
            }
            return range
        }
        return nil
    }

    /// The text around the first PROD host in `value`, on one line.
    static func excerpt(_ value: String, host: String) -> String {
        let flat = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        let lower = flat.lowercased()
        guard let range = firstMatch(of: host, in: lower) ?? lower.range(of: host) else {
            return String(flat.prefix(100))
        }
        let start = lower.distance(from: lower.startIndex, to: range.lowerBound)
        let characters = Array(flat)
        let from = max(0, start - 40)
        let to = min(characters.count, start + host.count + 40)
        return (from > 0 ? "…" : "") + String(characters[from..<to]) + (to < characters.count ? "…" : "")
    }

    /// Scans `product`'s database at `location` for `hosts` (see ``hosts(urls:hosts:)``).
    ///
    /// Reads only; safe against any environment.
    ///
    /// - Returns: the findings, in table order; empty when no PROD host is named (or `hosts` is
    ///   empty).
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/unreachable`` or
    ///   ``AtlassianError/Kind/invalidInput`` (not `product`'s database).
    public static func scan(
        _ product: Product, database location: DatabaseLocation, hosts: [String],
        logger: Logger = Logger(label: "atlas-relay.prod-reference-scan")
    ) async throws -> [ProductionReference] {
        let database = try await ProductDatabase.open(
            location, product: product,
            tables: product == .jira ? ["propertyentry", "propertystring"] : ["bandana"], logger: logger)
        do {
            let findings = try await scan(product, database.connection, hosts: hosts, logger: logger)
            await database.close()
            return findings
        } catch {
            await database.close()
            throw error
        }
    }

    /// A source of values: a table, and a query returning key and value for rows that may name a
    /// host (`$patterns` is bound to the `%host%` patterns).
    struct Source: Sendable {
        let table: String
        /// The tables the query needs; the source is skipped when one is missing.
        let needs: [String]
        let query: @Sendable (_ patterns: [String]) -> PostgresQuery
    }

    static func scan(_ product: Product, _ connection: PostgresConnection, hosts: [String], logger: Logger)
        async throws -> [ProductionReference]
    {
        let hosts = hosts.map { $0.lowercased() }.filter { !$0.isEmpty }
        guard !hosts.isEmpty else { return [] }
        // The SQL filter is a superset (any case-insensitive substring); the host rule is applied here.
        let patterns = hosts.map {
            "%" + $0.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        }
        var findings: [ProductionReference] = []
        for source in product == .jira ? jiraSources : confluenceSources {
            var present = true
            for table in source.needs where !(try await Sanitisation.exists(table, connection, logger)) {
                present = false
            }
            guard present else { continue }
            for try await (key, value) in try await connection.query(source.query(patterns), logger: logger).decode(
                (String, String?).self)
            {
                guard let value else { continue }
                for host in hostsNamed(in: value, hosts: hosts) {
                    findings.append(
                        ProductionReference(
                            table: source.table, key: key, host: host, excerpt: excerpt(value, host: host)))
                }
            }
        }
        return findings
    }

    static let jiraSources: [Source] = [
        Source(table: "propertystring", needs: ["propertystring", "propertyentry"]) { patterns in
            """
            SELECT COALESCE(e.entity_name || ' ' || e.entity_id || ' ' || e.property_key, 'id ' || s.id), s.propertyvalue
            FROM propertystring s LEFT JOIN propertyentry e ON e.id = s.id
            WHERE s.propertyvalue ILIKE ANY(\(patterns)) ORDER BY s.id
            """
        },
        Source(table: "propertytext", needs: ["propertytext", "propertyentry"]) { patterns in
            """
            SELECT COALESCE(e.entity_name || ' ' || e.entity_id || ' ' || e.property_key, 'id ' || t.id), t.propertyvalue
            FROM propertytext t LEFT JOIN propertyentry e ON e.id = t.id
            WHERE t.propertyvalue ILIKE ANY(\(patterns)) ORDER BY t.id
            """
        },
        Source(table: "mailserver", needs: ["mailserver"]) { patterns in
            """
            SELECT 'id ' || id || ' (' || COALESCE(name, '') || ')', v FROM (
                SELECT id, name, concat_ws(' ', servername, mailfrom, mailusername, description, jndilocation, socks_host) AS v
                FROM mailserver) m
            WHERE v ILIKE ANY(\(patterns)) ORDER BY id
            """
        },
        Source(table: "serviceconfig", needs: ["serviceconfig"]) { patterns in
            """
            SELECT 'id ' || id || ' (' || COALESCE(servicename, '') || ')', concat_ws(' ', servicename, clazz)
            FROM serviceconfig WHERE concat_ws(' ', servicename, clazz) ILIKE ANY(\(patterns)) ORDER BY id
            """
        },
        Source(table: "AO_4AEACD_WEBHOOK_DAO", needs: ["AO_4AEACD_WEBHOOK_DAO"]) { patterns in
            """
            SELECT 'id ' || "ID" || ' (' || "NAME" || ')', "URL" FROM "AO_4AEACD_WEBHOOK_DAO"
            WHERE "ENABLED" IS NOT FALSE AND "URL" ILIKE ANY(\(patterns)) ORDER BY "ID"
            """
        },
        Source(table: "oauthconsumer", needs: ["oauthconsumer"]) { patterns in
            """
            SELECT 'id ' || id || ' (' || COALESCE(consumername, '') || ')', concat_ws(' ', callback, description)
            FROM oauthconsumer WHERE concat_ws(' ', callback, description) ILIKE ANY(\(patterns)) ORDER BY id
            """
        },
        Source(table: "oauthspconsumer", needs: ["oauthspconsumer"]) { patterns in
            """
            SELECT 'id ' || id || ' (' || COALESCE(consumername, '') || ')', concat_ws(' ', callback, description)
            FROM oauthspconsumer WHERE concat_ws(' ', callback, description) ILIKE ANY(\(patterns)) ORDER BY id
            """
        },
        Source(table: "trustedapp", needs: ["trustedapp"]) { patterns in
            """
            SELECT 'id ' || id || ' (' || COALESCE(name, '') || ')', concat_ws(' ', name, url_match, ip_match)
            FROM trustedapp WHERE concat_ws(' ', name, url_match, ip_match) ILIKE ANY(\(patterns)) ORDER BY id
            """
        },
    ]

    static let confluenceSources: [Source] = [
        Source(table: "bandana", needs: ["bandana"]) { patterns in
            """
            SELECT CASE WHEN bandanacontext = '_GLOBAL' THEN bandanakey ELSE bandanacontext || ' ' || bandanakey END,
                   bandanavalue
            FROM bandana
            WHERE (bandanacontext = '_GLOBAL' OR bandanakey = 'atlassian.confluence.space.mailaccounts')
              AND bandanavalue ILIKE ANY(\(patterns)) ORDER BY bandanaid
            """
        },
        Source(table: "os_propertyentry", needs: ["os_propertyentry"]) { patterns in
            """
            SELECT entity_name || ' ' || entity_id || ' ' || entity_key, concat_ws(' ', string_val, text_val)
            FROM os_propertyentry WHERE concat_ws(' ', string_val, text_val) ILIKE ANY(\(patterns))
            ORDER BY entity_name, entity_id, entity_key
            """
        },
        Source(table: "trustedapp", needs: ["trustedapp", "trustedapprestriction"]) { patterns in
            """
            SELECT 'id ' || a.trustedappid || ' (' || a.name || ')',
                   concat_ws(' ', a.name, string_agg(r.restriction, ' '))
            FROM trustedapp a LEFT JOIN trustedapprestriction r ON r.trustedappid = a.trustedappid
            GROUP BY a.trustedappid, a.name
            HAVING concat_ws(' ', a.name, string_agg(r.restriction, ' ')) ILIKE ANY(\(patterns))
            ORDER BY a.trustedappid
            """
        },
        Source(table: "AO_A0B856_WEB_HOOK_LISTENER_AO", needs: ["AO_A0B856_WEB_HOOK_LISTENER_AO"]) { patterns in
            """
            SELECT 'id ' || "ID" || ' (' || "NAME" || ')', "URL" FROM "AO_A0B856_WEB_HOOK_LISTENER_AO"
            WHERE "ENABLED" IS NOT FALSE AND "URL" ILIKE ANY(\(patterns)) ORDER BY "ID"
            """
        },
    ]
}
