import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import RelayFoundation
import RelayHTTP
import Synchronization

/// Takes a successful answer's body as it arrives, on the connection's event loop, for
/// ``AWSClient/execute(_:receiver:)``.
///
/// The async body of `HTTPClientResponse` hands over one network read (at most 64 KiB) per
/// task switch; a receiver sees the same reads on the event loop and decides itself when to hand
/// work elsewhere (a file write per megabyte, say). Reading pauses while the future returned by
/// ``receive(_:on:)`` is pending, so a receiver bounds its own memory.
public protocol AWSBodyReceiver: AnyObject, Sendable {
    /// What the receiver makes of the whole body.
    associatedtype Result: Sendable

    /// The head of a successful answer, before its body; throw to refuse it (a wrong length,
    /// say). A retried request can call this again after an earlier attempt failed before its
    /// body started.
    func receiveHead(_ head: HTTPResponseHead, on eventLoop: any EventLoop) throws

    /// One part of the body, in order. Reading pauses until the returned future completes; a
    /// failed future ends the request with its error.
    func receive(_ buffer: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    /// Called once, off the event loop, after the whole body arrived.
    func finish() async throws -> Result

    /// Called instead of ``finish()`` when the request failed: wait here for any work the
    /// receiver started (a file write, say), so none of it outlives the request.
    func abandon() async
}

/// Bridges AsyncHTTPClient's delegate to a receiver: passes a successful answer through and keeps
/// the first 64 KiB of an error answer for ``AWSErrorParser``.
final class ReceivingDelegate<Receiver: AWSBodyReceiver>: HTTPClientResponseDelegate {
    /// How the exchange ended: the body went to the receiver, or an error answer was kept.
    enum Answer: TransportAnswer {
        case received(HTTPResponseStatus)
        case failed(HTTPResponseStatus, HTTPHeaders, ByteBuffer)

        var status: HTTPResponseStatus {
            switch self {
            case .received(let status), .failed(let status, _, _): return status
            }
        }
    }

    private struct State {
        var failedHead: HTTPResponseHead?
        var status = HTTPResponseStatus.ok
        var errorBody = ByteBuffer()
        var bodyStarted = false
    }

    let receiver: Receiver
    private let state = Mutex(State())

    init(receiver: Receiver) {
        self.receiver = receiver
    }

    /// Whether a successful head reached the receiver (from then on, a failure is not retried).
    var bodyStarted: Bool { state.withLock { $0.bodyStarted } }

    func didReceiveHead(task: HTTPClient.Task<Answer>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        guard AWSClient.isSuccess(head.status) else {
            state.withLock { $0.failedHead = head }
            return task.eventLoop.makeSucceededVoidFuture()
        }
        state.withLock {
            $0.bodyStarted = true
            $0.status = head.status
        }
        do {
            try receiver.receiveHead(head, on: task.eventLoop)
            return task.eventLoop.makeSucceededVoidFuture()
        } catch {
            return task.eventLoop.makeFailedFuture(error)
        }
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Answer>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let failed = state.withLock { state -> Bool in
            guard state.failedHead != nil else { return false }
            var part = buffer
            if state.errorBody.readableBytes < AWSErrorParser.maxErrorBody {
                state.errorBody.writeBuffer(&part)
            }
            return true
        }
        return failed ? task.eventLoop.makeSucceededVoidFuture() : receiver.receive(buffer, on: task.eventLoop)
    }

    func didFinishRequest(task: HTTPClient.Task<Answer>) throws -> Answer {
        state.withLock { state in
            guard let head = state.failedHead else { return .received(state.status) }
            return .failed(head.status, head.headers, state.errorBody)
        }
    }
}
