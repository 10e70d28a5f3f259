import Foundation

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
    /// A small parser of its own, for the XML that AWS services answer with: elements, attributes,
    /// character data with the predefined and numeric references, CDATA, comments and processing
    /// instructions (skipped). Names keep only their local part (after the last `:`). A document
    /// type declaration is refused (no entity expansion can be smuggled in), and so is anything
    /// that is not well-formed or not UTF-8. Foundation's `XMLParser` was replaced because the fuzz
    /// target found inputs on which it traps or crashes (an element name that is not UTF-8, a
    /// processing instruction without data), which a hostile server could send. It never recurses,
    /// and refuses nesting deeper than 128 elements, so a document cannot exhaust the stack.
    ///
    /// - Throws: ``AWSClientError`` (`malformedResponse`) saying what is wrong and where.
    public static func parse(_ data: Data) throws -> XMLNode {
        guard String(validating: data, as: UTF8.self) != nil else {
            throw AWSClientError(.malformedResponse, "response is not well-formed XML (it is not valid UTF-8)")
        }
        var parser = XMLByteParser(Array(data))
        do {
            return try parser.document()
        } catch let error as XMLByteParser.Failure {
            throw AWSClientError(
                .malformedResponse, "response is not well-formed XML (\(error.reason) at byte \(error.offset))")
        }
    }
}

/// The byte-level parser behind ``XMLNode/parse(_:)``.
struct XMLByteParser {
    struct Failure: Error {
        let reason: String
        let offset: Int
    }

    /// An element being read: the node so far, its qualified name, and its text.
    typealias OpenElement = (node: XMLNode, name: Range<Int>, text: [UInt8])

    /// The deepest nesting accepted. AWS answers nest a few levels; a tree much deeper would
    /// exhaust the stack when it is compared or freed (both recurse).
    static let maximumDepth = 128

    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    private func fail(_ reason: String) -> Failure { Failure(reason: reason, offset: index) }

    private func at(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { literal in
            for offset in 0..<count where bytes[index + offset] != literal[offset] { return false }
            return true
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    private mutating func skipSpace() {
        while index < bytes.count && Self.isSpace(bytes[index]) { index += 1 }
    }

    /// Moves past the next `end`, or fails with `what`.
    private mutating func skip(past end: StaticString, _ what: String) throws {
        while index < bytes.count {
            if at(end) {
                index += end.utf8CodeUnitCount
                return
            }
            index += 1
        }
        throw fail("unterminated \(what)")
    }

    /// Skips a comment or processing instruction at `index`, if there is one; fails on a DOCTYPE
    /// or another `<!` declaration.
    private mutating func skipMisc() throws -> Bool {
        if at("<!--") {
            index += 4
            try skip(past: "-->", "comment")
            return true
        }
        if at("<?") {
            index += 2
            try skip(past: "?>", "processing instruction")
            return true
        }
        if at("<!DOCTYPE") { throw fail("a document type declaration is not accepted") }
        return false
    }

    /// Reads a name; returns its bytes' range.
    private mutating func nameRange() throws -> Range<Int> {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if Self.isSpace(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ">")
                || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "<")
            {
                break
            }
            index += 1
        }
        guard index > start else { throw fail("a name was expected") }
        return start..<index
    }

    /// The local part of the name in `range` (after its last `:`).
    private func localName(_ range: Range<Int>) -> String {
        let colon = bytes[range].lastIndex(of: UInt8(ascii: ":"))
        return String(decoding: bytes[(colon.map { $0 + 1 } ?? range.lowerBound)..<range.upperBound], as: UTF8.self)
    }

    /// Appends the character data up to `terminator` (not consumed), decoding references and
    /// normalising line ends.
    private mutating func characters(until terminator: UInt8, into text: inout [UInt8]) throws {
        while index < bytes.count && bytes[index] != terminator {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "&"):
                try reference(into: &text)
            case 0x0D:
                text.append(0x0A)
                index += 1
                if index < bytes.count && bytes[index] == 0x0A { index += 1 }
            case UInt8(ascii: "<") where terminator != UInt8(ascii: "<"):
                throw fail("'<' inside an attribute value")
            default:
                text.append(byte)
                index += 1
            }
        }
    }

    private mutating func reference(into text: inout [UInt8]) throws {
        let start = index
        index += 1
        while index < bytes.count && bytes[index] != UInt8(ascii: ";") {
            guard index - start < 12 else { throw fail("an unterminated '&' reference") }
            index += 1
        }
        guard index < bytes.count else { throw fail("an unterminated '&' reference") }
        let body = String(decoding: bytes[(start + 1)..<index], as: UTF8.self)
        index += 1
        let scalar: Unicode.Scalar?
        switch body {
        case "amp": scalar = "&"
        case "lt": scalar = "<"
        case "gt": scalar = ">"
        case "quot": scalar = "\""
        case "apos": scalar = "'"
        default:
            if body.hasPrefix("#x") || body.hasPrefix("#X") {
                scalar = UInt32(body.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
            } else if body.hasPrefix("#") {
                scalar = UInt32(body.dropFirst(), radix: 10).flatMap(Unicode.Scalar.init)
            } else {
                throw Failure(reason: "the unknown entity '&\(body);'", offset: start)
            }
        }
        guard let scalar, scalar.value != 0 else {
            throw Failure(reason: "the character reference '&\(body);' names no character", offset: start)
        }
        text.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    /// Reads `<name attributes` up to and including `>` or `/>`; returns the node and whether
    /// it was empty (`/>`).
    private mutating func startTag() throws -> (XMLNode, Range<Int>, Bool) {
        index += 1  // <
        let qualifiedRange = try nameRange()
        var node = XMLNode(name: localName(qualifiedRange))
        var qualified: String { String(decoding: bytes[qualifiedRange], as: UTF8.self) }
        while true {
            skipSpace()
            guard index < bytes.count else { throw fail("an unterminated start tag <\(qualified)") }
            if at("/>") {
                index += 2
                return (node, qualifiedRange, true)
            }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                return (node, qualifiedRange, false)
            }
            let attribute = try attributeName()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                throw fail("'=' expected after the attribute \(attribute)")
            }
            index += 1
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'")
            else { throw fail("a quoted value expected for the attribute \(attribute)") }
            let quote = bytes[index]
            index += 1
            var value: [UInt8] = []
            try characters(until: quote, into: &value)
            guard index < bytes.count else { throw fail("an unterminated value of the attribute \(attribute)") }
            index += 1
            node.attributes[attribute] = String(decoding: value, as: UTF8.self)
        }
    }

    private mutating func attributeName() throws -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if Self.isSpace(byte) || byte == UInt8(ascii: "=") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") {
                break
            }
            index += 1
        }
        guard index > start else { throw fail("an attribute name was expected") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// The root element, with whatever may stand around it.
    mutating func document() throws -> XMLNode {
        while true {
            skipSpace()
            guard index < bytes.count else { throw fail("no root element") }
            if try skipMisc() { continue }
            guard bytes[index] == UInt8(ascii: "<"), !at("<!"), !at("</") else {
                throw fail("a root element was expected")
            }
            break
        }
        var open: [OpenElement] = []
        var root: XMLNode?
        func close(_ entry: OpenElement, into open: inout [OpenElement]) -> XMLNode? {
            var node = entry.node
            if !entry.text.isEmpty {
                node.text = String(decoding: entry.text, as: UTF8.self)
                if !node.children.isEmpty { node.text = node.text.trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            guard !open.isEmpty else { return node }
            open[open.count - 1].node.children.append(node)
            return nil
        }
        repeat {
            if at("</") {
                index += 2
                let closing = try nameRange()
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else {
                    throw fail("'>' expected to end a closing tag")
                }
                index += 1
                guard let entry = open.popLast(), bytes[entry.name].elementsEqual(bytes[closing]) else {
                    throw fail("a closing tag that does not close the open element")
                }
                root = close(entry, into: &open)
            } else if at("<![CDATA[") {
                index += 9
                let start = index
                try skip(past: "]]>", "CDATA section")
                guard !open.isEmpty else { throw fail("character data outside the root element") }
                open[open.count - 1].text += bytes[start..<(index - 3)]
            } else if try skipMisc() {
                continue
            } else if at("<!") {
                throw fail("an unexpected declaration")
            } else if index < bytes.count && bytes[index] == UInt8(ascii: "<") {
                let (node, name, empty) = try startTag()
                if empty {
                    root = close((node, name, []), into: &open)
                } else {
                    guard open.count < Self.maximumDepth else {
                        throw fail("elements nested more than \(Self.maximumDepth) deep")
                    }
                    open.append((node, name, []))
                }
            } else {
                guard !open.isEmpty else { throw fail("character data outside the root element") }
                var text = open[open.count - 1].text
                open[open.count - 1].text = []
                try characters(until: UInt8(ascii: "<"), into: &text)
                open[open.count - 1].text = text
            }
            guard index < bytes.count || open.isEmpty else { throw fail("the document ends inside an open element") }
        } while !open.isEmpty
        while true {
            skipSpace()
            guard index < bytes.count else { break }
            guard try skipMisc() else { throw fail("content after the root element") }
        }
        guard let root else { throw fail("no root element") }
        return root
    }

}
