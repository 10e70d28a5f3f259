import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 in front of a real server, that can fail like a server that dies:
/// after a given number of bytes it drops every connection and refuses new ones until
/// ``restore()``. Used to kill a transfer mid-flight without touching the shared server.
public final class FaultProxy: Sendable {
    /// The port clients connect to.
    public let port: Int
    private let channel: any Channel
    private let state: State

    final class State: Sendable {
        struct Value {
            var down = false
            var cutAfter: Int?
            var forwarded = 0
            var connections: [ObjectIdentifier: any Channel] = [:]
        }
        let value = Mutex(Value())

        /// Counts bytes about to be forwarded. Says whether to forward them, and returns the
        /// channels to close when they exhaust the budget: once the proxy is down nothing more
        /// passes, not even bytes read from a connection that is still being closed.
        func forwarded(_ bytes: Int) -> (forward: Bool, close: [any Channel]) {
            value.withLock { state in
                if state.down { return (false, []) }
                state.forwarded += bytes
                guard let limit = state.cutAfter, state.forwarded >= limit else { return (true, []) }
                state.down = true
                state.cutAfter = nil
                defer { state.connections.removeAll() }
                return (false, Array(state.connections.values))
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Bytes passed through so far, both directions.
    public var forwardedBytes: Int { state.value.withLock { $0.forwarded } }

    private init(port: Int, channel: any Channel, state: State) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    /// Starts a proxy to `targetPort` on 127.0.0.1.
    public static func start(targetPort: Int) async throws -> FaultProxy {
        let state = State()
        let group = MultiThreadedEventLoopGroup.singleton
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { inbound in
                if state.value.withLock({ $0.down }) { return inbound.close() }
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMap { outbound in
                        // A connection accepted just before the cut is closed, not left open past it.
                        let down = state.value.withLock {
                            if !$0.down {
                                $0.connections[ObjectIdentifier(inbound)] = inbound
                                $0.connections[ObjectIdentifier(outbound)] = outbound
                            }
                            return $0.down
                        }
                        if down {
                            outbound.close(promise: nil)
                            return inbound.close()
                        }
                        let (left, right) = Glue.pair(state: state)
                        return inbound.pipeline.addHandler(left).and(outbound.pipeline.addHandler(right)).map { _ in }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FaultProxy(port: channel.localAddress!.port!, channel: channel, state: state)
    }

    /// Drops all connections once `bytes` more bytes have passed, and refuses new ones.
    public func cut(afterBytes bytes: Int) {
        state.value.withLock { $0.cutAfter = $0.forwarded + bytes }
    }

    /// Accepts connections again.
    public func restore() {
        state.value.withLock {
            $0.down = false
            $0.cutAfter = nil
        }
    }

    /// Stops the proxy.
    public func stop() async {
        try? await channel.close()
    }

    /// Forwards bytes between two channels.
    final class Glue: ChannelDuplexHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        var partner: Glue?
        var context: ChannelHandlerContext?
        let state: State

        init(state: State) { self.state = state }

        static func pair(state: State) -> (Glue, Glue) {
            let left = Glue(state: state)
            let right = Glue(state: state)
            left.partner = right
            right.partner = left
            return (left, right)
        }

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        func handlerRemoved(context: ChannelHandlerContext) {
            self.context = nil
            partner = nil
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            let (forward, toClose) = state.forwarded(buffer.readableBytes)
            guard forward else {
                for channel in toClose { channel.close(promise: nil) }
                context.close(promise: nil)
                return
            }
            partner?.send(buffer)
        }

        func send(_ buffer: ByteBuffer) {
            guard let context else { return }
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.execute {
                loopBound.value.writeAndFlush(NIOAny(buffer), promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let partnerContext = partner?.context {
                let bound = NIOLoopBound(partnerContext, eventLoop: partnerContext.eventLoop)
                partnerContext.eventLoop.execute { bound.value.close(promise: nil) }
            }
            context.fireChannelInactive()
        }
    }
}
