import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// The AWS SDKs' standard retry mode.
///
/// Up to ``maxAttempts`` attempts (`AWS_MAX_ATTEMPTS`, default 3); between attempts an
/// exponential backoff with full jitter (`random(0…1) × min(base × 2^attempt, 20 s)`); throttling,
/// transient and 5xx errors, clock-skew errors and broken connections are retried; a retry quota
/// (a token bucket shared by one client) stops retry storms when a service is down.
public struct RetryPolicy: Sendable {
    /// The most attempts per request, the first included.
    public var maxAttempts: Int
    /// The backoff base.
    public var baseDelay: Duration
    /// The backoff ceiling.
    public var maxDelay: Duration

    /// Creates a policy.
    public init(maxAttempts: Int = 3, baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(20)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The standard mode, with `AWS_MAX_ATTEMPTS` applied when set.
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> RetryPolicy {
        RetryPolicy(maxAttempts: environment["AWS_MAX_ATTEMPTS"].flatMap(Int.init) ?? 3)
    }

    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The delay before attempt `attempt + 1` (attempt counts from 1).
    func delay(afterAttempt attempt: Int) -> Duration {
        let exponent = min(attempt - 1, 30)
        let ceiling = min(baseDelay * (1 << exponent), maxDelay)
        return ceiling * Double.random(in: 0..<1)
    }

    /// Why a failed attempt may be retried.
    enum RetryKind: Equatable {
        case throttling
        case transient
        case clockSkew
        case connection
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
        "PriorRequestNotComplete", "EC2ThrottledException",
    ]
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "IDPCommunicationError",
    ]
    static let clockSkewCodes: Set<String> = [
        "RequestTimeTooSkewed", "RequestExpired", "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
        "RequestInTheFuture",
    ]

    /// Classifies a service error.
    static func classify(_ error: AWSServiceError, skewCorrected: Bool) -> RetryKind? {
        if throttlingCodes.contains(error.code) || error.statusCode == 429 { return .throttling }
        if skewCorrected && clockSkewCodes.contains(error.code) { return .clockSkew }
        if transientCodes.contains(error.code) || [500, 502, 503, 504].contains(error.statusCode) { return .transient }
        return nil
    }

    /// Classifies a transport error. Errors that happen before the request can have reached the
    /// server are always retryable; the rest only for idempotent requests.
    /// Whether `error` is the network's (the HTTP client's, a connection's or a socket's).
    static func isTransport(_ error: any Error) -> Bool {
        error is HTTPClientError || error is NIOConnectionError || error is ChannelError || error is IOError
    }

    static func classify(transport error: any Error, idempotent: Bool) -> RetryKind? {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout, .tlsHandshakeTimeout:
                return .connection
            case .remoteConnectionClosed, .readTimeout, .writeTimeout, .deadlineExceeded:
                return idempotent ? .connection : nil
            default:
                return nil
            }
        }
        if error is NIOConnectionError { return .connection }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return .connection
            case .ioOnClosedChannel, .outputClosed, .eof, .alreadyClosed: return idempotent ? .connection : nil
            default: return nil
            }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH: return .connection
            case ECONNRESET, EPIPE, ETIMEDOUT: return idempotent ? .connection : nil
            default: return nil
            }
        }
        return nil
    }
}

/// The standard mode's retry quota: retries spend tokens, successes return them.
final class RetryQuota: Sendable {
    static let initial = 500
    static let retryCost = 5
    static let timeoutCost = 10
    private let tokens = Mutex(RetryQuota.initial)

    /// Takes the cost of one retry; false when the quota is spent.
    func acquire(_ kind: RetryPolicy.RetryKind) -> Int? {
        let cost = kind == .connection ? Self.timeoutCost : Self.retryCost
        return tokens.withLock { available in
            guard available >= cost else { return nil }
            available -= cost
            return cost
        }
    }

    /// Returns what a successful request spent on retries, or one token after a first-try success.
    func release(_ spent: Int) {
        tokens.withLock { $0 = min(Self.initial, $0 + max(spent, 1)) }
    }

    var available: Int { tokens.withLock { $0 } }
}
