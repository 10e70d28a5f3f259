import AWSSigning
import AsyncHTTPClient
import Foundation
import NIOFoundationCompat
import RelayFoundation
import RelayHTTP

/// What ``AWSSigningMiddleware`` signs besides the request it is handed: the path and query as
/// signed, the body and how it is covered, the service. ``AWSClient`` puts it in each attempt's
/// context; requests without it pass the middleware untouched.
struct AWSSigningContext: TransportContextKey, Sendable {
    typealias Value = AWSSigningContext
    /// The service, whose signing name goes into the scope.
    let service: AWSService
    /// The path as sent, percent-encoded, the endpoint's base path included.
    let path: String
    /// The query string as sent, percent-encoded.
    let query: String
    /// The body; the middleware makes the wire body from it on every attempt.
    let body: AWSRequestBody
    /// Send without a signature.
    let isUnsigned: Bool
}

/// Signs each attempt of an AWS request with SigV4, innermost in ``AWSClient``'s transport.
///
/// Per attempt: sets `amz-sdk-request` (the attempt number and the policy's most attempts),
/// makes the wire body (a buffer; a fresh stream from the body's factory; for
/// ``AWSRequestBody/StreamSigning/chunked(chunkSize:)`` an `aws-chunked` stream signed chunk by
/// chunk), fetches credentials from the provider (a caching provider answers from memory) and
/// signs the headers at the local time corrected by the client's ``ClockSkew``.
///
/// - Throws: ``CredentialError`` when no credentials can be had;
///   ``AWSClientError/Kind/invalidConfiguration`` for an unsigned request with `aws-chunked` signing.
struct AWSSigningMiddleware: HTTPMiddleware {
    let credentialProvider: any CredentialProvider
    let region: String
    let maxAttempts: Int
    let skew: ClockSkew

    func handle<Answer: TransportAnswer>(
        _ request: TransportRequest, context: TransportContext,
        next: (TransportRequest, TransportContext) async throws -> Answer
    ) async throws -> Answer {
        guard let signing = context.values[AWSSigningContext.self] else { return try await next(request, context) }
        var request = request
        request.headers.replaceOrAdd(name: "amz-sdk-request", value: "attempt=\(context.attempt); max=\(maxAttempts)")

        var payload = PayloadHash.empty
        var chunking: (size: Int, base: AWSByteStream)?
        switch signing.body.storage {
        case .empty:
            request.body = nil
        case .buffer(let buffer):
            payload = signing.body.signsPayload ? .of(buffer.readableBytesView) : .unsigned
            request.body = .bytes(buffer)
        case .stream(let length, let make):
            switch signing.body.streamSigning {
            case .unsigned:
                payload = .unsigned
                request.body = .stream(make(), length: .known(length))
            case .chunked(let size):
                payload = .streaming
                request.headers.replaceOrAdd(name: "Content-Encoding", value: "aws-chunked")
                request.headers.replaceOrAdd(name: "x-amz-decoded-content-length", value: String(length))
                chunking = (size, make())
            }
        }

        if !signing.isUnsigned {
            let credentials = try await credentialProvider.credentials()
            let signer = SigV4Signer(credentials: credentials, region: region, service: signing.service.signingName)
            let date = Date().addingTimeInterval(skew.seconds)
            let signed = signer.signHeaders(
                SigningRequest(
                    method: request.method.rawValue, path: signing.path, query: signing.query,
                    headers: request.headers.map { (name: $0.name, value: $0.value) }),
                payload: payload, date: date)
            for (name, value) in signed.headersToAdd { request.headers.replaceOrAdd(name: name, value: value) }
            if let chunking {
                let sequence = ChunkedSigningSequence(
                    base: chunking.base, signer: signer.chunkSigner(seedSignature: signed.signature, date: date),
                    chunkSize: chunking.size)
                let wireLength = SigV4ChunkSigner.encodedLength(
                    payloadLength: signing.body.length, chunkSize: chunking.size)
                request.body = .stream(sequence, length: .known(wireLength))
            }
        } else if chunking != nil {
            throw AWSClientError(.invalidConfiguration, "an unsigned request cannot use aws-chunked signing")
        }
        return try await next(request, context)
    }
}
