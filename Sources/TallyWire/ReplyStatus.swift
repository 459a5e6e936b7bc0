/// The outcome of a whole request, in the reply's header: ``ok`` or why the server did not carry
/// it out. Distinct from the per-operation ``TallyCore/ResultCode``s inside a submit's reply: a
/// submit whose operations were all rejected is still `ok`.
///
/// Numbers are stable; new statuses get new numbers. A client must treat a status it does not
/// know as a failure of that request.
public struct ReplyStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let ok = ReplyStatus(rawValue: 0)
    public static let malformed = ReplyStatus(rawValue: 1)
    public static let unsupportedVersion = ReplyStatus(rawValue: 2)
    public static let unknownOpcode = ReplyStatus(rawValue: 3)
    public static let frameTooLarge = ReplyStatus(rawValue: 4)
    public static let tooManyOperations = ReplyStatus(rawValue: 5)
    public static let busy = ReplyStatus(rawValue: 6)
    public static let readOnly = ReplyStatus(rawValue: 7)
    public static let shuttingDown = ReplyStatus(rawValue: 8)
    public static let engineFailed = ReplyStatus(rawValue: 9)
    public static let durabilityTimeout = ReplyStatus(rawValue: 10)
    public static let connectionLimit = ReplyStatus(rawValue: 11)
    public static let idleTimeout = ReplyStatus(rawValue: 12)
    public static let internalError = ReplyStatus(rawValue: 13)

    /// The documentation of one status.
    public struct Info: Sendable {
        public var status: ReplyStatus
        public var name: String
        /// Whether the server closes the connection after a reply with this status.
        public var closes: Closes
        public var meaning: String
    }

    /// When a status ends the connection.
    public enum Closes: Sendable {
        case never
        case always
        /// Closing for some causes (see the meaning).
        case sometimes
    }

    /// Every status, in number order (docs/PROTOCOL.md's table; a test keeps them equal).
    public static let all: [Info] = [
        Info(status: .ok, name: "ok", closes: .never, meaning: "The request was carried out."),
        Info(
            status: .malformed,
            name: "malformed",
            closes: .sometimes,
            meaning:
                "The request breaks the format; the error's reason and offset say how and where. Closes only for a bad magic or a length below 20 (the stream cannot be trusted)."
        ),
        Info(
            status: .unsupportedVersion,
            name: "unsupported_version",
            closes: .always,
            meaning: "The frame's protocol version is not one the server speaks. Request id 0."
        ),
        Info(
            status: .unknownOpcode,
            name: "unknown_opcode",
            closes: .never,
            meaning: "The opcode is not one the server knows; the frame was skipped."
        ),
        Info(
            status: .frameTooLarge,
            name: "frame_too_large",
            closes: .always,
            meaning: "The frame length is above the server's frame limit; the server does not read the body."
        ),
        Info(
            status: .tooManyOperations,
            name: "too_many_operations",
            closes: .never,
            meaning:
                "A submit carries more operations, or a read asks for more items, than the server's operations-per-request limit."
        ),
        Info(
            status: .busy,
            name: "busy",
            closes: .never,
            meaning: "The server is overloaded (the writer's queue is full); nothing was done. Retry shortly."
        ),
        Info(
            status: .readOnly,
            name: "read_only",
            closes: .never,
            meaning: "A write on a read-only socket, or by a peer not allowed to write; nothing was done."
        ),
        Info(
            status: .shuttingDown,
            name: "shutting_down",
            closes: .always,
            meaning:
                "The server is stopping and could not carry out this request (nothing was done). Also sent with request id 0 just before the server closes the connection."
        ),
        Info(
            status: .engineFailed,
            name: "engine_failed",
            closes: .never,
            meaning:
                "The journal failed: writes are refused until a restart, reads still work. For the write that met the failure the outcome is unknown: resend it with the same idempotency keys after the restart."
        ),
        Info(
            status: .durabilityTimeout,
            name: "durability_timeout",
            closes: .never,
            meaning: "A wait for durability reached its timeout first. Nothing is lost: wait again."
        ),
        Info(
            status: .connectionLimit,
            name: "connection_limit",
            closes: .always,
            meaning: "The server has its maximum of connections; sent with request id 0 right after accepting."
        ),
        Info(
            status: .idleTimeout,
            name: "idle_timeout",
            closes: .always,
            meaning:
                "No request arrived and none was in progress for the idle timeout; sent with request id 0 before closing."
        ),
        Info(
            status: .internalError,
            name: "internal_error",
            closes: .never,
            meaning: "The server failed in a way the protocol does not name (a bug); the message says more."
        ),
    ]

    /// The status's name (`status_<number>` for a number this module does not know).
    public var name: String {
        ReplyStatus.all.first { $0.status == self }?.name ?? "status_\(self.rawValue)"
    }

    public var description: String { self.name }
}
