import RelayFoundation

/// Percent-encoding for S3 object keys in request paths: every byte except the RFC 3986
/// unreserved characters and `/` is encoded, once, so keys are carried exactly as bytes
/// (`PercentEncoding` with S3's names).
public enum S3Path {
    /// Encodes `key` for a request path.
    public static func encodeKey(_ key: String) -> String {
        PercentEncoding.path(key)
    }

    /// Encodes a query parameter name or value (RFC 3986; `/` encoded too).
    public static func encodeQueryComponent(_ value: String) -> String {
        PercentEncoding.component(value)
    }
}
