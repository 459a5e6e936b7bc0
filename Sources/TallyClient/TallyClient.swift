import NIOCore
import NIOPosix
import TallyCore
import TallyWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An async client of a Tally server over its Unix socket: one connection, any number of requests
/// in flight on it (replies are matched by request id, in any order), a deadline on every request,
/// and single operations from concurrent callers combined into batches.
///
/// ```swift
/// let client = try await TallyClient.connect(socketPath: "/run/tally/tally.sock")
/// let outcome = try await client.submit(.post(header, legs: legs))
/// let balances = try await client.balances([1, 2])
/// await client.close()
/// ```
///
/// Every method may be called from any task at any time. Operating failures throw
/// ``TallyClientError``; rejections of single operations are values (``OperationResult``).
/// The connection runs on `MultiThreadedEventLoopGroup.singleton`, so a client that is dropped
/// without ``close()`` leaks no threads; its deinit closes the socket.
public final class TallyClient: Sendable {
    /// The server's handshake reply: the protocol version, the connection's limits, whether the
    /// socket is read-only, and the server's release.
    public let server: HandshakeReply
    /// The configuration the client was connected with.
    public let configuration: Configuration
    let connection: ClientConnection
    let requestTimeout: TimeAmount

    private init(connection: ClientConnection, server: HandshakeReply, configuration: Configuration) {
        self.connection = connection
        self.server = server
        self.configuration = configuration
        self.requestTimeout = TimeAmount(configuration.requestTimeout)
    }

    deinit {
        self.connection.channel.close(promise: nil)
    }

    /// Connects to the server at `socketPath` and exchanges a handshake.
    ///
    /// Throws ``TallyClientError/Code/connectFailed`` when no server answers there (nothing at the
    /// path, not a socket, refused) or it shares no protocol version with this client,
    /// ``TallyClientError/Code/timeout`` when connecting and the handshake take longer than
    /// ``Configuration/connectTimeout``, and ``TallyClientError/Code/server`` when the server turns
    /// the connection away (`connection_limit`).
    public static func connect(
        socketPath: String,
        configuration: Configuration = .init()
    ) async throws(TallyClientError) -> TallyClient {
        try configuration.validate()
        let clock = ContinuousClock()
        let start = clock.now
        let connectTimeout = TimeAmount(configuration.connectTimeout)
        let requestIDs = RequestIDs()
        let requestTimeout = TimeAmount(configuration.requestTimeout)
        let coalescedOperationsMax = configuration.coalescedOperationsMax
        let connection: ClientConnection
        do {
            connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(connectTimeout)
                .connect(unixDomainSocketPath: socketPath) { channel in
                    // Added before the channel is active, so that a reply the server sends on its
                    // own right away (connection_limit) is read.
                    channel.eventLoop.makeCompletedFuture {
                        let handler = ConnectionHandler(
                            requestIDs: requestIDs,
                            requestTimeout: requestTimeout,
                            coalescedOperationsMax: coalescedOperationsMax
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return ClientConnection(
                            channel: channel,
                            handler: NIOLoopBound(handler, eventLoop: channel.eventLoop),
                            requestIDs: requestIDs
                        )
                    }
                }
        } catch {
            throw Self.connectError(error, socketPath: socketPath, timeout: configuration.connectTimeout)
        }

        let server: HandshakeReply
        // The handshake gets what the connect timeout has left.
        let remaining = max(configuration.connectTimeout - (clock.now - start), .milliseconds(1))
        do throws(TallyClientError) {
            let reply = try await connection.perform(
                .handshake(HandshakeRequest(clientName: configuration.handshakeClientName)),
                timeout: TimeAmount(remaining),
                frameBytesMax: WireProtocol.frameBytesFloor
            )
            guard case .handshake(let handshake) = reply else {
                throw TallyClientError.unexpected(reply, answering: .handshake)
            }
            server = handshake
        } catch {
            await connection.close()
            // A server that turns the connection away (connection_limit) may say so before the
            // handshake is sent: its refusal, not the closed connection, is the answer.
            if error.code == .connectionClosed, let reply = error.reply {
                throw TallyClientError(server: reply)
            }
            throw error
        }
        guard server.version != 0 else {
            await connection.close()
            throw TallyClientError(
                .connectFailed,
                "the server at \(socketPath) speaks protocol versions \(server.versions.lowerBound) to \(server.versions.upperBound); this client speaks \(WireProtocol.versionsSupported.lowerBound) to \(WireProtocol.versionsSupported.upperBound)"
            )
        }
        let handler = connection.handler
        let limits = server.limits
        // Awaited, so that the coalescers know the server's limits before any submit.
        try? await handler.eventLoop.submit {
            handler.value.configure(coalescedOperationsMax: coalescedOperationsMax, limits: limits)
        }.get()
        return TallyClient(connection: connection, server: server, configuration: configuration)
    }

    /// Closes the connection and returns once it is closed. Every call in flight fails with
    /// ``TallyClientError/Code/connectionClosed``, and so does every later call. Calling it again
    /// does nothing.
    public func close() async {
        await self.connection.close()
    }

    /// Sends `request` with the request timeout and the server's frame limit.
    func perform(_ request: Request) async throws(TallyClientError) -> Reply {
        try await self.connection.perform(
            request,
            timeout: self.requestTimeout,
            frameBytesMax: self.server.limits.frameBytesMax
        )
    }

    /// Throws ``TallyClientError/Code/requestTooLarge`` when a read asks for more items than the
    /// server serves in one request.
    func checkItemCount(_ count: Int, _ opcode: Opcode) throws(TallyClientError) {
        let limit = self.server.limits.operationsPerRequestMax
        guard count <= limit else {
            throw TallyClientError(
                .requestTooLarge,
                "a \(opcode.name) request of \(count) items, more than the server's limit of \(limit) per request"
            )
        }
    }

    /// Bytes of the batch encoding's header (version and count), before the operations.
    static let batchHeaderBytes = OperationBatch().encodedByteCount

    /// The most bytes of operations a submit frame of `frameBytesMax` bytes can carry.
    static func batchOperationBytesMax(frameBytesMax: Int) -> Int {
        frameBytesMax - WireProtocol.headerBytes - Self.batchHeaderBytes
    }

    private static func connectError(_ error: any Error, socketPath: String, timeout: Duration) -> TallyClientError {
        if let error = error as? ChannelError, case .connectTimeout = error {
            return TallyClientError(
                .timeout,
                "connecting to \(socketPath) took longer than \(timeout); is the server running?"
            )
        }
        let reason: String
        if let error = error as? IOError {
            reason = Self.describe(errno: error.errnoCode)
        } else {
            reason = "\(error)"
        }
        return TallyClientError(.connectFailed, "cannot connect to \(socketPath): \(reason); is the server running?")
    }

    private static func describe(errno: CInt) -> String {
        switch errno {
        case ENOENT: return "no such file"
        case ECONNREFUSED: return "connection refused (nothing accepts connections there)"
        case ENOTSOCK: return "not a socket"
        case EACCES: return "permission denied"
        case ENOTDIR: return "a part of the path is not a directory"
        default: return "\(String(cString: strerror(errno))) (errno \(errno))"
        }
    }
}

extension TallyClientError {
    /// An ok reply of the wrong kind for the request.
    static func unexpected(_ reply: Reply, answering opcode: Opcode) -> TallyClientError {
        TallyClientError(
            .protocolViolation,
            "the server answered a \(opcode.name) request with a \(reply.opcode?.name ?? "failure") reply"
        )
    }
}
