import Foundation
import PostgresNIO

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Application links as the applinks plugin keeps them in the product database: plugin settings
/// `applinks.global.application.ids` (the list of ids) and `applinks.admin.<id>.name`, `.type`,
/// `.display.url`, `.rpc.url`, `.primary`. Jira keeps them as application properties, Confluence
/// in `bandana` (`_GLOBAL`). Atlassian's KB relocates links after a clone by rewriting these URLs
/// while the application is down; ``JiraSettingsStore`` and ``ConfluenceSettingsStore`` do that.
enum ApplicationLinkRecords {
    static let idsKey = "applinks.global.application.ids"
    static let prefix = "applinks."

    /// The applinks type class of a type id, and back (the two products' type ids are their
    /// ``Product`` raw values).
    static let typeClasses: [String: String] = [
        Product.jira.rawValue: "com.atlassian.applinks.application.jira.JiraApplicationTypeImpl",
        Product.confluence.rawValue: "com.atlassian.applinks.application.confluence.ConfluenceApplicationTypeImpl",
        "bitbucket": "com.atlassian.applinks.application.bitbucket.BitbucketApplicationTypeImpl",
        "bamboo": "com.atlassian.applinks.application.bamboo.BambooApplicationTypeImpl",
    ]

    static func keys(_ id: String) -> [String] {
        ["name", "type", "display.url", "rpc.url", "primary"].map { "applinks.admin.\(id).\($0)" }
    }

    /// The links described by `settings` (key → string value; the id list as a list of ids).
    static func decode(ids: [String], settings: [String: String]) -> [ApplicationLink] {
        ids.compactMap { id in
            let base = "applinks.admin.\(id)."
            guard let rpc = settings[base + "rpc.url"] else { return nil }
            let typeClass = settings[base + "type"] ?? ""
            let typeId =
                typeClasses.first { $0.value == typeClass }?.key
                ?? typeClass.split(separator: ".").dropLast().last.map(String.init) ?? typeClass
            return ApplicationLink(
                id: id, name: settings[base + "name"] ?? id, typeId: typeId, rpcUrl: rpc,
                displayUrl: settings[base + "display.url"], isPrimary: settings[base + "primary"] == "true")
        }
    }

    /// The settings that describe `link`.
    static func encode(_ link: ApplicationLink) -> [String: String] {
        let base = "applinks.admin.\(link.id)."
        return [
            base + "name": link.name, base + "type": typeClasses[link.typeId] ?? link.typeId,
            base + "display.url": link.displayUrl ?? link.rpcUrl, base + "rpc.url": link.rpcUrl,
            base + "primary": link.isPrimary ? "true" : "false",
        ]
    }

    /// Jira's encoding of a list in a plugin setting.
    static func jiraList(_ ids: [String]) -> String { (["#java.util.List"] + ids).joined(separator: "\n") }

    static func jiraListItems(_ value: String) -> [String] {
        value.split(separator: "\n").map(String.init).filter { $0 != "#java.util.List" && !$0.isEmpty }
    }
}

extension JiraSettingsStore {
    /// The application links stored in the database.
    public func applicationLinks() async throws -> [ApplicationLink] {
        let properties = try await properties()
        let ids = properties[ApplicationLinkRecords.idsKey].map { ApplicationLinkRecords.jiraListItems($0.description) }
        return ApplicationLinkRecords.decode(ids: ids ?? [], settings: properties.mapValues(\.description))
    }

    /// Creates or updates `link` (matched by id) in one transaction.
    public func saveApplicationLink(_ link: ApplicationLink) async throws {
        var ids = try await applicationLinks().map(\.id)
        if !ids.contains(link.id) { ids.append(link.id) }
        var values = ApplicationLinkRecords.encode(link).mapValues { JiraSettingsStore.Value.string($0) }
        values[ApplicationLinkRecords.idsKey] = .text(ApplicationLinkRecords.jiraList(ids))
        try await set(values)
    }

    /// Removes the link `id`; false when there was none.
    @discardableResult
    public func deleteApplicationLink(id: String) async throws -> Bool {
        let ids = try await applicationLinks().map(\.id)
        guard ids.contains(id) else { return false }
        try await database.transaction { connection in
            try await Self.write(
                [ApplicationLinkRecords.idsKey: .text(ApplicationLinkRecords.jiraList(ids.filter { $0 != id }))],
                connection: connection, logger: database.logger)
            try await Self.remove(ApplicationLinkRecords.keys(id), connection: connection, logger: database.logger)
        }
        return true
    }
}

extension ConfluenceSettingsStore {
    /// The application links stored in the database.
    public func applicationLinks() async throws -> [ApplicationLink] {
        let values = try await bandanaValues(prefix: ApplicationLinkRecords.prefix)
        let ids = try values[ApplicationLinkRecords.idsKey].map { try Self.xstreamList($0) } ?? []
        return ApplicationLinkRecords.decode(ids: ids, settings: try values.mapValues { try Self.xstreamString($0) })
    }

    /// Creates or updates `link` (matched by id) in one transaction.
    public func saveApplicationLink(_ link: ApplicationLink) async throws {
        var ids = try await applicationLinks().map(\.id)
        if !ids.contains(link.id) { ids.append(link.id) }
        var values: [String: String?] = ApplicationLinkRecords.encode(link).mapValues { Self.xstream(string: $0) }
        values[ApplicationLinkRecords.idsKey] = Self.xstream(list: ids)
        try await setBandana(values)
    }

    /// Removes the link `id`; false when there was none.
    @discardableResult
    public func deleteApplicationLink(id: String) async throws -> Bool {
        let ids = try await applicationLinks().map(\.id)
        guard ids.contains(id) else { return false }
        var values: [String: String?] = [ApplicationLinkRecords.idsKey: Self.xstream(list: ids.filter { $0 != id })]
        for key in ApplicationLinkRecords.keys(id) { values[key] = .some(nil) }
        try await setBandana(values)
        return true
    }

    /// `<string>…</string>`, as XStream writes a string.
    static func xstream(string: String) -> String {
        let element = XMLElement(name: "string", stringValue: string)
        return element.xmlString
    }

    /// `<list><string>…</string>…</list>`.
    static func xstream(list: [String]) -> String {
        let element = XMLElement(name: "list")
        for item in list { element.addChild(XMLElement(name: "string", stringValue: item)) }
        return element.xmlString
    }

    static func xstreamString(_ xml: String) throws -> String {
        let document = try XMLDocument(xmlString: xml, options: [.nodePreserveWhitespace])
        return document.rootElement()?.stringValue ?? ""
    }

    static func xstreamList(_ xml: String) throws -> [String] {
        let document = try XMLDocument(xmlString: xml)
        return (document.rootElement()?.elements(forName: "string") ?? []).compactMap(\.stringValue)
    }
}

extension ConfluenceSettingsStore {
    static let colourSchemeKeys = (
        light: "atlassian.confluence.colour.scheme", dark: "atlassian.confluence.colour.scheme.dark"
    )

    /// The global colour scheme stored in `bandana` (an XStream map of colour name to `#rrggbb`
    /// per theme); nil themes are not customised.
    public func colourScheme() async throws -> ConfluenceClient.ColorScheme {
        let values = try await bandanaValues(prefix: Self.colourSchemeKeys.light)
        return ConfluenceClient.ColorScheme(
            light: try values[Self.colourSchemeKeys.light].map(Self.xstreamMap),
            dark: try values[Self.colourSchemeKeys.dark].map(Self.xstreamMap))
    }

    /// Stores `scheme`'s non-nil themes in one transaction.
    public func setColourScheme(_ scheme: ConfluenceClient.ColorScheme) async throws {
        var values: [String: String?] = [:]
        if let light = scheme.colorSchemeModelLight { values[Self.colourSchemeKeys.light] = Self.xstream(map: light) }
        if let dark = scheme.colorSchemeModelDark { values[Self.colourSchemeKeys.dark] = Self.xstream(map: dark) }
        if !values.isEmpty { try await setBandana(values) }
    }

    /// `<map><entry><string>key</string><string>value</string></entry>…</map>`.
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

    static func xstreamMap(_ xml: String) throws -> [String: String] {
        let document = try XMLDocument(xmlString: xml)
        var map: [String: String] = [:]
        for entry in document.rootElement()?.elements(forName: "entry") ?? [] {
            let strings = entry.elements(forName: "string").compactMap(\.stringValue)
            if strings.count == 2 { map[strings[0]] = strings[1] }
        }
        return map
    }
}
