import Glibc
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import TallyEngine
import TallyWire

/// What every connection of a server shares.
final class ServerShared: Sendable {
    let engine: Engine
    let configuration: ServerConfiguration
    let statistics: ServerStatistics
    /// The in-process metrics backend, when the server was given one: its metrics are made there
    /// and reported in the statistics reply.
    let metrics: MetricsRegistry?

    init(engine: Engine, configuration: ServerConfiguration, metrics: MetricsRegistry?) {
        self.engine = engine
        self.configuration = configuration
        self.metrics = metrics
        self.statistics = metrics.map { ServerStatistics(factory: $0) } ?? ServerStatistics()
    }
}

/// The Tally server: serves an ``Engine`` over a Unix socket (and optionally a second, read-only
/// one) with the protocol of docs/PROTOCOL.md.
///
/// A `Service`: ``run()`` binds, serves until graceful shutdown (SIGTERM/SIGINT through a
/// `ServiceGroup`), then stops accepting, lets every connection receive the replies of the requests
/// it already sent, and returns. The engine is not closed here: an ``EngineService`` placed before
/// the server in the same group closes it (making the journal durable) once the server is done.
public final class TallyServer: Service, Sendable {
    private let shared: ServerShared
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct State {
        var listeners: [any Channel] = []
        var connections: [ObjectIdentifier: any Channel] = [:]
        var started = false
        var stopping = false
    }

    /// A server of `engine`. Without a `group`, the server makes one of
    /// ``ServerConfiguration/eventLoopThreads`` threads and shuts it down when it stops. The
    /// server's metrics go to swift-metrics' bootstrapped backend, or to `metrics` when given (the
    /// in-process registry `tally serve` uses), whose every metric the statistics reply carries.
    public init(
        engine: Engine,
        configuration: ServerConfiguration,
        logger: Logger,
        group: (any EventLoopGroup)? = nil,
        metrics: MetricsRegistry? = nil
    ) {
        self.shared = ServerShared(engine: engine, configuration: configuration, metrics: metrics)
        if let group {
            self.group = group
            self.ownsGroup = false
        } else {
            self.group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
            self.ownsGroup = true
        }
        self.logger = logger
    }

    public var configuration: ServerConfiguration { self.shared.configuration }

    /// Connections open now.
    public var connectionCount: Int { self.state.withLockedValue { $0.connections.count } }

    /// Binds the socket(s); the server accepts connections once this returns. Called by ``run()``
    /// when it has not been called before.
    public func start() async throws {
        let alreadyStarted = self.state.withLockedValue { state in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { return }
        let configuration = self.shared.configuration
        var listeners: [any Channel] = []
        do {
            listeners.append(try await self.bind(configuration.socketPath, readOnly: false))
            if let readOnlyPath = configuration.readOnlySocketPath {
                listeners.append(try await self.bind(readOnlyPath, readOnly: true))
            }
        } catch {
            for listener in listeners { try? await listener.close() }
            throw error
        }
        self.state.withLockedValue { $0.listeners = listeners }
        self.logger.info(
            "listening",
            metadata: [
                "socket": "\(configuration.socketPath)",
                "read_only_socket": "\(configuration.readOnlySocketPath ?? "none")",
                "connections_max": "\(configuration.limits.connectionsMax)",
            ]
        )
    }

    /// Serves until graceful shutdown, then drains and returns.
    public func run() async throws {
        try await self.start()
        let listeners = self.state.withLockedValue { $0.listeners }
        try await withGracefulShutdownHandler {
            for listener in listeners {
                try await listener.closeFuture.get()
            }
        } onGracefulShutdown: {
            self.stopAccepting()
        }
        await self.drain()
    }

    /// Stops accepting, drains every connection and returns (also what graceful shutdown does).
    public func shutdown() async {
        self.stopAccepting()
        await self.drain()
    }

    private func stopAccepting() {
        let listeners = self.state.withLockedValue { state in
            state.stopping = true
            return state.listeners
        }
        for listener in listeners {
            listener.close(promise: nil)
        }
    }

    /// Asks every connection to finish what it received and close; closes those still open after
    /// the drain time; removes the socket files; shuts down the event loops it owns.
    private func drain() async {
        let configuration = self.shared.configuration
        let connections = self.state.withLockedValue { Array($0.connections.values) }
        self.logger.info("shutting down", metadata: ["connections": "\(connections.count)"])
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ConnectionHandler.ShutdownEvent())
        }
        let deadline = ContinuousClock.now + .milliseconds(configuration.shutdownDrainMilliseconds)
        while self.connectionCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        let remaining = self.state.withLockedValue { Array($0.connections.values) }
        if !remaining.isEmpty {
            self.logger.warning(
                "closing connections that did not drain in time",
                metadata: ["connections": "\(remaining.count)"]
            )
            for connection in remaining {
                try? await connection.close()
            }
        }
        for path in [configuration.socketPath] + (configuration.readOnlySocketPath.map { [$0] } ?? []) {
            unlink(path)
        }
        if self.ownsGroup {
            try? await self.group.shutdownGracefully()
        }
        self.logger.info("stopped")
    }

    // MARK: - Binding

    private func bind(_ path: String, readOnly: Bool) async throws -> any Channel {
        try Self.refuseIfServed(path)
        let configuration = self.shared.configuration
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                self.initialize(channel, socketIsReadOnly: readOnly)
            }
        // The socket file is created with the configured bits, never wider: umask during bind.
        // umask is process-wide; another thread creating a file meanwhile gets at most these bits.
        let previous = umask(~configuration.socketMode & 0o777)
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        } catch {
            umask(previous)
            throw ServerError(.bind, "cannot listen on \(path)", underlying: error)
        }
        umask(previous)
        guard chmod(path, configuration.socketMode) == 0 else {
            let code = errno
            try? await channel.close()
            throw ServerError(.bind, "cannot set the permissions of \(path): \(String(cString: strerror(code)))")
        }
        return channel
    }

    /// Throws when a server already answers on `path`; a stale socket file (nobody listening) is
    /// left for the bind to replace.
    static func refuseIfServed(_ path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFSOCK else { return }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        if connected {
            throw ServerError(.socketInUse, "another server is already listening on \(path)")
        }
    }

    // MARK: - Connections

    private func initialize(_ channel: any Channel, socketIsReadOnly: Bool) -> EventLoopFuture<Void> {
        let configuration = self.shared.configuration
        let statistics = self.shared.statistics
        let admitted = self.state.withLockedValue { state -> Bool in
            guard !state.stopping, state.connections.count < configuration.limits.connectionsMax else { return false }
            state.connections[ObjectIdentifier(channel)] = channel
            return true
        }
        guard admitted else {
            statistics.connectionsRefused.add(1, ordering: .relaxed)
            let stopping = self.state.withLockedValue { $0.stopping }
            let status: ReplyStatus = stopping ? .shuttingDown : .connectionLimit
            let message =
                stopping
                ? "the server is shutting down"
                : "the server has its maximum of \(configuration.limits.connectionsMax) connections"
            self.logger.warning("refusing connection", metadata: ["reason": "\(status)"])
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RefusingHandler(status: status, message: message))
            }
        }
        channel.closeFuture.whenComplete { [self] _ in
            self.state.withLockedValue { _ = $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
            statistics.connectionClosed()
        }
        return PeerCredentials.of(channel).flatMap { [self] peer in
            let (readOnly, reason) = self.access(peer, socketIsReadOnly: socketIsReadOnly)
            statistics.connectionOpened(readOnly: readOnly)
            var logger = self.logger
            logger[metadataKey: "peer"] = "\(peer)"
            logger.debug("connection accepted", metadata: ["read_only": "\(readOnly)"])
            let handler = ConnectionHandler(
                shared: self.shared,
                isReadOnly: readOnly,
                readOnlyReason: reason,
                logger: logger
            )
            return channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                let idle = configuration.limits.idleTimeoutMilliseconds
                if idle > 0 {
                    try sync.addHandler(IdleStateHandler(readTimeout: .milliseconds(Int64(idle))))
                }
                try sync.addHandler(handler)
            }
        }
    }

    private func access(_ peer: PeerCredentials, socketIsReadOnly: Bool) -> (readOnly: Bool, reason: String) {
        if socketIsReadOnly {
            return (true, "this socket is read-only: writes go to the server's main socket")
        }
        if !self.shared.configuration.mayWrite(peer) {
            return (true, "user \(peer.userID) may not write to this server (reads only)")
        }
        return (false, "")
    }
}

/// Answers a connection the server will not serve (over the limit, or shutting down) and closes it.
final class RefusingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let status: ReplyStatus
    private let message: String

    init(status: ReplyStatus, message: String) {
        self.status = status
        self.message = message
    }

    func channelActive(context: ChannelHandlerContext) {
        var bytes: [UInt8] = []
        ReplyFrame(requestID: 0, opcode: 0, failure: ErrorReply(self.status, message: self.message), isClosing: true)
            .encode(into: &bytes)
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
