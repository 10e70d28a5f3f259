// The XMLNode parser as it was until 2026-12-01, on Foundation's XMLParser: the anchor that
// Benchmarks/xml-parse.sh measures the parser of its own against (renamed OldXMLNode).
import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A parsed XML element: the small tree the Query, EC2 and REST-XML protocols answer with.
public struct OldXMLNode: Sendable, Equatable {
    /// The element name without namespace prefix.
    public var name: String
    /// The element's attributes.
    public var attributes: [String: String]
    /// Child elements, in document order.
    public var children: [OldXMLNode]
    /// The concatenated character data directly inside the element.
    public var text: String

    /// Creates an element.
    public init(name: String, attributes: [String: String] = [:], children: [OldXMLNode] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child called `name`.
    public func child(_ name: String) -> OldXMLNode? { children.first { $0.name == name } }

    /// All children called `name`.
    public func children(_ name: String) -> [OldXMLNode] { children.filter { $0.name == name } }

    /// Follows a path of child names, for example `["Error", "Code"]`.
    public func descendant(_ path: String...) -> OldXMLNode? {
        var node: OldXMLNode? = self
        for name in path { node = node?.child(name) }
        return node
    }

    /// The text of the child called `name`, if present.
    public func string(_ name: String) -> String? { child(name)?.text }

    /// Parses a document.
    ///
    /// - Throws: ``AWSClientError`` with the parser's reason when the data is not well-formed XML.
    public static func parse(_ data: Data) throws -> OldXMLNode {
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
        var stack: [OldXMLNode] = []
        var root: OldXMLNode?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(OldXMLNode(name: local, attributes: attributeDict))
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

