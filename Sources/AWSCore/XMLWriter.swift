import Foundation
import RelayFoundation

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
        for (key, value) in attributes { output += " \(key)=\"\(XMLEscaping.escape(value))\"" }
        output += ">"
        content(&self)
        output += "</\(name)>"
    }

    /// Writes `<name>text</name>`, escaping the text.
    public mutating func element(_ name: String, text: String) {
        output += "<\(name)>\(XMLEscaping.escape(text))</\(name)>"
    }

    /// The document as UTF-8 bytes.
    public var data: Data { Data(output.utf8) }

    /// The document as a string.
    public var string: String { output }
}
