import TallyCore
import TallyWire
import Testing

/// Incremental decoding: bytes arrive in any pieces; a partial frame waits without being consumed,
/// many frames come out one by one, and an error either skips one frame or ends the stream.
@Suite("Frame decoder")
struct FrameDecoderTests {
    /// Six requests of different opcodes, back to back.
    static func requestStream() -> (frames: [RequestFrame], bytes: [UInt8]) {
        var random = WireRandom(seed: 0x5354_5245)
        let opcodes: [Opcode] = [.handshake, .submitBatch, .ping, .balances, .transaction, .aggregateBalances]
        let frames = opcodes.enumerated().map {
            RequestFrame(requestID: UInt64($0.offset + 1), random.request($0.element))
        }
        return (frames, frames.flatMap(Wire.bytes))
    }

    static func drainRequests(_ decoder: inout FrameDecoder) -> [Result<RequestFrame, WireError>] {
        var out: [Result<RequestFrame, WireError>] = []
        while let next = decoder.nextRequest(limits: .defaults) {
            out.append(next)
            if case .failure(let error) = next, error.closesConnection { break }
        }
        return out
    }

    @Test func everySplitPointOfARequestStreamGivesTheSameFrames() throws {
        let (frames, bytes) = Self.requestStream()
        for split in 0...bytes.count {
            var decoder = FrameDecoder()
            decoder.append(bytes[..<split])
            var decoded = Self.drainRequests(&decoder)
            decoder.append(bytes[split...])
            decoded += Self.drainRequests(&decoder)
            #expect(try decoded.map { try $0.get() } == frames, "split at \(split)")
            #expect(decoder.bufferedByteCount == 0)
        }
    }

    @Test func everySplitPointOfAReplyStreamGivesTheSameFrames() throws {
        var random = WireRandom(seed: 0x5354_5250)
        let frames = (0..<6).map { _ in random.replyFrame() }
        let bytes = frames.flatMap(Wire.bytes)
        for split in 0...bytes.count {
            var decoder = FrameDecoder()
            var decoded: [ReplyFrame] = []
            for piece in [bytes[..<split], bytes[split...]] {
                decoder.append(piece)
                while let next = decoder.nextReply() {
                    decoded.append(try next.get())
                }
            }
            #expect(decoded == frames, "split at \(split)")
        }
    }

    @Test func oneByteAtATimeAndRandomPiecesGiveTheSameFrames() throws {
        let (frames, bytes) = Self.requestStream()
        var decoder = FrameDecoder()
        var decoded: [RequestFrame] = []
        for byte in bytes {
            decoder.append(CollectionOfOne(byte))
            while let next = decoder.nextRequest(limits: .defaults) {
                decoded.append(try next.get())
            }
        }
        #expect(decoded == frames)

        var random = WireRandom(seed: 0x9EC)
        for _ in 0..<200 {
            var decoder = FrameDecoder()
            var decoded: [RequestFrame] = []
            var position = 0
            while position < bytes.count {
                let end = min(bytes.count, position + random.int(1...700))
                decoder.append(bytes[position..<end])
                position = end
                while let next = decoder.nextRequest(limits: .defaults) {
                    decoded.append(try next.get())
                }
            }
            #expect(decoded == frames)
        }
    }

    @Test func aPartialFrameIsNotConsumedAndSaysHowMuchIsMissing() {
        let bytes = Wire.bytes(RequestFrame(requestID: 3, .balances(BalancesRequest([1, 2, 3]))))
        #expect(bytes.count == 20 + 4 + 24)
        for count in 0..<bytes.count {
            let missing = count < 20 ? 20 - count : bytes.count - count
            guard case .needMoreBytes(missing) = Wire.decodeRequest(Array(bytes[..<count])) else {
                Issue.record("\(count) bytes: not a need for \(missing) more")
                continue
            }
            guard case .needMoreBytes = Wire.decodeReply(Array(bytes[..<count])) else {
                Issue.record("\(count) bytes of a reply: not a need for more")
                continue
            }
        }
    }

    @Test func aRefusedFrameIsSkippedAndTheNextOneDecodes() throws {
        let unknown = Wire.frame(opcode: 0x7E, requestID: 41, payload: [1, 2, 3])
        let good = Wire.bytes(RequestFrame(requestID: 42, .ping))
        var decoder = FrameDecoder()
        decoder.append(unknown + good)
        let next = decoder.nextRequest(limits: .defaults)
        let first = try #require(next)
        guard case .failure(let error) = first else {
            Issue.record("an unknown opcode decoded")
            return
        }
        #expect(
            error.status == .unknownOpcode && error.requestID == 41 && error.opcode == 0x7E && !error.closesConnection
        )
        #expect(try decoder.nextRequest(limits: .defaults)?.get() == RequestFrame(requestID: 42, .ping))
        #expect(decoder.nextRequest(limits: .defaults) == nil)
    }

    @Test func anOversizedFrameIsRefusedFromItsHeaderAloneAndTheErrorSticks() throws {
        let limits = ConnectionLimits(frameBytesMax: 4_096, inFlightBytesMax: 4_096)
        var decoder = FrameDecoder()
        // Only the header of a 1 GiB frame has arrived.
        decoder.append(Wire.frame(length: 1 << 30, opcode: Opcode.submitBatch.rawValue, requestID: 8))
        let next = decoder.nextRequest(limits: limits)
        let result = try #require(next)
        let expected = WireError(
            .frameTooLarge,
            offset: 0,
            "frame length 1073741824, more than the limit of 4096",
            requestID: 8,
            opcode: 0x10,
            closesConnection: true
        )
        #expect(result == .failure(expected))
        decoder.append(Wire.bytes(RequestFrame(requestID: 9, .ping)))
        #expect(decoder.nextRequest(limits: limits) == .failure(expected), "nothing after a fatal error decodes")
    }

    @Test func theBufferDropsConsumedBytes() throws {
        var decoder = FrameDecoder()
        let frame = Wire.bytes(RequestFrame(requestID: 1, .balances(BalancesRequest(Array(repeating: 7, count: 100)))))
        for _ in 0..<1_000 {
            decoder.append(frame + frame[..<10])
            #expect(try decoder.nextRequest(limits: .defaults)?.get() != nil)
            decoder.append(frame[10...])
            #expect(try decoder.nextRequest(limits: .defaults)?.get() != nil)
            #expect(decoder.nextRequest(limits: .defaults) == nil)
        }
        #expect(decoder.bufferedByteCount == 0)
    }
}
