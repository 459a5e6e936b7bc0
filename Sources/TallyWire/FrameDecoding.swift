/// What the start of a byte stream holds, decoded as a request or a reply.
public enum FrameDecoding<Message> {
    /// No whole frame yet: at least this many more bytes are needed. Nothing is consumed.
    case needMoreBytes(Int)
    /// A whole frame of `byteCount` bytes, to be consumed: its message, or the error to answer it
    /// with. The connection stays usable either way.
    case frame(Result<Message, WireError>, byteCount: Int)
    /// The stream cannot be split into frames any more: answer the error, then close.
    case fatal(WireError)
}

extension FrameDecoding: Sendable where Message: Sendable {}
