/// One side of a sync: a local directory or an S3 prefix.
public enum SyncLocation: Sendable, Equatable, CustomStringConvertible {
    /// A local directory.
    case local(String)
    /// Keys under `prefix` in `bucket`; a non-empty prefix ends with `/`, as the AWS CLI treats it.
    case s3(bucket: String, prefix: String)

    /// Parses `s3://bucket/prefix` or a local path.
    ///
    /// - Throws: ``SyncError/Kind/invalidArgument`` for an `s3://` URL without a valid bucket name,
    ///   and for text that looks like a mistyped S3 URL (`s3:/x`, `S3://x`, `s3:x`), which would
    ///   otherwise be taken for a local folder of that name.
    public init(parsing text: String) throws {
        if !text.hasPrefix("s3://") && text.lowercased().hasPrefix("s3:") {
            throw SyncError.invalidArgument(
                "'\(text)' looks like a mistyped S3 URL; write s3://bucket/prefix (or ./\(text) for a local folder of that name)"
            )
        }
        guard text.hasPrefix("s3://") else {
            var path = text
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            self = .local(path.isEmpty ? "." : path)
            return
        }
        let rest = text.dropFirst("s3://".count)
        let bucket = rest.prefix { $0 != "/" }
        guard !bucket.isEmpty else {
            throw SyncError.invalidArgument("'\(text)' names no bucket; write s3://bucket or s3://bucket/prefix")
        }
        if let problem = Self.bucketNameProblem(String(bucket)) {
            throw SyncError.invalidArgument("'\(text)': the bucket name '\(bucket)' is not valid: \(problem)")
        }
        var prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
        self = .s3(bucket: String(bucket), prefix: prefix)
    }

    /// Why `name` is not a valid S3 bucket name, or `nil`: 3 to 63 characters of lower-case
    /// letters, digits, `.` and `-`, starting and ending with a letter or digit, not shaped like an
    /// IP address (the general-purpose bucket rules).
    public static func bucketNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        func isLowerOrDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard (3...63).contains(bytes.count) else { return "it must be 3 to 63 characters long" }
        guard bytes.allSatisfy({ isLowerOrDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) else {
            return "use only lower-case letters, digits, '.' and '-'"
        }
        guard isLowerOrDigit(bytes.first!), isLowerOrDigit(bytes.last!) else {
            return "it must start and end with a letter or digit"
        }
        if name.contains("..") { return "it may not contain '..'" }
        let parts = name.split(separator: ".")
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) { return "it may not look like an IP address" }
        return nil
    }

    public var description: String {
        switch self {
        case .local(let path): return path
        case .s3(let bucket, let prefix): return "s3://\(bucket)/\(prefix)"
        }
    }
}
