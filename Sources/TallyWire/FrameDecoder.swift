/// Splits a byte stream into frames as it arrives, for a caller that owns no buffer of its own (a
/// blocking client, the tests). A NIO handler uses ``RequestFrame/decode(_:limits:)`` or
/// ``ReplyFrame/decode(_:)`` on its own buffer instead.
///
/// Bytes may arrive in any pieces: a partial frame waits, many frames come out one by one. Call
/// ``nextRequest(limits:)`` or ``nextReply()`` after each ``append(_:)`` until it returns nil, so
/// that an oversized frame is refused as soon as its header is in, before its body is buffered.
/// After a fatal error (``WireError/closesConnection``) every later call returns that error again.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already consumed.
    private var consumed = 0
    private var fatalError: WireError?

    public init() {}

    /// Bytes received and not yet consumed by a frame.
    public var bufferedByteCount: Int { self.buffer.count - self.consumed }

    /// Adds bytes received from the stream.
    public mutating func append(_ bytes: some Sequence<UInt8>) {
        // Drop consumed bytes once they are the larger part, so the buffer stays within about
        // twice what is pending, and copying stays linear in what was received.
        if self.consumed > 0 && self.consumed >= self.buffer.count - self.consumed {
            self.buffer.removeFirst(self.consumed)
            self.consumed = 0
        }
        self.buffer.append(contentsOf: bytes)
    }

    /// The next request, nil when more bytes are needed. A failure that does not close the
    /// connection consumed its frame; answer it and go on.
    public mutating func nextRequest(limits: ConnectionLimits) -> Result<RequestFrame, WireError>? {
        self.next { RequestFrame.decode($0, limits: limits) }
    }

    /// The next reply, nil when more bytes are needed. A failure that does not close the connection
    /// consumed its frame (fail the request it names and go on).
    public mutating func nextReply() -> Result<ReplyFrame, WireError>? {
        self.next { ReplyFrame.decode($0) }
    }

    private mutating func next<Message>(
        _ decode: (UnsafeRawBufferPointer) -> FrameDecoding<Message>
    ) -> Result<Message, WireError>? {
        if let fatalError = self.fatalError {
            return .failure(fatalError)
        }
        let consumed = self.consumed
        let decoding = self.buffer.withUnsafeBytes { bytes in
            decode(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
        }
        switch decoding {
        case .needMoreBytes:
            return nil
        case .frame(let result, let byteCount):
            self.consumed += byteCount
            if self.consumed == self.buffer.count {
                self.buffer.removeAll(keepingCapacity: true)
                self.consumed = 0
            }
            return result
        case .fatal(let error):
            self.fatalError = error
            return .failure(error)
        }
    }
}
