import Foundation
import RelayFoundation

/// Chooses the URL a request goes to.
///
/// Precedence, as in the AWS SDKs: an endpoint given in code, then `AWS_ENDPOINT_URL_<SERVICE>`,
/// then `AWS_ENDPOINT_URL`, then the service's public endpoint for the region
/// (`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` turns the environment variables off). Custom S3
/// endpoints use path-style addressing (`http://host/bucket/key`); AWS's own use virtual-hosted
/// style when the bucket name allows it.
public struct EndpointResolver: Sendable {
    /// An endpoint that overrides everything else, for every service.
    public var explicitEndpoint: String?
    /// Use `https://endpoint/bucket/key` even against AWS.
    public var forcePathStyle: Bool
    let environment: [String: String]

    /// Creates a resolver.
    ///
    /// - Parameters:
    ///   - explicitEndpoint: an endpoint for all services, overriding the environment.
    ///   - forcePathStyle: always use path-style S3 addressing.
    ///   - environment: the process environment by default.
    public init(
        explicitEndpoint: String? = nil, forcePathStyle: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.explicitEndpoint = explicitEndpoint
        self.forcePathStyle = forcePathStyle
        self.environment = environment
    }

    /// A resolved endpoint.
    public struct Endpoint: Sendable, Equatable {
        /// `http` or `https`.
        public let scheme: String
        /// The host name or address.
        public let host: String
        /// The port, if not the scheme's default.
        public let port: Int?
        /// A path prefix the endpoint carries (usually empty).
        public let basePath: String
        /// Whether the endpoint came from configuration rather than AWS's public naming.
        public let isCustom: Bool

        /// `host` or `host:port`, as sent in the `Host` header.
        public var hostHeader: String { port.map { "\(host):\($0)" } ?? host }

        /// The URL string for an encoded path and query.
        public func url(path: String, query: String) -> String {
            "\(scheme)://\(hostHeader)\(basePath)\(path)" + (query.isEmpty ? "" : "?\(query)")
        }
    }

    /// Resolves the endpoint of `service` in `region`.
    ///
    /// - Throws: ``AWSClientError`` when a configured endpoint is not an absolute http(s) URL or
    ///   the region is not a valid region name.
    public func endpoint(for service: AWSService, region: String) throws -> Endpoint {
        let ignoreEnvironment = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        let candidates: [(String, String?)] = [
            ("the explicit endpoint", explicitEndpoint),
            (
                "AWS_ENDPOINT_URL_\(service.environmentId)",
                ignoreEnvironment ? nil : environment["AWS_ENDPOINT_URL_\(service.environmentId)"]
            ),
            ("AWS_ENDPOINT_URL", ignoreEnvironment ? nil : environment["AWS_ENDPOINT_URL"]),
        ]
        for case (let source, let value?) in candidates where !value.isEmpty {
            return try Self.parse(value, source: source)
        }
        guard Self.isValidRegion(region) else {
            throw AWSClientError(
                .invalidConfiguration,
                "region '\(region)' is not a valid AWS region name; set AWS_REGION (for example eu-west-1)")
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return Endpoint(
            scheme: "https", host: "\(service.endpointPrefix).\(region).\(suffix)", port: nil, basePath: "",
            isCustom: false)
    }

    /// The host, path and whether path-style was used, for an S3 bucket and encoded key path.
    ///
    /// - Parameters:
    ///   - bucket: the bucket name.
    ///   - encodedKey: the object key, percent-encoded with ``S3Path/encodeKey(_:)``; empty for bucket operations.
    ///   - endpoint: the resolved S3 endpoint.
    public func s3Address(bucket: String, encodedKey: String, endpoint: Endpoint) -> (endpoint: Endpoint, path: String)
    {
        let keyPath = "/" + encodedKey
        if forcePathStyle || endpoint.isCustom || !Self.isVirtualHostable(bucket, scheme: endpoint.scheme) {
            return (endpoint, "/" + bucket + (encodedKey.isEmpty ? "" : keyPath))
        }
        let virtual = Endpoint(
            scheme: endpoint.scheme, host: "\(bucket).\(endpoint.host)", port: endpoint.port,
            basePath: endpoint.basePath, isCustom: false)
        return (virtual, keyPath)
    }

    static func parse(_ value: String, source: String) throws -> Endpoint {
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw AWSClientError(
                .invalidConfiguration,
                "\(source) '\(URLRedaction.redact(value))' is not an absolute http(s) URL; write it like http://127.0.0.1:5055"
            )
        }
        var basePath = components.percentEncodedPath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        return Endpoint(scheme: scheme, host: host, port: components.port, basePath: basePath, isCustom: true)
    }

    static func isValidRegion(_ region: String) -> Bool {
        !region.isEmpty && region.count <= 63
            && region.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
            && !region.hasPrefix("-") && !region.hasSuffix("-")
    }

    /// DNS-compatible bucket names can be addressed as `bucket.s3.region.amazonaws.com`; over
    /// HTTPS a dot would break the wildcard certificate, so dotted names use path-style.
    static func isVirtualHostable(_ bucket: String, scheme: String) -> Bool {
        guard (3...63).contains(bucket.count), !(scheme == "https" && bucket.contains(".")) else { return false }
        guard bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            return false
        }
        return bucket.first!.isLetter || bucket.first!.isNumber
    }
}
