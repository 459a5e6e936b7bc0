// The payload of every reply whose status is not ok, whatever its opcode:
//
//   0  2  malformed reason (0 unless the status is malformed)
//   2  4  byte offset in the request frame of the field at fault (0 when it names none)
//   6  2  message length M (0-1,024)
//   8  M  message, UTF-8: what is wrong, for people (not to be parsed)

/// Why a request failed.
public struct ErrorReply: Hashable, Sendable {
    /// Never ``ReplyStatus/ok`` (carried in the frame header, not in this payload).
    public var status: ReplyStatus
    public var reason: MalformedReason
    /// The offset in the request frame of the field at fault.
    public var offset: UInt32
    public var message: String

    /// An error reply; a message longer than ``WireProtocol/errorMessageBytesMax`` bytes is cut at
    /// a scalar boundary.
    public init(_ status: ReplyStatus, reason: MalformedReason = .none, offset: UInt32 = 0, message: String) {
        precondition(status != .ok, "an error reply with status ok")
        self.status = status
        self.reason = reason
        self.offset = offset
        self.message = ErrorReply.cut(message)
    }

    /// The reply to `error`.
    public init(_ error: WireError) {
        self.init(
            error.status,
            reason: error.reason,
            offset: UInt32(clamping: error.offset),
            message: error.message
        )
    }

    static func cut(_ message: String) -> String {
        let utf8 = message.utf8
        guard utf8.count > WireProtocol.errorMessageBytesMax else { return message }
        var end = utf8.index(utf8.startIndex, offsetBy: WireProtocol.errorMessageBytesMax)
        // Back off continuation bytes (10xxxxxx) to the start of a scalar.
        while end > utf8.startIndex && utf8[end] & 0xC0 == 0x80 {
            end = utf8.index(before: end)
        }
        return String(decoding: utf8[..<end], as: UTF8.self)
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.reason.rawValue)
        bytes.put(self.offset)
        bytes.putText(self.message, lengthAs: UInt16.self, maximum: WireProtocol.errorMessageBytesMax)
    }

    static func decode(_ reader: inout WireReader, status: ReplyStatus) throws(WireError) -> ErrorReply {
        let reason = MalformedReason(rawValue: try reader.read("the reason"))
        let offset: UInt32 = try reader.read("the offset")
        let message = try reader.readText(UInt16.self, "the message", maximum: WireProtocol.errorMessageBytesMax)
        try reader.expectEnd()
        return ErrorReply(status, reason: reason, offset: offset, message: message)
    }
}
