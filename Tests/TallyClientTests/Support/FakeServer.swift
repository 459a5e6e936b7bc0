import Foundation
import NIOCore
import NIOPosix
import TallyCore
import TallyWire

/// A scripted stand-in for a Tally server: a Unix socket in a temporary directory that decodes
/// request frames with TallyWire and hands them to the test, which answers as it likes (in any
/// order, late, with errors, with garbage) or closes the connection.
final class FakeServer: Sendable {
    struct Options: Sendable {
        /// The reply to every handshake; nil leaves handshakes unanswered.
        var handshake: HandshakeReply? = FakeServer.handshake()
        /// Sent as soon as a connection is accepted (a `connection_limit` refusal).
        var greeting: ReplyFrame?
    }

    let socketPath: String
    private let directory: URL
    private let channel: Channel
    private let connections: Mailbox<FakeConnection>

    private init(socketPath: String, directory: URL, channel: Channel, connections: Mailbox<FakeConnection>) {
        self.socketPath = socketPath
        self.directory = directory
        self.channel = channel
        self.connections = connections
    }

    static func handshake(
        limits: ConnectionLimits = .defaults,
        isReadOnly: Bool = false,
        version: UInt8 = 1
    ) -> HandshakeReply {
        HandshakeReply(version: version, isReadOnly: isReadOnly, limits: limits, serverVersion: "fake 0.1")
    }

    static func start(_ options: Options = Options()) async throws -> FakeServer {
        let directory = try makeTemporaryDirectory()
        let socketPath = directory.appendingPathComponent("tally.sock").path
        let connections = Mailbox<FakeConnection>("a connection")
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let connection = FakeConnection(channel: child)
                    try child.pipeline.syncOperations.addHandler(
                        FakeServerHandler(connection: connection, options: options)
                    )
                    connections.post(connection)
                }
            }
            .bind(unixDomainSocketPath: socketPath)
            .get()
        return FakeServer(socketPath: socketPath, directory: directory, channel: channel, connections: connections)
    }

    /// The next connection accepted.
    func nextConnection() async throws -> FakeConnection {
        try await self.connections.next()
    }

    func stop() async {
        try? await self.channel.close()
        try? FileManager.default.removeItem(at: self.directory)
    }
}

/// One accepted connection: the requests it received, and ways to answer.
final class FakeConnection: Sendable {
    let channel: Channel
    let requests = Mailbox<RequestFrame>("a request")
    let handshakes = Mailbox<HandshakeRequest>("a handshake")

    init(channel: Channel) {
        self.channel = channel
    }

    func nextRequest(timeout: Duration = .seconds(5)) async throws -> RequestFrame {
        try await self.requests.next(timeout: timeout)
    }

    /// The next `count` requests, in arrival order.
    func nextRequests(_ count: Int) async throws -> [RequestFrame] {
        var frames: [RequestFrame] = []
        for _ in 0..<count {
            frames.append(try await self.nextRequest())
        }
        return frames
    }

    func reply(_ frame: ReplyFrame) async throws {
        var bytes: [UInt8] = []
        frame.encode(into: &bytes)
        try await self.send(raw: bytes)
    }

    func reply(to request: RequestFrame, _ reply: Reply, isClosing: Bool = false) async throws {
        try await self.reply(ReplyFrame(requestID: request.requestID, reply, isClosing: isClosing))
    }

    func fail(
        _ request: RequestFrame,
        _ status: ReplyStatus,
        message: String = "",
        isClosing: Bool = false
    )
        async throws
    {
        try await self.reply(
            ReplyFrame(
                requestID: request.requestID,
                opcode: request.request.opcode.rawValue,
                failure: ErrorReply(status, message: message),
                isClosing: isClosing
            )
        )
    }

    func send(raw bytes: [UInt8]) async throws {
        try await self.channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    func close() async {
        try? await self.channel.close()
    }
}

/// Decodes request frames and posts them; answers handshakes on its own.
private final class FakeServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let connection: FakeConnection
    private let options: FakeServer.Options
    private var buffer: ByteBuffer?

    init(connection: FakeConnection, options: FakeServer.Options) {
        self.connection = connection
        self.options = options
    }

    func channelActive(context: ChannelHandlerContext) {
        if let greeting = self.options.greeting {
            var bytes: [UInt8] = []
            greeting.encode(into: &bytes)
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        if var buffer = self.buffer {
            self.buffer = nil
            buffer.writeBuffer(&incoming)
            self.buffer = buffer
        } else {
            self.buffer = incoming
        }
        while var buffer = self.buffer {
            let decoding = buffer.withUnsafeReadableBytes { RequestFrame.decode($0, limits: .defaults) }
            switch decoding {
            case .needMoreBytes:
                return
            case .frame(let result, let byteCount):
                buffer.moveReaderIndex(forwardBy: byteCount)
                self.buffer = buffer.readableBytes > 0 ? buffer : nil
                switch result {
                case .success(let frame):
                    self.received(frame, context: context)
                case .failure(let error):
                    self.write(ReplyFrame(error: error), context: context)
                }
            case .fatal(let error):
                self.write(ReplyFrame(error: error), context: context)
                context.close(promise: nil)
                self.buffer = nil
                return
            }
        }
    }

    private func received(_ frame: RequestFrame, context: ChannelHandlerContext) {
        guard case .handshake(let handshake) = frame.request else {
            self.connection.requests.post(frame)
            return
        }
        self.connection.handshakes.post(handshake)
        if let reply = self.options.handshake {
            self.write(ReplyFrame(requestID: frame.requestID, .handshake(reply)), context: context)
        }
    }

    private func write(_ frame: ReplyFrame, context: ChannelHandlerContext) {
        var bytes: [UInt8] = []
        frame.encode(into: &bytes)
        context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
    }
}

/// A new empty directory under the system's temporary directory (short enough for a socket path).
func makeTemporaryDirectory() throws -> URL {
    let directory = URL(fileURLWithPath: "/tmp", isDirectory: true)
        .appendingPathComponent("tally-client-\(UUID().uuidString.prefix(8))", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}
