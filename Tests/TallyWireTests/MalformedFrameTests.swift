import TallyCore
import TallyWire
import Testing

/// Each way a frame can be malformed, with its exact error: status, reason, offset, the request id
/// and opcode echoed, and whether the connection closes.
@Suite("Malformed frames")
struct MalformedFrameTests {
    struct Expected {
        var status: ReplyStatus
        var reason: MalformedReason = .none
        var offset: Int
        var requestID: UInt64 = 1
        var opcode: UInt8
        var closes = false
    }

    static func check(
        request bytes: [UInt8],
        limits: ConnectionLimits = .defaults,
        _ expected: Expected,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let error = Wire.requestError(bytes, limits: limits) else {
            Issue.record("the request was not refused", sourceLocation: sourceLocation)
            return
        }
        Self.compare(error, expected, sourceLocation: sourceLocation)
        if case .frame(_, let byteCount) = Wire.decodeRequest(bytes, limits: limits) {
            #expect(byteCount == bytes.count, "the refused frame is consumed whole", sourceLocation: sourceLocation)
        }
    }

    static func check(reply bytes: [UInt8], _ expected: Expected, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = Wire.replyError(bytes) else {
            Issue.record("the reply was not refused", sourceLocation: sourceLocation)
            return
        }
        Self.compare(error, expected, sourceLocation: sourceLocation)
    }

    static func compare(_ error: WireError, _ expected: Expected, sourceLocation: SourceLocation) {
        #expect(error.status == expected.status, "\(error)", sourceLocation: sourceLocation)
        #expect(error.reason == expected.reason, "\(error)", sourceLocation: sourceLocation)
        #expect(error.offset == expected.offset, "\(error)", sourceLocation: sourceLocation)
        #expect(error.requestID == expected.requestID, "\(error)", sourceLocation: sourceLocation)
        #expect(error.opcode == expected.opcode, "\(error)", sourceLocation: sourceLocation)
        #expect(error.closesConnection == expected.closes, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
    }

    static let ping = Opcode.ping.rawValue
    static let submit = Opcode.submitBatch.rawValue

    // MARK: - The header

    @Test func headerErrorsThatEndTheStream() {
        let good = Wire.frame(opcode: Self.ping, requestID: 5)
        var badMagic = good
        badMagic[4] = 0x47
        Self.check(
            request: badMagic,
            Expected(status: .malformed, reason: .badMagic, offset: 4, requestID: 0, opcode: 0, closes: true)
        )
        // An HTTP request on the socket.
        Self.check(
            request: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            Expected(status: .malformed, reason: .badMagic, offset: 4, requestID: 0, opcode: 0, closes: true)
        )
        for version: UInt8 in [0, 2, 255] {
            Self.check(
                request: Wire.frame(version: version, opcode: Self.ping),
                Expected(status: .unsupportedVersion, offset: 6, requestID: 0, opcode: 0, closes: true)
            )
            Self.check(
                reply: Wire.frame(version: version, opcode: Self.ping),
                Expected(status: .unsupportedVersion, offset: 6, requestID: 0, opcode: 0, closes: true)
            )
        }
        for length in [0, 1, 19] {
            Self.check(
                request: Wire.frame(length: length, opcode: Self.ping),
                Expected(status: .malformed, reason: .lengthTooSmall, offset: 0, requestID: 0, opcode: 0, closes: true)
            )
        }
        let limits = ConnectionLimits(frameBytesMax: 4_096, inFlightBytesMax: 4_096)
        Self.check(
            request: Wire.frame(length: 4_097, opcode: Self.submit, requestID: 6),
            limits: limits,
            Expected(status: .frameTooLarge, offset: 0, requestID: 6, opcode: Self.submit, closes: true)
        )
        Self.check(
            request: Wire.frame(length: Int(UInt32.max), opcode: Self.submit, requestID: 6),
            Expected(status: .frameTooLarge, offset: 0, requestID: 6, opcode: Self.submit, closes: true)
        )
        Self.check(
            reply: Wire.frame(length: WireProtocol.frameBytesCeiling + 1, opcode: Self.submit, requestID: 6),
            Expected(status: .frameTooLarge, offset: 0, requestID: 6, opcode: Self.submit, closes: true)
        )
        // Exactly at the limit: waits for the body.
        guard
            case .needMoreBytes(4_076) = Wire.decodeRequest(
                Wire.frame(length: 4_096, opcode: Self.submit),
                limits: limits
            )
        else {
            Issue.record("a frame at the limit was not awaited")
            return
        }
    }

    @Test func headerErrorsThatSkipTheFrame() {
        for opcode: UInt8 in [0, 0x04, 0x12, 0x28, 0x7F, 0x80, 0xFF] {
            Self.check(
                request: Wire.frame(opcode: opcode, requestID: 3, payload: [9, 9]),
                Expected(status: .unknownOpcode, offset: 7, requestID: 3, opcode: opcode)
            )
        }
        Self.check(
            request: Wire.frame(opcode: Self.ping, requestID: 0),
            Expected(status: .malformed, reason: .requestIDZero, offset: 8, requestID: 0, opcode: Self.ping)
        )
        Self.check(
            request: Wire.frame(opcode: Self.ping, status: 6),
            Expected(status: .malformed, reason: .statusNotZero, offset: 16, opcode: Self.ping)
        )
        // Bit 0 on an opcode without a mode; an undefined bit on one with.
        for opcode in [Opcode.handshake, .ping, .statistics, .waitUntilDurable] {
            Self.check(
                request: Wire.frame(opcode: opcode.rawValue, flags: 1),
                Expected(status: .malformed, reason: .flagsInvalid, offset: 18, opcode: opcode.rawValue)
            )
        }
        Self.check(
            request: Wire.frame(opcode: Opcode.balances.rawValue, flags: 2, payload: .le(UInt32(1)) + .le(UInt64(1))),
            Expected(status: .malformed, reason: .flagsInvalid, offset: 18, opcode: Opcode.balances.rawValue)
        )
        Self.check(
            request: Wire.frame(opcode: Self.submit, flags: 0x8001),
            Expected(status: .malformed, reason: .flagsInvalid, offset: 18, opcode: Self.submit)
        )
    }

    // MARK: - Payloads

    @Test func fixedPayloadsMustBeExact() {
        Self.check(
            request: Wire.frame(opcode: Self.ping, payload: [0]),
            Expected(status: .malformed, reason: .trailingBytes, offset: 20, opcode: Self.ping)
        )
        Self.check(
            request: Wire.frame(opcode: Opcode.statistics.rawValue, payload: [0, 0]),
            Expected(status: .malformed, reason: .trailingBytes, offset: 20, opcode: Opcode.statistics.rawValue)
        )
        let wait = Opcode.waitUntilDurable.rawValue
        Self.check(
            request: Wire.frame(opcode: wait, payload: .le(UInt64(5)) + [1, 0]),
            Expected(status: .malformed, reason: .truncated, offset: 28, opcode: wait)
        )
        Self.check(
            request: Wire.frame(opcode: wait, payload: .le(UInt64(5)) + .le(UInt32(1)) + [0]),
            Expected(status: .malformed, reason: .trailingBytes, offset: 32, opcode: wait)
        )
        let transaction = Opcode.transaction.rawValue
        Self.check(
            request: Wire.frame(opcode: transaction, payload: [1, 2, 3]),
            Expected(status: .malformed, reason: .truncated, offset: 20, opcode: transaction)
        )
    }

    @Test func handshakeFields() {
        let handshake = Opcode.handshake.rawValue
        Self.check(
            request: Wire.frame(opcode: handshake, payload: [0, 1, 0]),
            Expected(status: .malformed, reason: .valueOutOfRange, offset: 20, opcode: handshake)
        )
        Self.check(
            request: Wire.frame(opcode: handshake, payload: [3, 2, 0]),
            Expected(status: .malformed, reason: .valueOutOfRange, offset: 21, opcode: handshake)
        )
        Self.check(
            request: Wire.frame(opcode: handshake, payload: [1, 1, 65] + Array(repeating: 0x61, count: 65)),
            Expected(status: .malformed, reason: .lengthOutOfRange, offset: 22, opcode: handshake)
        )
        Self.check(
            request: Wire.frame(opcode: handshake, payload: [1, 1, 4, 0x61, 0x62]),
            Expected(status: .malformed, reason: .truncated, offset: 23, opcode: handshake)
        )
        Self.check(
            request: Wire.frame(opcode: handshake, payload: [1, 1, 2, 0xC3, 0x28]),
            Expected(status: .malformed, reason: .textInvalid, offset: 23, opcode: handshake)
        )
        Self.check(
            request: Wire.frame(opcode: handshake, payload: [1, 1, 0, 0]),
            Expected(status: .malformed, reason: .trailingBytes, offset: 23, opcode: handshake)
        )
    }

    @Test func listCountsAreCheckedBeforeAnythingIsReserved() {
        let balances = Opcode.balances.rawValue
        Self.check(
            request: Wire.frame(opcode: balances, payload: .le(UInt32(0))),
            Expected(status: .malformed, reason: .countOutOfRange, offset: 20, opcode: balances)
        )
        // A forged count: a billion ids announced, two sent.
        Self.check(
            request: Wire.frame(opcode: balances, payload: .le(UInt32(16_384)) + .le(UInt64(1)) + .le(UInt64(2))),
            Expected(status: .malformed, reason: .truncated, offset: 24, opcode: balances)
        )
        Self.check(
            request: Wire.frame(opcode: balances, payload: .le(UInt32(1_000_000_000)) + .le(UInt64(1))),
            Expected(status: .tooManyOperations, offset: 20, opcode: balances)
        )
        let limits = ConnectionLimits(operationsPerRequestMax: 2)
        let three = .le(UInt32(3)) + .le(UInt64(1)) + .le(UInt64(2)) + .le(UInt64(3))
        for opcode in [Opcode.balances, .accounts, .holds] {
            Self.check(
                request: Wire.frame(opcode: opcode.rawValue, payload: three),
                limits: limits,
                Expected(status: .tooManyOperations, offset: 20, opcode: opcode.rawValue)
            )
        }
        Self.check(
            request: Wire.frame(
                opcode: Opcode.assets.rawValue,
                payload: .le(UInt32(3)) + Array(repeating: 0x41, count: 48)
            ),
            limits: limits,
            Expected(status: .tooManyOperations, offset: 20, opcode: Opcode.assets.rawValue)
        )
        Self.check(
            request: Wire.frame(opcode: balances, payload: .le(UInt32(1)) + .le(UInt64(1)) + [0]),
            Expected(status: .malformed, reason: .trailingBytes, offset: 32, opcode: balances)
        )
    }

    @Test func aggregateFields() {
        let one = Opcode.aggregateBalance.rawValue
        let prefix = .le(UInt16(1)) + .le(UInt128(0x4453_55))
        Self.check(
            request: Wire.frame(opcode: one, payload: prefix + [3] + .le(UInt64(0))),
            Expected(status: .malformed, reason: .valueOutOfRange, offset: 38, opcode: one)
        )
        Self.check(
            request: Wire.frame(opcode: one, payload: prefix + [0] + .le(UInt64(7))),
            Expected(status: .malformed, reason: .valueOutOfRange, offset: 39, opcode: one)
        )
        let page = Opcode.aggregateBalances.rawValue
        Self.check(
            request: Wire.frame(opcode: page, payload: prefix + [0] + .le(UInt64(0)) + .le(UInt32(10))),
            Expected(status: .malformed, reason: .valueOutOfRange, offset: 38, opcode: page)
        )
        for limit: UInt32 in [0, 16_385] {
            Self.check(
                request: Wire.frame(opcode: page, payload: prefix + [1] + .le(UInt64(0)) + .le(limit)),
                Expected(status: .malformed, reason: .countOutOfRange, offset: 47, opcode: page)
            )
        }
    }

    @Test func submitErrorsNameTheirOffsetInTheFrame() {
        func batch(_ operations: [(TallyCore.Operation, Bool)]) -> [UInt8] {
            var batch = OperationBatch()
            for (operation, linked) in operations {
                batch.append(operation, linked: linked)
            }
            var bytes: [UInt8] = []
            batch.encode(into: &bytes)
            return bytes
        }
        let expiry = batch([(.expireHold(hold: 3), false)])
        #expect(expiry.count == 16)
        Self.check(
            request: Wire.frame(opcode: Self.submit),
            Expected(status: .malformed, reason: .batchTruncated, offset: 20, opcode: Self.submit)
        )
        Self.check(
            request: Wire.frame(opcode: Self.submit, payload: [1, 0, 0, 0, 0, 0]),
            Expected(status: .malformed, reason: .countOutOfRange, offset: 22, opcode: Self.submit)
        )
        Self.check(
            request: Wire.frame(opcode: Self.submit, payload: [2, 0] + Array(expiry[2...])),
            Expected(status: .malformed, reason: .batchVersionUnsupported, offset: 20, opcode: Self.submit)
        )
        Self.check(
            request: Wire.frame(opcode: Self.submit, payload: [1, 0] + .le(UInt32(16_385))),
            Expected(status: .tooManyOperations, offset: 22, opcode: Self.submit)
        )
        let two = batch([(.expireHold(hold: 3), true), (.expireHold(hold: 4), false)])
        Self.check(
            request: Wire.frame(opcode: Self.submit, payload: two),
            limits: ConnectionLimits(operationsPerRequestMax: 1),
            Expected(status: .tooManyOperations, offset: 22, opcode: Self.submit)
        )
        var unknownKind = expiry
        unknownKind[6] = 11
        Self.check(
            request: Wire.frame(opcode: Self.submit, payload: unknownKind),
            Expected(status: .malformed, reason: .batchUnknownOperationKind, offset: 26, opcode: Self.submit)
        )
        var flags = expiry
        flags[7] = 2
        Self.check(
            request: Wire.frame(opcode: Self.submit, payload: flags),
            Expected(status: .malformed, reason: .batchOperationFlagsInvalid, offset: 27, opcode: Self.submit)
        )
        Self.check(
            request: Wire.frame(opcode: Self.submit, payload: expiry + [0]),
            Expected(status: .malformed, reason: .batchTrailingBytes, offset: 36, opcode: Self.submit)
        )
        Self.check(
            request: Wire.frame(opcode: Self.submit, payload: Array(two[..<20])),
            Expected(status: .malformed, reason: .batchTruncated, offset: 38, opcode: Self.submit)
        )
        let post = batch([
            (.post(TransactionHeader(key: 1, type: .capture), legs: [.debit(1, 5), .credit(2, 5)]), false)
        ])
        var side = post
        side[6 + 2 + 42 + 2 + 8] = 3  // leg 0's side
        Self.check(
            request: Wire.frame(opcode: Self.submit, payload: side),
            Expected(status: .malformed, reason: .batchSideInvalid, offset: 20 + 60, opcode: Self.submit)
        )
    }

    // MARK: - Replies

    @Test func replyHeaderErrors() {
        Self.check(
            reply: Wire.frame(opcode: Self.ping, requestID: 0),
            Expected(status: .malformed, reason: .requestIDZero, offset: 8, requestID: 0, opcode: Self.ping)
        )
        Self.check(
            reply: Wire.frame(opcode: Self.ping, requestID: 4, flags: 2),
            Expected(status: .malformed, reason: .flagsInvalid, offset: 18, requestID: 4, opcode: Self.ping)
        )
        Self.check(
            reply: Wire.frame(opcode: 0x55, requestID: 4),
            Expected(status: .unknownOpcode, offset: 7, requestID: 4, opcode: 0x55)
        )
        // A failure of an unknown opcode and an unknown status decodes: the client fails request 4.
        let failure = Wire.frame(opcode: 0x55, requestID: 4, status: 999, payload: [0, 0, 0, 0, 0, 0, 0, 0])
        guard case .frame(.success(let frame), _) = Wire.decodeReply(failure) else {
            Issue.record("a failure with an unknown status was refused")
            return
        }
        #expect(frame.reply.status == ReplyStatus(rawValue: 999) && frame.opcode == 0x55)
        Self.check(
            reply: Wire.frame(opcode: 0x55, requestID: 4, status: 6, payload: [0, 0, 0, 0, 0, 0, 2, 0, 0xFF, 0xFE]),
            Expected(status: .malformed, reason: .textInvalid, offset: 28, requestID: 4, opcode: 0x55)
        )
    }

    @Test func replyPayloadErrors() {
        func reply(_ opcode: Opcode, _ payload: [UInt8]) -> [UInt8] {
            Wire.frame(opcode: opcode.rawValue, requestID: 2, payload: payload)
        }
        func expected(_ opcode: Opcode, _ reason: MalformedReason, _ offset: Int) -> Expected {
            Expected(status: .malformed, reason: reason, offset: offset, requestID: 2, opcode: opcode.rawValue)
        }
        // A missing item whose bytes are not zero.
        Self.check(
            reply: reply(.balances, .le(UInt32(1)) + [0] + Array(repeating: 0, count: 63) + [1]),
            expected(.balances, .valueOutOfRange, 88)
        )
        Self.check(
            reply: reply(.balances, .le(UInt32(1)) + [2] + Array(repeating: 0, count: 64)),
            expected(.balances, .valueOutOfRange, 24)
        )
        // A result's flags and reserved bytes.
        let submitHead = .le(UInt64(1)) + .le(UInt64(2)) + .le(UInt32(1))
        Self.check(
            reply: reply(.submitBatch, submitHead + [0, 0, 0, 0, 2, 0, 0, 0] + .le(UInt64(0))),
            expected(.submitBatch, .valueOutOfRange, 44)
        )
        Self.check(
            reply: reply(.submitBatch, submitHead + [0, 0, 0, 0, 1, 0, 9, 0] + .le(UInt64(0))),
            expected(.submitBatch, .valueOutOfRange, 46)
        )
        Self.check(
            reply: reply(.submitBatch, .le(UInt64(1)) + .le(UInt64(2)) + .le(UInt32(0))),
            expected(.submitBatch, .countOutOfRange, 36)
        )
        // Statistics: a name outside the alphabet, a name twice, a kind out of range.
        let entry = [3] + Array("a.b".utf8) + [1] + .le(UInt64(5))
        Self.check(
            reply: reply(.statistics, .le(UInt16(1)) + [1, 0x41, 1] + .le(UInt64(5))),
            expected(.statistics, .textInvalid, 23)
        )
        Self.check(
            reply: reply(.statistics, .le(UInt16(2)) + entry + entry),
            expected(.statistics, .valueOutOfRange, 35)
        )
        Self.check(
            reply: reply(.statistics, .le(UInt16(1)) + [1, 0x61, 3] + .le(UInt64(5))),
            expected(.statistics, .valueOutOfRange, 24)
        )
        Self.check(
            reply: reply(.statistics, .le(UInt16(1)) + [0, 1] + .le(UInt64(5)) + [0]),
            expected(.statistics, .lengthOutOfRange, 22)
        )
        // A page out of order.
        let balance = Array(repeating: UInt8(0), count: 64)
        Self.check(
            reply: reply(
                .aggregateBalances,
                [1] + .le(UInt32(2)) + .le(UInt64(5)) + balance + .le(UInt64(5)) + balance
            ),
            expected(.aggregateBalances, .valueOutOfRange, 97)
        )
        // Transactions: the outcome, the kind, a final flag on a post, a side.
        Self.check(reply: reply(.transaction, [4]), expected(.transaction, .valueOutOfRange, 20))
        Self.check(reply: reply(.transaction, [2, 0]), expected(.transaction, .trailingBytes, 21))
        var record =
            Array(repeating: UInt8(0), count: 88) + .le(UInt16(0)) + .le(UInt16(0)) + .le(UInt16(0)) + .le(UInt16(0))
        record[8] = 4
        guard case .frame(.success, _) = Wire.decodeReply(reply(.transaction, [1] + record)) else {
            Issue.record("a plain post was refused")
            return
        }
        var kind = record
        kind[8] = 2
        Self.check(reply: reply(.transaction, [1] + kind), expected(.transaction, .valueOutOfRange, 29))
        var final = record
        final[9] = 1
        Self.check(reply: reply(.transaction, [1] + final), expected(.transaction, .valueOutOfRange, 30))
        var leg = record
        leg[88] = 1
        Self.check(
            reply: reply(.transaction, [1] + leg[..<90] + .le(UInt64(1)) + [0] + .le(UInt128(1)) + leg[90...]),
            expected(.transaction, .valueOutOfRange, 119)
        )
        var long = record
        long[92] = 0x01
        long[93] = 0x04
        Self.check(reply: reply(.transaction, [1] + long), expected(.transaction, .lengthOutOfRange, 113))
        // A remembered result marked as a replay.
        Self.check(
            reply: reply(.idempotencyRecord, [1] + .le(UInt128(9)) + [0, 0, 0, 0, 1, 0, 0, 0] + .le(UInt64(0)) + [0]),
            expected(.idempotencyRecord, .valueOutOfRange, 41)
        )
    }

    @Test func handshakeReplyFields() {
        func reply(
            version: UInt8 = 1,
            flags: UInt8 = 0,
            frame: UInt32 = 16_777_204,
            inFlight: UInt32 = 33_554_432,
            name: [UInt8] = [0x74]
        )
            -> [UInt8]
        {
            var limits: [UInt8] = .le(frame)
            for field in [16_384, inFlight, 256, 0, 0] as [UInt32] {
                limits += [UInt8].le(field)
            }
            return Wire.frame(
                opcode: Opcode.handshake.rawValue,
                requestID: 2,
                payload: [version, 1, 1, flags] + limits + [UInt8(name.count)] + name
            )
        }
        func expected(_ reason: MalformedReason, _ offset: Int) -> Expected {
            Expected(
                status: .malformed,
                reason: reason,
                offset: offset,
                requestID: 2,
                opcode: Opcode.handshake.rawValue
            )
        }
        guard case .frame(.success, _) = Wire.decodeReply(reply()) else {
            Issue.record("a good handshake reply was refused")
            return
        }
        Self.check(reply: reply(version: 2), expected(.valueOutOfRange, 20))
        Self.check(reply: reply(flags: 2), expected(.valueOutOfRange, 23))
        Self.check(reply: reply(frame: 100), expected(.valueOutOfRange, 24))
        Self.check(reply: reply(frame: 16_777_205), expected(.valueOutOfRange, 24))
        Self.check(reply: reply(inFlight: 4_096), expected(.valueOutOfRange, 32))
        Self.check(reply: reply(name: []), expected(.lengthOutOfRange, 48))
    }
}
