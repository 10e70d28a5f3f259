import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A parsed XML element: the small tree the Query, EC2 and REST-XML protocols answer with.
public struct XMLNode: Sendable, Equatable {
    /// The element name without namespace prefix.
    public var name: String
    /// The element's attributes.
    public var attributes: [String: String]
    /// Child elements, in document order.
    public var children: [XMLNode]
    /// The concatenated character data directly inside the element.
    public var text: String

    /// Creates an element.
    public init(name: String, attributes: [String: String] = [:], children: [XMLNode] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child called `name`.
    public func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// All children called `name`.
    public func children(_ name: String) -> [XMLNode] { children.filter { $0.name == name } }

    /// Follows a path of child names, for example `["Error", "Code"]`.
    public func descendant(_ path: String...) -> XMLNode? {
        var node: XMLNode? = self
        for name in path { node = node?.child(name) }
        return node
    }

    /// The text of the child called `name`, if present.
    public func string(_ name: String) -> String? { child(name)?.text }

    /// Parses a document.
    ///
    /// - Throws: ``AWSClientError`` with the parser's reason when the data is not well-formed XML.
    public static func parse(_ data: Data) throws -> XMLNode {
        let parser = XMLParser(data: data)
        let builder = TreeBuilder()
        parser.delegate = builder
        parser.shouldProcessNamespaces = false
        guard parser.parse(), let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element"
            throw AWSClientError(.malformedResponse, "response is not well-formed XML (\(reason))")
        }
        return root
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var stack: [XMLNode] = []
        var root: XMLNode?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(XMLNode(name: local, attributes: attributeDict))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
        ) {
            guard var node = stack.popLast() else { return }
            if !node.children.isEmpty { node.text = node.text.trimmingCharacters(in: .whitespacesAndNewlines) }
            if stack.isEmpty { root = node } else { stack[stack.count - 1].children.append(node) }
        }
    }
}

/// Writes small XML request bodies (S3's `Delete`, `CompleteMultipartUpload`, …) with escaping.
public struct XMLWriter: Sendable {
    private(set) var output = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

    /// Starts a document.
    public init() {}

    /// Writes `<name attributes>…</name>` with `content` written inside.
    public mutating func element(
        _ name: String, attributes: [(String, String)] = [], _ content: (inout XMLWriter) -> Void
    ) {
        output += "<\(name)"
        for (key, value) in attributes { output += " \(key)=\"\(Self.escape(value))\"" }
        output += ">"
        content(&self)
        output += "</\(name)>"
    }

    /// Writes `<name>text</name>`, escaping the text.
    public mutating func element(_ name: String, text: String) {
        output += "<\(name)>\(Self.escape(text))</\(name)>"
    }

    /// The document as UTF-8 bytes.
    public var data: Data { Data(output.utf8) }

    /// The document as a string.
    public var string: String { output }

    /// Escapes `&`, `<`, `>`, quotes, and control characters that XML 1.0 allows only as references.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
