import Foundation
import Testing

@testable import AWSSigning

/// The aws-c-auth SigV4 suite (`Vectors/v4`, see `Vectors/SOURCE.md`): every case, header and query.
struct SigV4VectorTests {
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let directory: URL
        var description: String { name }

        func text(_ file: String) throws -> String {
            try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        }
    }

    struct Context: Decodable {
        struct Keys: Decodable {
            let access_key_id: String
            let secret_access_key: String
            let token: String?
        }
        let credentials: Keys
        let expiration_in_seconds: Int
        let normalize: Bool
        let region: String
        let service: String
        let sign_body: Bool
        let timestamp: String
        let omit_session_token: Bool?
    }

    static let vectorRoot = Bundle.module.resourceURL!.appendingPathComponent("Vectors/v4")

    static let cases: [Case] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: vectorRoot.path)) ?? []
        return names.sorted().map { Case(name: $0, directory: vectorRoot.appendingPathComponent($0)) }
    }()

    /// Parses `request.txt`: request line, headers with continuation lines, blank line, body.
    static func parseRequest(_ text: String) -> (
        method: String, path: String, query: String, headers: [(name: String, value: String)], body: Data
    ) {
        let (head, body): (Substring, Substring) = {
            if let range = text.range(of: "\n\n") { return (text[..<range.lowerBound], text[range.upperBound...]) }
            return (Substring(text), "")
        }()
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count)
        let (path, query): (String, String) = {
            if let mark = target.firstIndex(of: "?") {
                return (String(target[..<mark]), String(target[target.index(after: mark)...]))
            }
            return (String(target), "")
        }()
        var headers: [(name: String, value: String)] = []
        for line in lines where !line.isEmpty {
            if line.first == " " || line.first == "\t" {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return (method, path, query, headers, Data(body.utf8))
    }

    static func signer(for context: Context) -> SigV4Signer {
        SigV4Signer(
            credentials: Credentials(
                accessKeyId: context.credentials.access_key_id,
                secretAccessKey: context.credentials.secret_access_key,
                sessionToken: context.credentials.token),
            region: context.region, service: context.service,
            options: .init(
                doubleEncodePath: true, normalizePath: context.normalize,
                signContentHashHeader: context.sign_body,
                omitSessionTokenFromSignature: context.omit_session_token ?? false))
    }

    static func load(_ testCase: Case) throws -> (SigV4Signer, SigningRequest, PayloadHash, Date, Context) {
        let context = try JSONDecoder().decode(Context.self, from: Data(try testCase.text("context.json").utf8))
        let parsed = parseRequest(try testCase.text("request.txt"))
        let date = try #require(ISO8601DateFormatter().date(from: context.timestamp))
        let payload: PayloadHash = context.sign_body ? .of(parsed.body) : .empty
        let request = SigningRequest(
            method: parsed.method, path: parsed.path, query: parsed.query, headers: parsed.headers)
        return (signer(for: context), request, payload, date, context)
    }

    @Test func suiteIsComplete() {
        #expect(Self.cases.count == 38)
    }

    @Test(arguments: cases)
    func headerSigning(_ testCase: Case) throws {
        let (signer, request, payload, date, _) = try Self.load(testCase)
        let result = signer.signHeaders(request, payload: payload, date: date)
        #expect(result.canonicalRequest == (try testCase.text("header-canonical-request.txt")))
        #expect(result.stringToSign == (try testCase.text("header-string-to-sign.txt")))
        #expect(result.signature == (try testCase.text("header-signature.txt")))
        // The signed request lists the Authorization header the server must receive.
        let signedRequest = Self.parseRequest(try testCase.text("header-signed-request.txt"))
        let expectedAuthorization = signedRequest.headers.first { $0.name == "Authorization" }?.value
        #expect(result.headersToAdd.first { $0.name == "Authorization" }?.value == expectedAuthorization)
        for (name, value) in signedRequest.headers where name.lowercased().hasPrefix("x-amz-") {
            #expect(result.headersToAdd.contains { $0.name.lowercased() == name.lowercased() && $0.value == value })
        }
    }

    @Test(arguments: cases)
    func querySigning(_ testCase: Case) throws {
        let (signer, request, payload, date, context) = try Self.load(testCase)
        var noHashHeader = signer.options
        noHashHeader.signContentHashHeader = false
        let querySigner = SigV4Signer(
            credentials: signer.credentials, region: signer.region, service: signer.service, options: noHashHeader)
        let result = querySigner.presign(request, payload: payload, date: date, expires: context.expiration_in_seconds)
        #expect(result.canonicalRequest == (try testCase.text("query-canonical-request.txt")))
        #expect(result.stringToSign == (try testCase.text("query-string-to-sign.txt")))
        #expect(result.signature == (try testCase.text("query-signature.txt")))
        let signedRequest = Self.parseRequest(try testCase.text("query-signed-request.txt"))
        let expected = Set(signedRequest.query.split(separator: "&").map(String.init))
        #expect(Set(result.query.split(separator: "&").map(String.init)) == expected)
    }
}
