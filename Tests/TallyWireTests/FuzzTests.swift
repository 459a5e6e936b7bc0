import TallyCore
import TallyTestKit
import TallyWire
import Testing

/// Random, truncated, bit-flipped, resized and oversized frames thrown at both decoders: none
/// traps, and every outcome is a need for more bytes, a frame (decoded, or refused with an error
/// that names a field inside it), or a fatal error that closes the connection. A frame that decodes
/// re-encodes to exactly its bytes, so no two encodings mean the same thing.
@Suite("Fuzz")
struct FuzzTests {
    struct Tally {
        var needMore = 0
        var decoded = 0
        var refused = 0
        var fatal = 0
        var reasons = Set<String>()
    }

    /// A pool of valid request and reply frames to mutate.
    static func pool(seed: UInt64) -> [[UInt8]] {
        var random = WireRandom(seed: seed)
        var pool: [[UInt8]] = []
        for _ in 0..<300 {
            pool.append(Wire.bytes(random.requestFrame()))
            pool.append(Wire.bytes(random.replyFrame()))
        }
        return pool
    }

    /// One mutation of `frame`.
    static func mutate(_ frame: [UInt8], _ random: inout WireRandom, pool: [[UInt8]]) -> [UInt8] {
        var bytes = frame
        switch random.int(0...9) {
        case 0:
            return bytes
        case 1:
            // Cut short.
            return Array(bytes[..<random.int(0...bytes.count)])
        case 2, 3:
            // A few bits flipped, often in the header or the first payload bytes.
            for _ in 0..<random.int(1...4) {
                let index =
                    random.chance(0.5) ? random.int(0...min(bytes.count - 1, 40)) : random.int(0...bytes.count - 1)
                bytes[index] ^= 1 << UInt8(random.int(0...7))
            }
            return bytes
        case 4:
            // One byte set to a random or extreme value, with the length kept right.
            let index = random.int(min(bytes.count - 1, 20)...bytes.count - 1)
            bytes[index] = random.chance(0.5) ? 0xFF : UInt8(truncatingIfNeeded: random.value(UInt64.self))
            return bytes
        case 5:
            // Bytes inserted or removed inside the payload, the length field adjusted or not.
            let index = random.int(min(bytes.count, 20)...bytes.count)
            if random.chance(0.5) {
                bytes.insert(contentsOf: random.bytes(random.int(1...9)), at: index)
            } else if index < bytes.count {
                bytes.removeSubrange(index..<min(bytes.count, index + random.int(1...9)))
            }
            if random.chance(0.7) && bytes.count >= 4 {
                bytes.replaceSubrange(0..<4, with: [UInt8].le(UInt32(bytes.count)))
            }
            return bytes
        case 6:
            // An oversized or absurd length.
            let length: UInt32 =
                random.chance(0.5) ? UInt32(WireProtocol.frameBytesCeiling + random.int(1...1_000)) : random.value()
            bytes.replaceSubrange(0..<4, with: [UInt8].le(length))
            return bytes
        case 7:
            // Random bytes behind a good magic and version, with a consistent length.
            var payload = random.bytes(random.int(0...120))
            if random.chance(0.5) && !payload.isEmpty {
                payload[0] = random.chance(0.5) ? 1 : 0
            }
            let opcode =
                random.chance(0.8)
                ? Opcode.allCases[random.int(0...Opcode.allCases.count - 1)].rawValue : random.value()
            return Wire.frame(
                opcode: opcode,
                requestID: random.value(),
                status: random.chance(0.7) ? 0 : random.value(),
                flags: random.chance(0.7) ? 0 : UInt16(random.int(0...3)),
                payload: payload
            )
        case 8:
            // Pure noise.
            return random.bytes(random.int(0...64))
        default:
            // Two frames glued, the second mutated.
            let other = pool[random.int(0...pool.count - 1)]
            return bytes + Self.mutate(other, &random, pool: pool)
        }
    }

    static func checkRequest(_ bytes: [UInt8], limits: ConnectionLimits, _ tally: inout Tally) {
        switch Wire.decodeRequest(bytes, limits: limits) {
        case .needMoreBytes(let count):
            tally.needMore += 1
            Self.checkNeedMore(bytes, count)
        case .frame(let result, let byteCount):
            Self.checkFrameBounds(bytes, byteCount)
            switch result {
            case .success(let frame):
                tally.decoded += 1
                #expect(Wire.bytes(frame) == Array(bytes[..<byteCount]), "a decoded request is canonical")
            case .failure(let error):
                tally.refused += 1
                tally.reasons.insert("\(error.status.name)/\(error.reason.name)")
                Self.checkRefusal(error, bytes, byteCount)
            }
        case .fatal(let error):
            tally.fatal += 1
            tally.reasons.insert("\(error.status.name)/\(error.reason.name)")
            Self.checkFatal(error)
        }
    }

    static func checkReply(_ bytes: [UInt8], _ tally: inout Tally) {
        switch Wire.decodeReply(bytes) {
        case .needMoreBytes(let count):
            tally.needMore += 1
            Self.checkNeedMore(bytes, count)
        case .frame(let result, let byteCount):
            Self.checkFrameBounds(bytes, byteCount)
            switch result {
            case .success(let frame):
                tally.decoded += 1
                #expect(Wire.bytes(frame) == Array(bytes[..<byteCount]), "a decoded reply is canonical")
            case .failure(let error):
                tally.refused += 1
                tally.reasons.insert("\(error.status.name)/\(error.reason.name)")
                Self.checkRefusal(error, bytes, byteCount)
            }
        case .fatal(let error):
            tally.fatal += 1
            tally.reasons.insert("\(error.status.name)/\(error.reason.name)")
            Self.checkFatal(error)
        }
    }

    static func length(_ bytes: [UInt8]) -> Int {
        Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
    }

    static func checkNeedMore(_ bytes: [UInt8], _ count: Int) {
        let expected = bytes.count < 20 ? 20 - bytes.count : Self.length(bytes) - bytes.count
        #expect(count == expected && count > 0)
    }

    static func checkFrameBounds(_ bytes: [UInt8], _ byteCount: Int) {
        #expect(byteCount >= 20 && byteCount <= bytes.count && byteCount == Self.length(bytes))
    }

    static func checkRefusal(_ error: WireError, _ bytes: [UInt8], _ byteCount: Int) {
        #expect(error.status != .ok && !error.closesConnection && !error.message.isEmpty)
        #expect(error.offset >= 4 && error.offset <= byteCount, "\(error)")
        #expect(
            error.requestID
                == bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        )
        #expect(error.opcode == bytes[7])
        #expect((error.status == .malformed) == (error.reason != .none), "\(error)")
    }

    static func checkFatal(_ error: WireError) {
        #expect(error.closesConnection && !error.message.isEmpty)
        switch (error.status, error.reason) {
        case (.malformed, .badMagic), (.malformed, .lengthTooSmall), (.unsupportedVersion, .none),
            (.frameTooLarge, .none):
            break
        default:
            Issue.record("an unexpected fatal error: \(error)")
        }
    }

    @Test func aHundredThousandMutatedFramesNeverTrapAndAreJudgedPrecisely() {
        let pool = Self.pool(seed: 0xF022)
        var random = WireRandom(seed: 0xF022_0001)
        let tight = ConnectionLimits(frameBytesMax: 4_096, operationsPerRequestMax: 4, inFlightBytesMax: 4_096)
        var requests = Tally()
        var replies = Tally()
        for iteration in 0..<100_000 {
            let bytes = Self.mutate(pool[random.int(0...pool.count - 1)], &random, pool: pool)
            Self.checkRequest(bytes, limits: iteration % 4 == 0 ? tight : .defaults, &requests)
            Self.checkReply(bytes, &replies)
        }
        // Every kind of outcome happened, so the checks above were exercised.
        for tally in [requests, replies] {
            #expect(tally.needMore > 1_000 && tally.decoded > 1_000 && tally.refused > 1_000 && tally.fatal > 1_000)
        }
        #expect(requests.reasons.count >= 24, "\(requests.reasons.sorted())")
        #expect(replies.reasons.count >= 12, "\(replies.reasons.sorted())")
    }

    @Test func aStreamOfMutatedFramesInRandomPiecesNeverTraps() {
        let pool = Self.pool(seed: 0x57E4)
        var random = WireRandom(seed: 0x57E4_0001)
        var frames = 0
        var fatal = 0
        for _ in 0..<300 {
            var stream: [UInt8] = []
            for _ in 0..<random.int(1...12) {
                let frame = pool[random.int(0...pool.count - 1)]
                stream += random.chance(0.8) ? frame : Self.mutate(frame, &random, pool: pool)
            }
            var decoder = FrameDecoder()
            var position = 0
            streaming: while position < stream.count {
                let end = min(stream.count, position + random.int(1...300))
                decoder.append(stream[position..<end])
                position = end
                while let next = decoder.nextRequest(limits: .defaults) {
                    if case .failure(let error) = next, error.closesConnection {
                        fatal += 1
                        break streaming
                    }
                    frames += 1
                    #expect(decoder.bufferedByteCount >= 0)
                }
            }
        }
        #expect(frames > 500 && fatal > 10)
    }
}
