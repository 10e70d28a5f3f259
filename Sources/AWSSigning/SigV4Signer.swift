import Crypto
import Foundation
import RelayFoundation

/// The payload hash a request is signed with.
public enum PayloadHash: Sendable, Equatable {
    /// The hex SHA-256 of the whole body.
    case sha256(String)
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature (S3 over TLS, presigned URLs).
    case unsigned
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: the body is sent `aws-chunked`, each chunk signed
    /// by a ``SigV4ChunkSigner`` seeded with this request's signature.
    case streaming

    /// The hash of an empty body.
    public static let empty = PayloadHash.sha256(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")

    /// The hash of `body`.
    public static func of<D: DataProtocol>(_ body: D) -> PayloadHash {
        .sha256(Hex.sha256(body))
    }

    /// The value that goes into the canonical request and `x-amz-content-sha256`.
    public var value: String {
        switch self {
        case .sha256(let hex): return hex
        case .unsigned: return "UNSIGNED-PAYLOAD"
        case .streaming: return "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
        }
    }
}

/// The parts of an HTTP request that SigV4 covers.
public struct SigningRequest: Sendable, Equatable {
    /// The HTTP method, upper case.
    public var method: String
    /// The path as sent on the wire (already percent-encoded where the caller encodes it).
    public var path: String
    /// The query string as sent on the wire, without the leading `?`.
    public var query: String
    /// The headers to sign, in order; `Host` must be among them.
    public var headers: [(name: String, value: String)]

    /// Creates a request description.
    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)]) {
        self.method = method
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
    }

    public static func == (lhs: SigningRequest, rhs: SigningRequest) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.query == rhs.query
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// What signing produced: the values to send, and the intermediate strings for diagnosis.
public struct SigningResult: Sendable {
    /// The canonical request that was hashed.
    public let canonicalRequest: String
    /// The string that was signed.
    public let stringToSign: String
    /// The hex signature.
    public let signature: String
    /// `;`-joined lower-case names of the signed headers.
    public let signedHeaders: String
    /// Header signing: the headers to add to the request (`X-Amz-Date`, token, content hash,
    /// `Authorization`). Query signing: empty.
    public let headersToAdd: [(name: String, value: String)]
    /// Query signing: the complete query string to send (including `X-Amz-Signature`).
    /// Header signing: the request's own query.
    public let query: String
}

/// AWS Signature Version 4.
///
/// Signs requests with an `Authorization` header or as presigned URLs, with the general rules
/// (double-encoded, normalised paths) or S3's (single encoding, no normalisation, signed
/// `x-amz-content-sha256`). Pure: no clock, no network; pass the signing time in.
///
/// ```swift
/// let signer = SigV4Signer(credentials: creds, region: "eu-west-1", service: "sts")
/// let result = signer.signHeaders(request, payload: .of(body), date: Date())
/// ```
public struct SigV4Signer: Sendable {
    /// Path and header rules that differ between S3 and the other services.
    public struct Options: Sendable, Equatable {
        /// Percent-encode the (already encoded) path once more. True for all services but S3.
        public var doubleEncodePath: Bool
        /// Remove `.`/empty segments and resolve `..`. True for all services but S3.
        public var normalizePath: Bool
        /// Add and sign `x-amz-content-sha256`. S3 requires it.
        public var signContentHashHeader: Bool
        /// Add `X-Amz-Security-Token` after signing instead of signing it (a few services want this).
        public var omitSessionTokenFromSignature: Bool

        /// Creates options.
        public init(
            doubleEncodePath: Bool = true,
            normalizePath: Bool = true,
            signContentHashHeader: Bool = false,
            omitSessionTokenFromSignature: Bool = false
        ) {
            self.doubleEncodePath = doubleEncodePath
            self.normalizePath = normalizePath
            self.signContentHashHeader = signContentHashHeader
            self.omitSessionTokenFromSignature = omitSessionTokenFromSignature
        }

        /// The rules for every service except S3.
        public static let standard = Options()
        /// S3's rules: single encoding, no normalisation, signed content hash.
        public static let s3 = Options(doubleEncodePath: false, normalizePath: false, signContentHashHeader: true)
    }

    /// Presigned URLs may be valid for at most seven days.
    public static let maximumPresignExpiry = 604_800

    /// The credentials to sign with.
    public let credentials: Credentials
    /// The signing region, for example `eu-west-1`.
    public let region: String
    /// The signing name of the service, for example `s3`, `sts`, `cloudformation`.
    public let service: String
    /// Path and header rules.
    public let options: Options

    /// Creates a signer.
    public init(credentials: Credentials, region: String, service: String, options: Options? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options ?? (service == "s3" ? .s3 : .standard)
    }

    /// Signs with an `Authorization` header.
    ///
    /// - Parameters:
    ///   - request: the request as it will be sent; its `Host` header is signed.
    ///   - payload: the body's hash, or `.unsigned` / `.streaming`.
    ///   - date: the signing time (corrected for clock skew by the caller).
    /// - Returns: the headers to add and the strings that were signed.
    public func signHeaders(_ request: SigningRequest, payload: PayloadHash, date: Date) -> SigningResult {
        let (timestamp, day) = Timestamps.sigV4(date)
        var headers = request.headers
        var added: [(name: String, value: String)] = [("X-Amz-Date", timestamp)]
        if let token = credentials.sessionToken, !options.omitSessionTokenFromSignature {
            added.append(("X-Amz-Security-Token", token))
        }
        if options.signContentHashHeader {
            added.append(("x-amz-content-sha256", payload.value))
        }
        headers.append(contentsOf: added)
        let canonical = canonicalHeaders(headers)
        let canonicalRequest = [
            request.method, canonicalPath(request.path), canonicalQuery(request.query),
            canonical.block, canonical.names, payload.value,
        ].joined(separator: "\n")
        let stringToSign = stringToSign(canonicalRequest, timestamp: timestamp, day: day)
        let signature = sign(stringToSign, day: day)
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope(day)), "
            + "SignedHeaders=\(canonical.names), Signature=\(signature)"
        if let token = credentials.sessionToken, options.omitSessionTokenFromSignature {
            added.append(("X-Amz-Security-Token", token))
        }
        added.append(("Authorization", authorization))
        return SigningResult(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            signedHeaders: canonical.names, headersToAdd: added, query: request.query)
    }

    /// Signs as a presigned URL: the signature travels in the query string.
    ///
    /// - Parameters:
    ///   - request: the request; usually only `Host` among its headers.
    ///   - payload: `.unsigned` for S3; the body hash otherwise.
    ///   - date: the signing time.
    ///   - expires: seconds the URL stays valid, 1 to 604800.
    /// - Returns: the full query string to send, and the strings that were signed.
    public func presign(_ request: SigningRequest, payload: PayloadHash, date: Date, expires: Int) -> SigningResult {
        let (timestamp, day) = Timestamps.sigV4(date)
        let canonical = canonicalHeaders(request.headers)
        var items: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(day))"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", String(min(max(expires, 1), Self.maximumPresignExpiry))),
            ("X-Amz-SignedHeaders", canonical.names),
        ]
        let token = credentials.sessionToken
        if let token, !options.omitSessionTokenFromSignature { items.append(("X-Amz-Security-Token", token)) }
        var query = request.query
        for (name, value) in items {
            query += (query.isEmpty ? "" : "&") + name + "=" + PercentEncoding.component(value)
        }
        let canonicalRequest = [
            request.method, canonicalPath(request.path), canonicalQuery(query),
            canonical.block, canonical.names, payload.value,
        ].joined(separator: "\n")
        let stringToSign = stringToSign(canonicalRequest, timestamp: timestamp, day: day)
        let signature = sign(stringToSign, day: day)
        if let token, options.omitSessionTokenFromSignature {
            query += "&X-Amz-Security-Token=" + PercentEncoding.component(token)
        }
        query += "&X-Amz-Signature=" + signature
        return SigningResult(
            canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature,
            signedHeaders: canonical.names, headersToAdd: [], query: query)
    }

    /// A chunk signer for an `aws-chunked` body, seeded with the signature of its request.
    ///
    /// - Parameters:
    ///   - seedSignature: ``SigningResult/signature`` of the request signed with `.streaming`.
    ///   - date: the same signing time as the request.
    public func chunkSigner(seedSignature: String, date: Date) -> SigV4ChunkSigner {
        let (timestamp, day) = Timestamps.sigV4(date)
        return SigV4ChunkSigner(
            signingKey: signingKey(day: day), timestamp: timestamp, scope: scope(day),
            seedSignature: seedSignature)
    }

    /// The derived signing key for `day` (`yyyyMMdd`), hex. Exposed for test vectors.
    public func signingKeyHex(day: String) -> String {
        signingKey(day: day).withUnsafeBytes { Hex.string($0) }
    }

    // MARK: - Canonical forms

    func scope(_ day: String) -> String { "\(day)/\(region)/\(service)/aws4_request" }

    func canonicalPath(_ path: String) -> String {
        var path = path
        if options.normalizePath { path = Self.normalize(path) }
        return options.doubleEncodePath ? PercentEncoding.path(path) : path
    }

    /// Removes `.` and empty segments and resolves `..`, keeping a trailing `/`.
    static func normalize(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        var result = "/" + segments.joined(separator: "/")
        if path.hasSuffix("/") && !result.hasSuffix("/") { result += "/" }
        return result
    }

    func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.component(PercentEncoding.decode(parts[0]))
            let value = parts.count > 1 ? PercentEncoding.component(PercentEncoding.decode(parts[1])) : ""
            return (name, value)
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, names: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            if Self.unsignedHeaders.contains(key) { continue }
            merged[key, default: []].append(Self.trimAndCollapse(value))
        }
        let names = merged.keys.sorted()
        let block = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (block, names.joined(separator: ";"))
    }

    /// Headers that proxies and clients change in flight; signing them breaks requests.
    static let unsignedHeaders: Set<String> = [
        "authorization", "user-agent", "x-amzn-trace-id", "expect", "connection", "transfer-encoding",
    ]

    static func trimAndCollapse(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .joined(separator: " ")
    }

    func stringToSign(_ canonicalRequest: String, timestamp: String, day: String) -> String {
        "AWS4-HMAC-SHA256\n\(timestamp)\n\(scope(day))\n\(Hex.sha256(Data(canonicalRequest.utf8)))"
    }

    func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key))
        }
        return key
    }

    func sign(_ stringToSign: String, day: String) -> String {
        Hex.string(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: day)))
    }
}
