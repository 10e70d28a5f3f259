import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 that never finishes an answer: the server that keeps a
/// client waiting for ever unless the client has an overall deadline.
///
/// ```swift
/// let server = try await StallingHTTPServer.start(.drip(every: .seconds(2)))
/// // GET server.baseURL/... gets a 200 head, then one byte every two seconds of a 1 MiB body.
/// ```
public final class StallingHTTPServer: Sendable {
    /// How it stalls.
    public enum Behaviour: Sendable {
        /// Reads the request and never answers: not a byte of the response head.
        case silent
        /// Sends a `200` head announcing `length` bytes (of `contentType`), then one byte every
        /// `interval`: each read arrives well within any per-read timeout, the body never ends.
        case drip(every: Duration, length: Int = 1 << 20, contentType: String = "application/json")
    }

    /// The port it listens on.
    public let port: Int
    private let channel: any Channel
    private let state: State

    final class State: Sendable {
        let connections = Mutex<[any Channel]>([])
        let requests = Mutex(0)
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// How many requests arrived so far (their heads).
    public var requestCount: Int { state.requests.withLock { $0 } }

    private init(port: Int, channel: any Channel, state: State) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    /// Starts a server that answers every request as `behaviour` says.
    public static func start(_ behaviour: Behaviour) async throws -> StallingHTTPServer {
        let state = State()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                state.connections.withLock { $0.append(channel) }
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(behaviour: behaviour, state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw TestSupportError("the stalling HTTP server did not start")
        }
        return StallingHTTPServer(port: port, channel: channel, state: state)
    }

    /// Stops listening and closes every connection (which ends any drip).
    public func stop() async {
        try? await channel.close()
        for connection in state.connections.withLock({ $0 }) { try? await connection.close() }
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let behaviour: Behaviour
        let state: State
        var drip: RepeatedTask?

        init(behaviour: Behaviour, state: State) {
            self.behaviour = behaviour
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head = unwrapInboundIn(data) else { return }
            state.requests.withLock { $0 += 1 }
            guard case .drip(let interval, let length, let contentType) = behaviour, drip == nil else { return }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(length))
            context.writeAndFlush(
                NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let nanoseconds =
                Int64(interval.components.seconds) * 1_000_000_000
                + interval.components.attoseconds / 1_000_000_000
            drip = context.eventLoop.scheduleRepeatedTask(
                initialDelay: .nanoseconds(nanoseconds), delay: .nanoseconds(nanoseconds)
            ) { _ in
                bound.value.writeAndFlush(
                    NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: " ")))), promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            drip?.cancel()
            drip = nil
            context.fireChannelInactive()
        }
    }
}
