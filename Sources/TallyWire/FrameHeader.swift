/// The 20 bytes that start every frame (the layout is at the top of WireProtocol.swift and in
/// docs/PROTOCOL.md).
///
/// Fields are kept raw: the header decoder checks only what splits the stream into frames (magic,
/// version, length); the opcode, status, flags and request id are judged by the request and reply
/// decoders, whose errors leave the connection usable.
public struct FrameHeader: Hashable, Sendable {
    /// Bytes of the whole frame, header included.
    public var length: Int
    public var version: UInt8
    public var opcode: UInt8
    public var requestID: UInt64
    public var status: ReplyStatus
    public var flags: UInt16

    /// Request flag bit 0: acknowledge a write when applied, or read applied state.
    public static let appliedFlag: UInt16 = 1 << 0
    /// Reply flag bit 0: the server closes the connection after this reply.
    public static let closingFlag: UInt16 = 1 << 0

    public init(
        length: Int,
        version: UInt8 = WireProtocol.version,
        opcode: UInt8,
        requestID: UInt64,
        status: ReplyStatus = .ok,
        flags: UInt16 = 0
    ) {
        self.length = length
        self.version = version
        self.opcode = opcode
        self.requestID = requestID
        self.status = status
        self.flags = flags
    }

    /// Bytes of the payload that follows the header.
    public var payloadLength: Int { self.length - WireProtocol.headerBytes }

    /// Appends the header with a zero length, to be set by ``patchLength(in:frameStart:)`` once the
    /// payload is written.
    public func encode(into bytes: inout [UInt8]) {
        bytes.put(UInt32(truncatingIfNeeded: self.length))
        bytes.put(WireProtocol.magic)
        bytes.put(self.version)
        bytes.put(self.opcode)
        bytes.put(self.requestID)
        bytes.put(self.status.rawValue)
        bytes.put(self.flags)
    }

    /// Writes the length of the frame that starts at `frameStart` and ends at the end of `bytes`.
    static func patchLength(in bytes: inout [UInt8], frameStart: Int) {
        let length = bytes.count - frameStart
        // Every message's size is bounded so that it fits (WireProtocol.checkRelationships); a frame
        // beyond the ceiling would be refused by every decoder.
        precondition(
            length >= WireProtocol.headerBytes && length <= WireProtocol.frameBytesCeiling,
            "a frame of \(length) bytes, more than the protocol's \(WireProtocol.frameBytesCeiling)"
        )
        bytes.withUnsafeMutableBytes { buffer in
            buffer.storeBytes(
                of: UInt32(truncatingIfNeeded: length).littleEndian,
                toByteOffset: frameStart,
                as: UInt32.self
            )
        }
    }

    /// Finds the frame at the start of `bytes`: the header of a whole frame, a need for more bytes,
    /// or an error after which the stream cannot be trusted (the caller replies and closes).
    ///
    /// Nothing is judged before the whole 20-byte header is there. Then, in this order: the magic
    /// (`bad_magic`), the version (`unsupported_version`), a length below the header's size
    /// (`length_too_small`) and a length above `frameBytesMax` (`frame_too_large`, which echoes the
    /// request id and opcode). Never reads beyond `bytes` and never traps.
    public static func decode(_ bytes: UnsafeRawBufferPointer, frameBytesMax: Int) -> FrameBoundary {
        guard bytes.count >= WireProtocol.headerBytes else {
            return .needMoreBytes(WireProtocol.headerBytes - bytes.count)
        }
        let magic = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        guard magic == WireProtocol.magic else {
            return .fatal(
                WireError(
                    .malformed,
                    reason: .badMagic,
                    offset: 4,
                    "bytes 4-5 of the frame are \(hex(magic)), not the magic 54 4c (\"TL\"): not a Tally stream, or out of step",
                    closesConnection: true
                )
            )
        }
        let version = bytes[6]
        guard WireProtocol.versionsSupported.contains(version) else {
            return .fatal(
                WireError(
                    .unsupportedVersion,
                    offset: 6,
                    "protocol version \(version); this side speaks \(WireProtocol.versionsSupported.lowerBound) to \(WireProtocol.versionsSupported.upperBound)",
                    closesConnection: true
                )
            )
        }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        guard length >= WireProtocol.headerBytes else {
            return .fatal(
                WireError(
                    .malformed,
                    reason: .lengthTooSmall,
                    offset: 0,
                    "frame length \(length), less than the \(WireProtocol.headerBytes)-byte header",
                    closesConnection: true
                )
            )
        }
        let header = FrameHeader(
            length: length,
            version: version,
            opcode: bytes[7],
            requestID: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            status: ReplyStatus(
                rawValue: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
            ),
            flags: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 18, as: UInt16.self))
        )
        guard length <= frameBytesMax else {
            return .fatal(
                WireError(
                    .frameTooLarge,
                    offset: 0,
                    "frame length \(length), more than the limit of \(frameBytesMax)",
                    requestID: header.requestID,
                    opcode: header.opcode,
                    closesConnection: true
                )
            )
        }
        guard bytes.count >= length else {
            return .needMoreBytes(length - bytes.count)
        }
        return .frame(header)
    }
}

/// Where the next frame of a stream ends, as far as the bytes at hand tell.
public enum FrameBoundary: Hashable, Sendable {
    /// No whole frame yet: at least this many more bytes are needed. Nothing is consumed.
    case needMoreBytes(Int)
    /// A whole frame of `header.length` bytes starts the input.
    case frame(FrameHeader)
    /// The stream cannot be split into frames any more: reply with the error, then close.
    case fatal(WireError)
}

/// Two bytes as they appear on the wire, for messages.
private func hex(_ value: UInt16) -> String {
    let low = UInt8(truncatingIfNeeded: value)
    let high = UInt8(truncatingIfNeeded: value >> 8)
    return [low, high].map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: " ")
}
