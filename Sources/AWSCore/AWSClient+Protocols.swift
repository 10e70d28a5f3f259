import Foundation
import NIOHTTP1

/// Form parameters of a Query or EC2 request, in order.
///
/// Lists follow the protocol: `Name.member.N` for Query, `Name.N` for EC2.
public struct QueryParameters: Sendable {
    /// How lists are flattened.
    public enum ListStyle: Sendable {
        /// `Name.member.1`, `Name.member.2`, …
        case member
        /// `Name.1`, `Name.2`, … (EC2)
        case flat
    }

    /// The flattened parameters.
    public private(set) var items: [(name: String, value: String)] = []
    let style: ListStyle

    /// Creates empty parameters.
    public init(style: ListStyle = .member) { self.style = style }

    /// Sets `name` when `value` is not `nil`.
    public mutating func set(_ name: String, _ value: String?) {
        if let value { items.append((name, value)) }
    }

    /// Sets `name` when `value` is not `nil`.
    public mutating func set(_ name: String, _ value: Int?) {
        if let value { items.append((name, String(value))) }
    }

    /// Sets `name` when `value` is not `nil`.
    public mutating func set(_ name: String, _ value: Bool?) {
        if let value { items.append((name, value ? "true" : "false")) }
    }

    /// A list of strings.
    public mutating func setList(_ name: String, _ values: [String]) {
        for (index, value) in values.enumerated() { items.append((listPrefix(name, index), value)) }
    }

    /// A list of structures; `encode` writes each element's fields with unprefixed names.
    public mutating func setList<Element>(
        _ name: String, _ elements: [Element], _ encode: (Element, inout QueryParameters) -> Void
    ) {
        for (index, element) in elements.enumerated() {
            var nested = QueryParameters(style: style)
            encode(element, &nested)
            for item in nested.items { items.append((listPrefix(name, index) + "." + item.name, item.value)) }
        }
    }

    private func listPrefix(_ name: String, _ index: Int) -> String {
        style == .member ? "\(name).member.\(index + 1)" : "\(name).\(index + 1)"
    }

    /// The `application/x-www-form-urlencoded` body for `action` at `version`.
    func formBody(action: String, version: String) -> String {
        ([("Action", action), ("Version", version)] + items)
            .map { S3Path.encodeQueryComponent($0.0) + "=" + S3Path.encodeQueryComponent($0.1) }
            .joined(separator: "&")
    }
}

/// An empty JSON input or output.
public struct AWSEmptyShape: Codable, Sendable {
    /// Creates the empty shape.
    public init() {}
}

extension AWSClient {
    /// Calls a Query or EC2 protocol action.
    ///
    /// - Parameters:
    ///   - service: a service whose protocol is `.query` or `.ec2`.
    ///   - action: the action, for example `AssumeRole`.
    ///   - parameters: the action's parameters.
    ///   - idempotent: whether a broken connection may be retried (by default: `Describe`,
    ///     `Get` and `List` actions).
    ///   - unsigned: send without a signature.
    /// - Returns: the `<ActionResult>` element (Query) or the response's root element (EC2).
    public func query(
        _ service: AWSService, action: String, parameters: QueryParameters = QueryParameters(),
        idempotent: Bool? = nil, unsigned: Bool = false
    ) async throws -> XMLNode {
        let version: String
        switch service.wireProtocol {
        case .query(let apiVersion), .ec2(let apiVersion): version = apiVersion
        default: preconditionFailure("\(service) does not speak the Query protocol")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
        let body = parameters.formBody(action: action, version: version)
        let request = AWSRequest(
            service: service, operation: action, method: .POST, path: "/", headers: headers,
            body: .data(Data(body.utf8)), isIdempotent: idempotent ?? Self.isReadOnly(action), isUnsigned: unsigned)
        let response = try await execute(request)
        let root = try XMLNode.parse(response.data)
        if case .ec2 = service.wireProtocol { return root }
        guard let result = root.child("\(action)Result") else {
            // Some actions answer with an empty <ActionResponse/>.
            return XMLNode(name: "\(action)Result")
        }
        return result
    }

    /// Calls a JSON 1.0/1.1 protocol operation.
    ///
    /// - Parameters:
    ///   - service: a service whose protocol is `.json`.
    ///   - operation: the operation, for example `GetParameter`.
    ///   - input: the request shape.
    ///   - output: the response shape to decode.
    ///   - idempotent: whether a broken connection may be retried (default: `Describe`, `Get`, `List`).
    /// - Returns: the decoded response shape. Timestamps are epoch seconds, as the protocol sends them.
    public func json<Input: Encodable & Sendable, Output: Decodable & Sendable>(
        _ service: AWSService, operation: String, input: Input, as output: Output.Type = Output.self,
        idempotent: Bool? = nil
    ) async throws -> Output {
        guard case .json(let version, let prefix) = service.wireProtocol else {
            preconditionFailure("\(service) does not speak the JSON protocol")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-amz-json-\(version)")
        headers.add(name: "X-Amz-Target", value: "\(prefix).\(operation)")
        let request = AWSRequest(
            service: service, operation: operation, method: .POST, path: "/", headers: headers,
            body: .data(try Self.jsonEncoder.encode(input)), isIdempotent: idempotent ?? Self.isReadOnly(operation))
        return try decodeJSON(Output.self, from: try await execute(request), request: request)
    }

    /// Calls a REST-JSON operation.
    ///
    /// - Parameters:
    ///   - service: a service whose protocol is `.restJSON`.
    ///   - operation: the operation name, for logs and errors.
    ///   - method: the HTTP method.
    ///   - path: the encoded path.
    ///   - query: query parameters.
    ///   - input: the JSON body, if any.
    ///   - output: the response shape to decode.
    /// - Returns: the decoded response shape.
    public func restJSON<Input: Encodable & Sendable, Output: Decodable & Sendable>(
        _ service: AWSService, operation: String, method: HTTPMethod, path: String,
        query: [(name: String, value: String)] = [], input: Input?, as output: Output.Type = Output.self
    ) async throws -> Output {
        var headers = HTTPHeaders()
        var body = AWSRequestBody.empty
        if let input {
            headers.add(name: "Content-Type", value: "application/json")
            body = .data(try Self.jsonEncoder.encode(input))
        }
        let request = AWSRequest(
            service: service, operation: operation, method: method, path: path, query: query, headers: headers,
            body: body)
        return try decodeJSON(Output.self, from: try await execute(request), request: request)
    }

    func decodeJSON<Output: Decodable>(_ type: Output.Type, from response: AWSResponse, request: AWSRequest) throws
        -> Output
    {
        let data = response.body.readableBytes == 0 ? Data("{}".utf8) : response.data
        do {
            return try Self.jsonDecoder.decode(Output.self, from: data)
        } catch {
            throw AWSClientError(
                .malformedResponse,
                "\(request.service) \(request.operation) answered JSON this client cannot read (\(error)); "
                    + "is the endpoint really \(request.service)?")
        }
    }

    static func isReadOnly(_ operation: String) -> Bool {
        ["Describe", "Get", "List"].contains { operation.hasPrefix($0) }
    }

    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()

    static let jsonDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()
}
