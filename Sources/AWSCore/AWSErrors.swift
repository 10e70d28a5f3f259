import Foundation

/// An error answered by an AWS service: its code, message, request id and HTTP status.
public struct AWSServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The error code, for example `AccessDenied`, `ThrottlingException`, `NoSuchKey`.
    public let code: String
    /// The service's message.
    public let message: String
    /// The request id, for AWS support.
    public let requestId: String?
    /// The HTTP status code.
    public let statusCode: Int
    /// The service's endpoint identifier, for example `s3`, `sts`.
    public let service: String
    /// The operation, for example `AssumeRole`, when the caller named it.
    public let operation: String?

    /// Creates an error.
    public init(code: String, message: String, requestId: String?, statusCode: Int, service: String, operation: String?)
    {
        self.code = code
        self.message = message
        self.requestId = requestId
        self.statusCode = statusCode
        self.service = service
        self.operation = operation
    }

    public var description: String {
        var text = "\(service)"
        if let operation { text += " \(operation)" }
        text += " failed: \(code) (HTTP \(statusCode))"
        if !message.isEmpty { text += ": \(message)" }
        if let requestId { text += " [request id \(requestId)]" }
        return text
    }
}

/// A failure on the client side: bad configuration, no connection, an unreadable response.
public struct AWSClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: String, Sendable {
        /// An endpoint URL or region is not usable.
        case invalidConfiguration
        /// The endpoint could not be reached or the connection broke, after retries.
        case connectionFailed
        /// The request did not finish within its deadline.
        case timedOut
        /// The response could not be read as the protocol says.
        case malformedResponse
        /// A response body was larger than the client is willing to buffer.
        case responseTooLarge
    }

    /// The class of failure.
    public let kind: Kind
    /// What happened and what to do.
    public let message: String

    /// The error underneath (a connection's, a process's, a file's), if any.
    public let underlying: (any Error)?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - kind: the class of failure.
    ///   - message: what went wrong and what to do; never a secret.
    ///   - underlying: the error underneath, if any.
    public init(_ kind: Kind, _ message: String, underlying: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }

    /// Two errors are equal when their kind and message are (the underlying error is not compared).
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.kind == rhs.kind && lhs.message == rhs.message
    }
}
