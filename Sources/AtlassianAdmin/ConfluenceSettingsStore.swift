import Foundation
import Logging
import PostgresNIO

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Confluence's global settings in its database: the `atlassian.confluence.settings` XML in
/// `bandana`, read and rewritten as XML.
public final class ConfluenceSettingsStore: Sendable {
    /// The settings this store changes.
    public struct Settings: Sendable, Equatable, Codable {
        /// `<siteTitle>`.
        public var siteTitle: String?
        /// `<baseUrl>`.
        public var baseURL: String?
        /// `<customHtmlSettings><afterBodyStart>`: HTML at the top of every page (the banner).
        public var bannerHTML: String?

        /// Creates settings; nil leaves a value as it is.
        public init(siteTitle: String? = nil, baseURL: String? = nil, bannerHTML: String? = nil) {
            self.siteTitle = siteTitle
            self.baseURL = baseURL
            self.bannerHTML = bannerHTML
        }
    }

    nonisolated(unsafe) static let paths: [(keyPath: WritableKeyPath<Settings, String?>, path: [String])] = [
        (\.siteTitle, ["siteTitle"]), (\.baseURL, ["baseUrl"]),
        (\.bannerHTML, ["customHtmlSettings", "afterBodyStart"]),
    ]

    let database: ProductDatabase

    private init(database: ProductDatabase) { self.database = database }

    /// Opens the store.
    ///
    /// - Throws: ``AtlassianError`` of kind ``AtlassianError/Kind/unreachable`` when the database
    ///   cannot be reached, ``AtlassianError/Kind/invalidInput`` when it is not a Confluence
    ///   database.
    public static func open(_ location: DatabaseLocation, logger: Logger = Logger(label: "atlas-relay.confluence-db"))
        async throws -> ConfluenceSettingsStore
    {
        ConfluenceSettingsStore(
            database: try await ProductDatabase.open(
                location, product: .confluence, tables: ["bandana", "hibernate_unique_key"], logger: logger))
    }

    /// Closes the connection.
    public func close() async { await database.close() }

    /// Whether the connection is still open (the server has not closed it).
    package var isOpen: Bool { !database.connection.isClosed }

    /// The settings as stored now.
    public func settings() async throws -> Settings {
        let document = try Self.parse(try await xml())
        var settings = Settings()
        for entry in Self.paths {
            settings[keyPath: entry.keyPath] = Self.element(document, entry.path, create: false)?.stringValue
        }
        return settings
    }

    /// Writes the non-nil values of `wanted` in one transaction, changing only what differs;
    /// returns the names of the settings changed.
    @discardableResult
    public func set(_ wanted: Settings) async throws -> [String] {
        let original = try await xml()
        let document = try Self.parse(original)
        var changed: [String] = []
        for entry in Self.paths {
            guard let value = wanted[keyPath: entry.keyPath] else { continue }
            let element = Self.element(document, entry.path, create: true)!
            if element.stringValue != value {
                element.stringValue = value
                changed.append(entry.path.joined(separator: "/"))
            }
        }
        guard !changed.isEmpty else { return [] }
        let updated = document.rootElement()!.xmlString
        let logger = database.logger
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE bandana SET bandanavalue = \(updated)
                WHERE bandanacontext = '_GLOBAL' AND bandanakey = 'atlassian.confluence.settings'
                  AND bandanavalue = \(original)
                RETURNING bandanaid::bigint
                """, logger: logger)
            var count = 0
            for try await _ in rows.decode(Int64.self) { count += 1 }
            guard count == 1 else {
                throw AtlassianError(
                    .conflict,
                    "the Confluence settings changed while they were being rewritten; is Confluence running? Stop it and retry"
                )
            }
        }
        return changed
    }

    /// The raw `bandana` values of context `_GLOBAL` whose key starts with `prefix`, by key.
    func bandanaValues(prefix: String) async throws -> [String: String] {
        let rows = try await database.connection.query(
            """
            SELECT bandanakey, bandanavalue FROM bandana
            WHERE bandanacontext = '_GLOBAL' AND starts_with(bandanakey, \(prefix))
            """, logger: database.logger)
        var values: [String: String] = [:]
        for try await (key, value) in rows.decode((String, String?).self) { values[key] = value ?? "" }
        return values
    }

    /// Sets (or, for nil, removes) `_GLOBAL` `bandana` values in one transaction.
    func setBandana(_ values: [String: String?]) async throws {
        let logger = database.logger
        try await database.transaction { connection in
            for (key, value) in values.sorted(by: { $0.key < $1.key }) {
                _ = try await connection.query(
                    "DELETE FROM bandana WHERE bandanacontext = '_GLOBAL' AND bandanakey = \(key)", logger: logger)
                guard let value else { continue }
                let id = try await Self.allocateId(connection, logger: logger)
                _ = try await connection.query(
                    """
                    INSERT INTO bandana (bandanaid, bandanacontext, bandanakey, bandanavalue)
                    VALUES (\(id), '_GLOBAL', \(key), \(value))
                    """, logger: logger)
            }
        }
    }

    /// A free `bandana` id, with Hibernate's hi/lo counter (`hibernate_unique_key.next_hi`, blocks
    /// of 32,768 ids) moved past it so Confluence never allocates it again.
    static func allocateId(_ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        var highest: Int64 = 0
        var nextHi: Int64 = 0
        for try await value in try await connection.query(
            "SELECT COALESCE(MAX(bandanaid), 0)::bigint FROM bandana", logger: logger
        ).decode(Int64.self) { highest = value }
        for try await value in try await connection.query(
            "SELECT COALESCE(MAX(next_hi), 0)::bigint FROM hibernate_unique_key", logger: logger
        ).decode(Int64.self) { nextHi = value }
        let id = max(highest + 1, nextHi * 32_768)
        _ = try await connection.query("DELETE FROM hibernate_unique_key", logger: logger)
        _ = try await connection.query(
            "INSERT INTO hibernate_unique_key (next_hi) VALUES (\(id / 32_768 + 1))", logger: logger)
        return id
    }

    func xml() async throws -> String {
        let rows = try await database.connection.query(
            """
            SELECT bandanavalue FROM bandana
            WHERE bandanacontext = '_GLOBAL' AND bandanakey = 'atlassian.confluence.settings'
            """, logger: database.logger)
        for try await value in rows.decode(String?.self) { if let value { return value } }
        throw AtlassianError(
            .malformedAnswer,
            "\(database.location) has no global Confluence settings (bandana atlassian.confluence.settings); "
                + "was the restore complete?")
    }

    static func parse(_ xml: String) throws -> XMLDocument {
        do {
            let document = try XMLDocument(xmlString: xml, options: [.nodePreserveWhitespace])
            guard document.rootElement()?.name == "settings" else {
                throw AtlassianError(.malformedAnswer, "the Confluence settings XML has no <settings> root")
            }
            return document
        } catch let error as AtlassianError {
            throw error
        } catch {
            throw AtlassianError(
                .malformedAnswer, "the Confluence settings are not well-formed XML: \(error)", underlying: error)
        }
    }

    /// The element at `path` under the root, created (empty) when asked.
    static func element(_ document: XMLDocument, _ path: [String], create: Bool) -> XMLElement? {
        guard var current = document.rootElement() else { return nil }
        for name in path {
            if let next = current.elements(forName: name).first {
                current = next
            } else if create {
                let next = XMLElement(name: name)
                current.addChild(next)
                current = next
            } else {
                return nil
            }
        }
        return current
    }
}
