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

/// The parser against what a hostile or broken server can send: every input gives a tree or a
/// `malformedResponse` error, never a trap (the cases the fuzz target found are here).
struct XMLHostileInputTests {
    static func kind(_ text: String) -> AWSClientError.Kind? {
        kind(Data(text.utf8))
    }

    static func kind(_ data: Data) -> AWSClientError.Kind? {
        do {
            _ = try XMLNode.parse(data)
            return nil
        } catch let error as AWSClientError {
            return error.kind
        } catch {
            return nil
        }
    }

    @Test func whatFoundationsParserCrashedOnIsAnError() throws {
        // A processing instruction without data: XMLParser read a NULL pointer.
        #expect(Self.kind("<?x?>\n<ListBucketResult><Name>b</Name>") == .malformedResponse)
        #expect(try XMLNode.parse(Data("<?x?><A>1</A>".utf8)).string("A") == nil, "a bare PI before the root is skipped")
        // An element name that is not UTF-8: XMLParser trapped.
        #expect(Self.kind(Data([0x3C, 0x41, 0xFF, 0xFF, 0x3E, 0x3C, 0x2F, 0x41, 0xFF, 0xFF, 0x3E])) == .malformedResponse)
    }

    @Test func declarationsEntitiesAndDepthAreBounded() {
        #expect(Self.kind("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>") == .malformedResponse)
        #expect(Self.kind("<a>&unknown;</a>") == .malformedResponse)
        #expect(Self.kind("<a>&#0;</a>") == .malformedResponse)
        #expect(Self.kind("<a>&#xD800;</a>") == .malformedResponse)
        let deep = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        #expect(Self.kind(deep) == .malformedResponse, "deep nesting is refused, never a stack overflow")
        let fine = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        #expect(Self.kind(fine) == nil)
        for broken in ["", "text", "<a>", "<a></b>", "<a><b></a></b>", "<a></a><b/>", "<a x=1/>", "<a x='<'/>", "</a>", "<a>&amp</a>"] {
            #expect(Self.kind(broken) == .malformedResponse, "\(broken)")
        }
    }

    @Test func theXMLThatServicesSendParsesAsBefore() throws {
        let document = """
            \u{FEFF}<?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment -->
            <s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>b</Name>
              <Contents><Key>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#xE9;</Key></Contents>
              <Contents><Key><![CDATA[<raw> & stuff]]></Key><Empty/><Attr k="v &amp; w" j='x'/></Contents>
              <Text>line\r\nbreak</Text>
            </s3:ListBucketResult>
            <!-- trailing -->
            """
        let root = try XMLNode.parse(Data(document.utf8))
        #expect(root.name == "ListBucketResult")
        #expect(root.string("Name") == "b")
        #expect(root.children("Contents").compactMap { $0.string("Key") } == ["a & b <c> \"d\" 'e' éé", "<raw> & stuff"])
        #expect(root.children("Contents")[1].child("Empty")?.text == "")
        #expect(root.children("Contents")[1].child("Attr")?.attributes == ["k": "v & w", "j": "x"])
        #expect(root.string("Text") == "line\nbreak")
        #expect(root.text == "", "whitespace between children is dropped")
    }
}
