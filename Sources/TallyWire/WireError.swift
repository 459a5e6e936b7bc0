/// The one error type of TallyWire: why a frame was refused, with everything the reply to it needs.
///
/// A server answers it with ``ReplyFrame/init(error:)`` and, when ``closesConnection`` is set,
/// closes the connection after that reply: the stream can no longer be split into frames. A client
/// that meets one in a reply fails the request ``requestID`` names (or the connection, when it
/// closes).
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The reply status: never ``ReplyStatus/ok``.
    public var status: ReplyStatus
    /// For ``ReplyStatus/malformed``: what is wrong; ``MalformedReason/none`` otherwise.
    public var reason: MalformedReason
    /// The byte offset, from the frame's first byte, of the field that is wrong; 0 when the error
    /// names no field.
    public var offset: Int
    /// What is wrong, in words.
    public var message: String
    /// The request id of the frame, when it can be trusted; 0 otherwise.
    public var requestID: UInt64
    /// The raw opcode of the frame, when it can be trusted; 0 otherwise.
    public var opcode: UInt8
    /// Whether the stream cannot be trusted any more: reply, then close the connection.
    public var closesConnection: Bool

    public init(
        _ status: ReplyStatus,
        reason: MalformedReason = .none,
        offset: Int = 0,
        _ message: String,
        requestID: UInt64 = 0,
        opcode: UInt8 = 0,
        closesConnection: Bool = false
    ) {
        precondition(status != .ok, "an error with status ok")
        self.status = status
        self.reason = reason
        self.offset = offset
        self.message = message
        self.requestID = requestID
        self.opcode = opcode
        self.closesConnection = closesConnection
    }

    /// A malformed payload or header field.
    static func malformed(_ reason: MalformedReason, at offset: Int, _ message: String) -> WireError {
        WireError(.malformed, reason: reason, offset: offset, message)
    }

    public var description: String {
        var text = self.status.name
        if self.reason != .none { text += " (\(self.reason.name))" }
        text += " at offset \(self.offset): \(self.message)"
        if self.closesConnection { text += "; closing" }
        return text
    }
}
