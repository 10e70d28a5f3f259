import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Reads an error answer in the shape of the service's protocol.
///
/// Query: `<ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>`;
/// EC2: `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`;
/// REST-XML: `<Error><Code/><Message/><RequestId/></Error>`; JSON and REST-JSON: `__type`
/// (or `code`, or the `X-Amzn-ErrorType` header) with `message` or `Message`. A body in none of
/// these shapes (an HTML page from a proxy, an empty HEAD answer) still yields a typed error named
/// after the HTTP status, with the start of the body as the message.
enum AWSErrorParser {
    static let maxErrorBody = 64 * 1024

    static func parse(_ response: HTTPClientResponse, request: AWSRequest) async throws -> AWSServiceError {
        let body = (try? await response.body.collect(upTo: maxErrorBody)) ?? ByteBuffer()
        return parse(
            status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView),
            request: request)
    }

    static func parse(status: Int, headers: HTTPHeaders, body: Data, request: AWSRequest) -> AWSServiceError {
        let requestId =
            headers.first(name: "x-amzn-RequestId") ?? headers.first(name: "x-amz-request-id")
            ?? headers.first(name: "x-amzn-requestid")
        var code: String?
        var message: String?
        var bodyRequestId: String?

        switch request.service.wireProtocol {
        case .query, .ec2, .restXML:
            if let root = try? XMLNode.parse(body) {
                let error = root.name == "Error" ? root : (root.descendant("Errors", "Error") ?? root.child("Error"))
                code = error?.string("Code")
                message = error?.string("Message") ?? error?.string("message")
                bodyRequestId = root.string("RequestId") ?? root.string("RequestID") ?? error?.string("RequestId")
            }
        case .json, .restJSON:
            if let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] {
                code = (object["__type"] as? String) ?? (object["code"] as? String) ?? (object["Code"] as? String)
                message =
                    (object["message"] as? String) ?? (object["Message"] as? String)
                    ?? (object["errorMessage"] as? String)
            }
            if let header = headers.first(name: "X-Amzn-ErrorType") { code = code ?? header }
        }
        if let raw = code {
            // `aws.protocoltests#FooError`, `FooError:http://internal.amazon.com/…`
            var cleaned = Substring(raw)
            if let hash = cleaned.lastIndex(of: "#") { cleaned = cleaned[cleaned.index(after: hash)...] }
            if let colon = cleaned.firstIndex(of: ":") { cleaned = cleaned[..<colon] }
            code = String(cleaned)
        }
        let fallbackMessage: String = {
            let text = String(decoding: body.prefix(300), as: UTF8.self)
                .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
            if text.isEmpty { return HTTPResponseStatus(statusCode: status).reasonPhrase }
            return "unexpected error body: " + text
        }()
        return AWSServiceError(
            code: code.flatMap { $0.isEmpty ? nil : $0 } ?? statusCode(status),
            message: message ?? (code == nil ? fallbackMessage : ""),
            requestId: bodyRequestId ?? requestId, statusCode: status, service: request.service.endpointPrefix,
            operation: request.operation)
    }

    /// The code S3 and others imply for a bodiless answer.
    static func statusCode(_ status: Int) -> String {
        switch status {
        case 301: return "PermanentRedirect"
        case 304: return "NotModified"
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 409: return "Conflict"
        case 412: return "PreconditionFailed"
        case 416: return "InvalidRange"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 502: return "BadGateway"
        case 503: return "ServiceUnavailable"
        case 504: return "GatewayTimeout"
        default: return "HTTP\(status)"
        }
    }
}
