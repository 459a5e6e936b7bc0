import Foundation
import TallyCore
import TallyWire

/// Byte helpers shared by the wire tests.
enum Wire {
    static func bytes(_ frame: RequestFrame) -> [UInt8] {
        var bytes: [UInt8] = []
        frame.encode(into: &bytes)
        return bytes
    }

    static func bytes(_ frame: ReplyFrame) -> [UInt8] {
        var bytes: [UInt8] = []
        frame.encode(into: &bytes)
        return bytes
    }

    static func decodeRequest(
        _ bytes: [UInt8],
        limits: ConnectionLimits = .defaults
    ) -> FrameDecoding<RequestFrame> {
        bytes.withUnsafeBytes { RequestFrame.decode($0, limits: limits) }
    }

    static func decodeReply(_ bytes: [UInt8]) -> FrameDecoding<ReplyFrame> {
        bytes.withUnsafeBytes { ReplyFrame.decode($0) }
    }

    /// The error a whole request frame is refused with (fatal or not), nil if it decodes.
    static func requestError(_ bytes: [UInt8], limits: ConnectionLimits = .defaults) -> WireError? {
        switch Self.decodeRequest(bytes, limits: limits) {
        case .needMoreBytes: return nil
        case .frame(.success, _): return nil
        case .frame(.failure(let error), _): return error
        case .fatal(let error): return error
        }
    }

    /// The error a whole reply frame is refused with (fatal or not), nil if it decodes.
    static func replyError(_ bytes: [UInt8]) -> WireError? {
        switch Self.decodeReply(bytes) {
        case .needMoreBytes: return nil
        case .frame(.success, _): return nil
        case .frame(.failure(let error), _): return error
        case .fatal(let error): return error
        }
    }

    /// A frame with the given header fields and payload (the length computed unless given).
    static func frame(
        length: Int? = nil,
        magic: UInt16 = WireProtocol.magic,
        version: UInt8 = WireProtocol.version,
        opcode: UInt8,
        requestID: UInt64 = 1,
        status: UInt16 = 0,
        flags: UInt16 = 0,
        payload: [UInt8] = []
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.put(UInt32(length ?? WireProtocol.headerBytes + payload.count))
        bytes.put(magic)
        bytes.put(version)
        bytes.put(opcode)
        bytes.put(requestID)
        bytes.put(status)
        bytes.put(flags)
        return bytes + payload
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

extension [UInt8] {
    mutating func put<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { self.append(contentsOf: $0) }
    }

    /// Little-endian bytes of `value`.
    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.put(value)
        return bytes
    }
}
