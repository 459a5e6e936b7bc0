import TallyWire

/// The one error type of TallyClient: a stable code, a message for people, and the server's reply
/// when the server refused the request.
///
/// Per-operation rejections are not errors: a submit whose operations were all rejected succeeds,
/// and each ``OperationResult`` carries its ``TallyCore/ResultCode``.
public struct TallyClientError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// No server answers at the socket path: nothing there, not a socket, refused, or a
        /// handshake that found no protocol version both sides speak.
        public static let connectFailed = Code(name: "connect_failed")
        /// The connection is closed, by the client, by the server or by a failure; requests in
        /// flight when it closed may or may not have been carried out (resend writes with the same
        /// idempotency keys to learn their results).
        public static let connectionClosed = Code(name: "connection_closed")
        /// No reply came within the request's deadline (or the connect timeout). A late reply is
        /// dropped; a write may still have been carried out.
        public static let timeout = Code(name: "timeout")
        /// The request is beyond the server's limits (operations or items per request, frame bytes)
        /// or the encoding's (legs, rates, reference bytes); nothing was sent.
        public static let requestTooLarge = Code(name: "request_too_large")
        /// The server sent something this client cannot decode, or a reply to no request in flight,
        /// or a reply of the wrong kind.
        public static let protocolViolation = Code(name: "protocol_violation")
        /// The server refused the request: ``TallyClientError/status`` says why, and
        /// ``TallyClientError/reply`` holds the server's error reply.
        public static let server = Code(name: "server")
        /// An argument the client cannot send: an empty batch, a page limit of 0, a configuration
        /// value out of range. Nothing was sent.
        public static let invalidArgument = Code(name: "invalid_argument")

        public var description: String { self.name }
    }

    public var code: Code
    public var message: String
    /// For ``Code/server``: the reply's status (`busy`, `read_only`, `shutting_down`,
    /// `engine_failed`, `durability_timeout`, `malformed`, ..., or a status this client does not
    /// know). For ``Code/connectionClosed``: the status of the server's reply that closed the
    /// connection (`idle_timeout`, `shutting_down`, `frame_too_large`, ...), when one did. Nil
    /// otherwise.
    public var status: ReplyStatus?
    /// The server's error reply behind ``status``, when there was one (its reason and offset for
    /// `malformed`).
    public var reply: ErrorReply?

    public init(_ code: Code, _ message: String, status: ReplyStatus? = nil, reply: ErrorReply? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.reply = reply
    }

    /// The error for a reply with a status other than ok.
    init(server reply: ErrorReply) {
        var message = "the server answered \(reply.status.name)"
        if reply.reason != .none {
            message += " (\(reply.reason.name) at offset \(reply.offset))"
        }
        if !reply.message.isEmpty {
            message += ": \(reply.message)"
        }
        self.init(.server, message, status: reply.status, reply: reply)
    }

    public var description: String {
        "\(self.code): \(self.message)"
    }
}
