import AWSSigning
import AsyncHTTPClient
import RelayFoundation

/// The AWS standard retry mode around the transport: attempts with their own deadlines, the retry
/// quota, classification of failures, clock-skew retries and ``AWSRequest/giveUpAfter``.
extension AWSClient {
    /// One attempt's outcome: an answer to hand on, or an error answer to classify (with whether
    /// its `Date` corrected the clock skew, see ``ClockSkew/learn(from:logger:)``).
    enum AttemptOutcome<T: Sendable>: Sendable {
        case answered(T)
        case failed(skewCorrected: Bool, AWSServiceError)
    }

    /// One attempt: its number (from 1) and when it must be over.
    struct Attempt: Sendable {
        let number: Int
        let deadline: ContinuousClock.Instant
    }

    /// Runs `attempt` until it answers, an error is not worth retrying, the policy's attempts or
    /// retry quota run out, or the request's ``AWSRequest/giveUpAfter`` has passed.
    ///
    /// Each attempt ends at its deadline (``AWSRequest/timeout`` after it started, and never
    /// later than the give-up point), head and body: a server that sends one byte at a time
    /// cannot keep it alive. An attempt cut off there fails as
    /// `HTTPClientError.deadlineExceeded`, so it is retried like any timeout.
    func withRetries<T: Sendable>(
        _ request: AWSRequest, _ attempt: (Attempt) async throws -> AttemptOutcome<T>
    ) async throws -> T {
        let giveUpAt = request.giveUpAfter.map { ContinuousClock.now + $0 }
        var number = 1
        var spent = 0
        while true {
            let started = ContinuousClock.now
            let current = Attempt(
                number: number, deadline: min(started + request.timeout, giveUpAt ?? started + request.timeout))
            let retryKind: RetryPolicy.RetryKind
            let failure: any Error
            do {
                let outcome = try await withDeadline(
                    current.deadline, orThrow: { HTTPClientError.deadlineExceeded },
                    running: { try await attempt(current) })
                switch outcome {
                case .answered(let answer):
                    quota.release(spent)
                    logger.debug(
                        "aws request",
                        metadata: [
                            "service": "\(request.service)", "operation": "\(request.operation)",
                            "attempt": "\(number)", "elapsed": "\(ContinuousClock.now - started)",
                        ])
                    return answer
                case .failed(let skewCorrected, let error):
                    guard let kind = RetryPolicy.classify(error, skewCorrected: skewCorrected) else { throw error }
                    (retryKind, failure) = (kind, error)
                }
            } catch let error
                where !(error is AWSServiceError) && !(error is CredentialError) && !(error is AWSClientError)
                && !(error is CancellationError)
            {
                guard let kind = RetryPolicy.classify(transport: error, idempotent: request.isIdempotent) else {
                    throw transportError(error, request: request, attempts: number)
                }
                (retryKind, failure) = (kind, error)
            }
            let delay = retryKind == .clockSkew ? .zero : retryPolicy.delay(afterAttempt: number)
            let outOfTime = giveUpAt.map { ContinuousClock.now + delay >= $0 } ?? false
            guard number < retryPolicy.maxAttempts, !outOfTime, let cost = quota.acquire(retryKind) else {
                if let failure = failure as? AWSServiceError { throw failure }
                throw transportError(failure, request: request, attempts: number)
            }
            spent += cost
            logger.info(
                "aws request retry",
                metadata: [
                    "service": "\(request.service)", "operation": "\(request.operation)", "attempt": "\(number)",
                    "reason": "\(retryKind)", "error": "\(Self.summary(failure))", "delay": "\(delay)",
                ])
            try await Task.sleep(for: delay)
            number += 1
        }
    }

    /// A failure after the answer started: a network failure is described as one (after a single
    /// attempt); anything else (the caller's own errors, say) passes through unchanged.
    func unretried(_ error: any Error, request: AWSRequest) -> any Error {
        guard RetryPolicy.isTransport(error) else { return error }
        return transportError(error, request: request, attempts: 1)
    }

    /// A network failure as an ``AWSClientError`` that names the endpoint and what to check;
    /// the package's own errors pass through unchanged.
    func transportError(_ error: any Error, request: AWSRequest, attempts: Int) -> any Error {
        if error is AWSServiceError || error is AWSClientError || error is CredentialError { return error }
        let target = (try? endpoints.endpoint(for: request.service, region: region))?.hostHeader ?? "\(request.service)"
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
            return AWSClientError(
                .timedOut,
                "\(request.service) \(request.operation) to \(target) timed out after \(attempts) attempt(s); "
                    + "check the endpoint and network, or raise the timeout", underlying: error)
        }
        return AWSClientError(
            .connectionFailed,
            "\(request.service) \(request.operation) could not reach \(target) after \(attempts) attempt(s) "
                + "(\(Self.summary(error))); check the endpoint URL (AWS_ENDPOINT_URL…), the network and that the service is up",
            underlying: error)
    }

    static func summary(_ error: any Error) -> String {
        URLRedaction.redact(String(describing: error).prefix(200).description)
    }
}
