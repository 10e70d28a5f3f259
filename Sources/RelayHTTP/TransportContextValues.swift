/// Names one value in ``TransportContext/values``: a client and its own middleware agree on a key
/// type (AWSCore's, say, for what to sign and how) that no other middleware knows or reads.
///
/// ```swift
/// enum TraceKey: TransportContextKey { typealias Value = String }
/// context.values[TraceKey.self] = "run-42"
/// ```
public protocol TransportContextKey {
    /// The type of the value stored under the key.
    associatedtype Value: Sendable
}

/// Per-exchange values keyed by ``TransportContextKey`` types; empty by default.
public struct TransportContextValues: Sendable {
    private var storage: [ObjectIdentifier: any Sendable] = [:]

    /// Creates an empty set of values.
    public init() {}

    /// The value stored under `key`, or `nil`; setting `nil` removes it.
    public subscript<Key: TransportContextKey>(key: Key.Type) -> Key.Value? {
        get { storage[ObjectIdentifier(key)] as? Key.Value }
        set { storage[ObjectIdentifier(key)] = newValue }
    }
}
