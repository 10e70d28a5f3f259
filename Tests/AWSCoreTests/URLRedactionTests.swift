import AWSCore
import RelayFoundation
import Testing

/// ``URLRedaction``: the one place every module redacts URLs before showing them.
struct URLRedactionTests {
    @Test func passwordsInUserInfoAreMasked() {
        #expect(
            URLRedaction.redact("http://admin:secret@jira.example.com/rest") == "http://admin:***@jira.example.com/rest"
        )
        #expect(URLRedaction.redact("postgres://relay:p%40ss:w@rd@db:5432/jira") == "postgres://relay:***@db:5432/jira")
        #expect(
            URLRedaction.redact("GET https://u:pw@a.example.com/x failed; also see ftp://v:pw2@b.example.com")
                == "GET https://u:***@a.example.com/x failed; also see ftp://v:***@b.example.com")
    }

    @Test func secretQueryParametersAreMaskedAndTheRestKept() {
        let presigned =
            "https://bucket.s3.amazonaws.com/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830"
            + "&X-Amz-Security-Token=FwoGZXIvYXdzSECRET&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        let redacted = URLRedaction.redact(presigned)
        #expect(!redacted.contains("FwoGZXIvYXdzSECRET") && !redacted.contains("5d672d79"))
        #expect(redacted.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"))
        #expect(URLRedaction.redact("http://h/p?a=1&Token=abc#f") == "http://h/p?a=1&Token=***#f")
    }

    @Test func urlsWithoutSecretsAreUnchanged() {
        for url in [
            "https://jira.example.com/rest/api/2/serverInfo", "http://user@host:8080/x?a=b", "jira.example.com",
        ] {
            #expect(URLRedaction.redact(url) == url)
        }
    }
}
