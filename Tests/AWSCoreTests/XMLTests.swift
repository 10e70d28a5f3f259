import Foundation
import Testing

@testable import AWSCore

struct XMLTests {
    @Test func writerEscapesAndParserRoundTrips() throws {
        var writer = XMLWriter()
        writer.element("Delete", attributes: [("xmlns", "http://s3.amazonaws.com/doc/2006-03-01/")]) { xml in
            xml.element("Quiet", text: "true")
            for key in ["a&b<c>.txt", "quote\"'.txt", "line\nbreak.txt"] {
                xml.element("Object") { $0.element("Key", text: key) }
            }
        }
        #expect(writer.string.contains("<Key>a&amp;b&lt;c&gt;.txt</Key>"))
        #expect(writer.string.contains("<Key>line&#10;break.txt</Key>"))
        let parsed = try XMLNode.parse(writer.data)
        #expect(parsed.name == "Delete")
        #expect(
            parsed.children("Object").compactMap { $0.string("Key") } == [
                "a&b<c>.txt", "quote\"'.txt", "line\nbreak.txt",
            ])
    }

    @Test func malformedXMLIsAClearError() {
        do {
            _ = try XMLNode.parse(Data("<Error><Code>Oops</Error>".utf8))
            Issue.record("expected a parse error")
        } catch let error as AWSClientError {
            #expect(error.kind == .malformedResponse)
            #expect(error.message.contains("not well-formed XML"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
