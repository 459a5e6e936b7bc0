import TallyCore
import TallyWire
import Testing

/// Every request and reply comes back exactly, and its encoding is canonical: decoding a frame and
/// encoding the result gives the frame back byte for byte.
@Suite("Round trips")
struct RoundTripTests {
    /// Encodes `frame` after some bytes already in the buffer, decodes it back and compares.
    static func checkRoundTrip(_ frame: RequestFrame, sourceLocation: SourceLocation = #_sourceLocation) {
        var bytes: [UInt8] = [0xAA, 0xBB, 0xCC]
        frame.encode(into: &bytes)
        #expect(bytes.prefix(3) == [0xAA, 0xBB, 0xCC], "encoding appends", sourceLocation: sourceLocation)
        bytes.removeFirst(3)
        // A second frame behind it must not be touched.
        let trailing = Wire.bytes(RequestFrame(requestID: 9, .ping))
        guard case .frame(.success(let decoded), let byteCount) = Wire.decodeRequest(bytes + trailing) else {
            Issue.record("\(frame.request.opcode) did not decode", sourceLocation: sourceLocation)
            return
        }
        #expect(byteCount == bytes.count, sourceLocation: sourceLocation)
        #expect(decoded == frame, sourceLocation: sourceLocation)
        #expect(Wire.bytes(decoded) == bytes, "canonical", sourceLocation: sourceLocation)
    }

    static func checkRoundTrip(_ frame: ReplyFrame, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Wire.bytes(frame)
        let trailing = Wire.bytes(ReplyFrame(requestID: 9, .ping))
        guard case .frame(.success(let decoded), let byteCount) = Wire.decodeReply(bytes + trailing) else {
            Issue.record("\(frame.reply) did not decode: \(Wire.decodeReply(bytes))", sourceLocation: sourceLocation)
            return
        }
        #expect(byteCount == bytes.count, sourceLocation: sourceLocation)
        #expect(decoded == frame, sourceLocation: sourceLocation)
        #expect(Wire.bytes(decoded) == bytes, "canonical", sourceLocation: sourceLocation)
    }

    @Test(arguments: Opcode.allCases)
    func randomRequestsRoundTrip(opcode: Opcode) {
        var random = WireRandom(seed: 0x5245_5155 ^ UInt64(opcode.rawValue))
        for _ in 0..<300 {
            Self.checkRoundTrip(RequestFrame(requestID: max(1, random.value()), random.request(opcode)))
        }
    }

    @Test(arguments: Opcode.allCases)
    func randomRepliesRoundTrip(opcode: Opcode) {
        var random = WireRandom(seed: 0x5245_504C ^ UInt64(opcode.rawValue))
        for _ in 0..<300 {
            Self.checkRoundTrip(
                ReplyFrame(requestID: max(1, random.value()), random.reply(opcode), isClosing: random.chance(0.2))
            )
        }
    }

    @Test func errorRepliesRoundTripForEveryStatusAndOpcode() {
        var random = WireRandom(seed: 0x4552_52)
        for info in ReplyStatus.all where info.status != .ok {
            for opcode in [0, 0x7F, 0xFF] + Opcode.allCases.map(\.rawValue) {
                Self.checkRoundTrip(
                    ReplyFrame(
                        requestID: random.value(),
                        opcode: opcode,
                        failure: ErrorReply(
                            info.status,
                            reason: info.status == .malformed ? .batchSideInvalid : .none,
                            offset: random.value(),
                            message: random.text(maximum: 300)
                        ),
                        isClosing: random.chance(0.5)
                    )
                )
            }
        }
        for _ in 0..<500 {
            Self.checkRoundTrip(random.replyFrame())
        }
    }

    @Test func theAppliedFlagCarriesEachModeAndOnlyIt() {
        let durable = Wire.bytes(RequestFrame(requestID: 1, .balances(BalancesRequest([1]))))
        let applied = Wire.bytes(RequestFrame(requestID: 1, .balances(BalancesRequest([1], consistency: .applied))))
        #expect(durable[18] == 0 && applied[18] == 1)
        #expect(Array(durable[19...]) == Array(applied[19...]) && Array(durable[..<18]) == Array(applied[..<18]))

        var batch = OperationBatch()
        batch.append(.expireHold(hold: 3))
        let submit = Wire.bytes(
            RequestFrame(requestID: 1, .submitBatch(SubmitBatchRequest(batch, acknowledgement: .applied)))
        )
        #expect(submit[18] == 1)
        let ping = Wire.bytes(RequestFrame(requestID: 1, .ping))
        #expect(ping[18] == 0)
    }

    @Test func requestsAndRepliesAtTheCeilingsRoundTrip() {
        var random = WireRandom(seed: 0xCE11)
        let ceiling = WireProtocol.operationsPerRequestCeiling
        let ids = (0..<ceiling).map { AccountID(rawValue: UInt64($0) &* 0x9E37_79B9) }
        Self.checkRoundTrip(RequestFrame(requestID: .max, .balances(BalancesRequest(ids))))
        Self.checkRoundTrip(RequestFrame(requestID: 1, .accounts(AccountsRequest(ids, consistency: .applied))))
        Self.checkRoundTrip(
            RequestFrame(
                requestID: 1,
                .handshake(HandshakeRequest(versions: 1...255, clientName: String(repeating: "n", count: 64)))
            )
        )
        Self.checkRoundTrip(
            RequestFrame(requestID: 1, .submitBatch(SubmitBatchRequest(random.batch(operations: ceiling))))
        )

        let results = (0..<ceiling).map { _ in random.result() }
        Self.checkRoundTrip(
            ReplyFrame(
                requestID: 1,
                .submitBatch(SubmitBatchReply(sequence: .max, recordedTime: .zero, results: results))
            )
        )
        let accounts: [AccountInfo?] = (0..<ceiling).map { _ in
            AccountInfo(
                id: 1,
                asset: "USD",
                kind: .merchantPayable,
                normalSide: .credit,
                merchant: .max,
                partner: .max,
                flags: .all,
                status: .closed,
                balance: random.balance()
            )
        }
        let frame = ReplyFrame(requestID: 1, .accounts(AccountsReply(accounts)))
        Self.checkRoundTrip(frame)
        #expect(Wire.bytes(frame).count <= WireProtocol.frameBytesCeiling)
        Self.checkRoundTrip(
            ReplyFrame(
                requestID: 1,
                .statistics(
                    StatisticsReply(
                        (0..<WireProtocol.statisticsMax).map {
                            Statistic("s\($0)" + String(repeating: "x", count: 58), .gauge, UInt64($0))
                        }
                    )
                )
            )
        )
        let longest = String(repeating: "€", count: 400)
        let error = ErrorReply(.internalError, message: longest)
        #expect(error.message.utf8.count == 1_023, "cut at a character boundary below 1,024 bytes")
        Self.checkRoundTrip(ReplyFrame(requestID: 1, opcode: 0x10, failure: error))
    }

    @Test func aSubmitFramesTheBatchEncodingUnchanged() {
        var random = WireRandom(seed: 0xBA7C)
        for _ in 0..<50 {
            let batch = random.batch()
            var expected: [UInt8] = []
            batch.encode(into: &expected)
            let request = SubmitBatchRequest(batch)
            let bytes = Wire.bytes(RequestFrame(requestID: 5, .submitBatch(request)))
            #expect(Array(bytes[WireProtocol.headerBytes...]) == expected)
            #expect(bytes.count == request.frameByteCount)
        }
    }

    @Test func aHandshakeAgreesOnTheHighestSharedVersion() {
        func agreed(_ client: ClosedRange<UInt8>, _ server: ClosedRange<UInt8>) -> UInt8 {
            HandshakeReply(
                answering: HandshakeRequest(versions: client, clientName: ""),
                versions: server,
                isReadOnly: false,
                limits: .defaults,
                serverVersion: "t"
            ).version
        }
        #expect(agreed(1...1, 1...1) == 1)
        #expect(agreed(1...3, 1...2) == 2)
        #expect(agreed(2...4, 1...3) == 3)
        #expect(agreed(2...3, 1...1) == 0)
        #expect(agreed(1...1, 2...5) == 0)
    }

    @Test func aWireErrorBecomesItsReply() {
        let error = WireError(
            .malformed,
            reason: .batchSideInvalid,
            offset: 93,
            "invalid side 3",
            requestID: 77,
            opcode: 0x10
        )
        let frame = ReplyFrame(error: error)
        #expect(frame.requestID == 77 && frame.opcode == 0x10 && !frame.isClosing)
        #expect(
            frame.reply
                == .failure(ErrorReply(.malformed, reason: .batchSideInvalid, offset: 93, message: "invalid side 3"))
        )
        let bytes = Wire.bytes(frame)
        #expect(bytes[16] == 1 && bytes[17] == 0, "status malformed in the header")
    }
}
