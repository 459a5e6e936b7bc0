import Foundation
import TallyCore
import TallyStorage
import Testing

@testable import TallyWire

/// docs/PROTOCOL.md must say what the code does: its worked examples are the codec's bytes, its
/// tables of opcodes, statuses, reasons and result codes are the code's, and its limits hold.
@Suite("Protocol document")
struct ProtocolDocumentTests {
    static func document() throws -> String {
        try String(contentsOf: Wire.repository.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
    }

    /// The bytes of the dump after `<!-- example: name -->`, checking that each line's offset is
    /// where it starts.
    static func example(_ name: String, in text: String) throws -> [UInt8] {
        let start = try #require(text.range(of: "<!-- example: \(name) -->"))
        let block = try #require(text[start.upperBound...].range(of: "```text\n"))
        let end = try #require(text[block.upperBound...].range(of: "```"))
        var bytes: [UInt8] = []
        for line in text[block.upperBound..<end.lowerBound].split(separator: "\n") {
            // A byte line is `offset  hex bytes  meaning`, columns two spaces or more apart; other
            // lines are notes.
            let columns = line.split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            guard columns.count >= 2, let offset = Int(columns[0]) else { continue }
            #expect(offset == bytes.count, "\(name): the line at \(offset) starts at \(bytes.count)")
            let pairs = columns[1].split(separator: " ")
            #expect(
                pairs.allSatisfy { $0.count == 2 && UInt8($0, radix: 16) != nil },
                "\(name): not hex: \(columns[1])"
            )
            bytes += pairs.compactMap { UInt8($0, radix: 16) }
        }
        return bytes
    }

    /// The rows of the table after `<!-- marker -->`, as trimmed cells without backticks.
    static func table(_ marker: String, in text: String) throws -> [[String]] {
        let start = try #require(text.range(of: "<!-- \(marker) -->"))
        var rows: [[String]] = []
        for line in text[start.upperBound...].split(separator: "\n").dropFirst(2) {
            guard line.hasPrefix("|") else { break }
            rows.append(
                line.split(separator: "|").map {
                    $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "")
                }
            )
        }
        return rows
    }

    @Test func theWorkedExamplesAreTheCodecsBytes() throws {
        let text = try Self.document()
        for (marker, bytes) in ProtocolExamples.all {
            #expect(Wire.hex(try Self.example(marker, in: text)) == Wire.hex(bytes), "\(marker)")
        }
    }

    @Test func theWorkedExamplesDecodeToWhatTheySay() throws {
        guard
            case .frame(.success(let handshake), 30) = Wire.decodeRequest(Wire.bytes(ProtocolExamples.handshakeRequest)),
            case .frame(.success(let submit), 132) = Wire.decodeRequest(Wire.bytes(ProtocolExamples.submitRequest))
        else {
            Issue.record("an example request does not decode")
            return
        }
        #expect(handshake == ProtocolExamples.handshakeRequest && submit == ProtocolExamples.submitRequest)
        guard case .submitBatch(let request) = submit.request else {
            Issue.record("not a submit")
            return
        }
        #expect(
            request.batch.operations == [
                .post(
                    TransactionHeader(
                        key: IdempotencyKey(rawValue: 0x0F0E_0D0C_0B0A_0908_0706_0504_0302_0100),
                        type: .capture,
                        effectiveTime: Timestamp(nanosecondsSinceEpoch: 1_767_225_600_000_000_000)
                    ),
                    legs: [.debit(2, 1_050), .credit(1, 1_050)],
                    references: ExternalReferences(paymentID: "pay-1001")
                )
            ]
        )
        for frame in [ProtocolExamples.handshakeReply, ProtocolExamples.submitReply, ProtocolExamples.malformedReply] {
            guard case .frame(.success(let decoded), _) = Wire.decodeReply(Wire.bytes(frame)) else {
                Issue.record("an example reply does not decode")
                continue
            }
            #expect(decoded == frame)
        }

        // The malformed example is the server's real answer to the submit with a bad side.
        var bad = Wire.bytes(ProtocolExamples.submitRequest)
        bad[8] = 3
        bad[88] = 3
        guard case .frame(.failure(let error), 132) = Wire.decodeRequest(bad) else {
            Issue.record("the bad submit was not refused")
            return
        }
        #expect(ReplyFrame(error: error) == ProtocolExamples.malformedReply)
    }

    @Test func theStatusTableIsTheCodes() throws {
        let rows = try Self.table("status-codes", in: try Self.document())
        #expect(rows.count == ReplyStatus.all.count)
        for (row, info) in zip(rows, ReplyStatus.all) {
            let closes: String
            switch info.closes {
            case .never: closes = "never"
            case .always: closes = "always"
            case .sometimes: closes = "sometimes"
            }
            #expect(
                row == [
                    String(info.status.rawValue), info.name, closes,
                    info.meaning.replacingOccurrences(of: "`", with: ""),
                ]
            )
        }
        let numbers = ReplyStatus.all.map(\.status.rawValue)
        #expect(numbers == numbers.sorted() && Set(numbers).count == numbers.count)
        #expect(Set(ReplyStatus.all.map(\.name)).count == numbers.count)
    }

    @Test func theReasonTableIsTheCodes() throws {
        let rows = try Self.table("malformed-reasons", in: try Self.document())
        #expect(rows.count == MalformedReason.all.count)
        for (row, info) in zip(rows, MalformedReason.all) {
            #expect(
                row == [String(info.reason.rawValue), info.name, info.meaning.replacingOccurrences(of: "`", with: "")]
            )
        }
        let numbers = MalformedReason.all.map(\.reason.rawValue)
        #expect(numbers == numbers.sorted() && Set(numbers).count == numbers.count)
        #expect(Set(MalformedReason.all.map(\.name)).count == numbers.count)
    }

    @Test func theResultCodeTableIsTheLedgers() throws {
        let rows = try Self.table("result-codes", in: try Self.document())
        #expect(rows == ResultCode.all.map { [String($0.code.rawValue), $0.name] })
    }

    @Test func theOpcodeTableIsTheCodes() throws {
        let rows = try Self.table("opcodes", in: try Self.document())
        #expect(rows.count == Opcode.allCases.count)
        for (row, opcode) in zip(rows, Opcode.allCases) {
            #expect(row.first == "0x" + (opcode.rawValue < 16 ? "0" : "") + String(opcode.rawValue, radix: 16))
            #expect(row.dropFirst().first == opcode.name)
            #expect((row.last == "not allowed") == !opcode.acceptsAppliedFlag, "\(opcode)")
        }
    }

    @Test func everyAcceptedBatchFitsOneJournalRecord() {
        WireProtocol.checkRelationships()
        #expect(WireProtocol.frameBytesCeiling == 16_777_204)
        #expect(WireProtocol.journalRecordPayloadBytesMax == JournalFormat.recordPayloadBytesMax)
        #expect(
            WireProtocol.batchBytesMax + WireProtocol.journalRecordHeaderBytes == JournalFormat.recordPayloadBytesMax,
            "the largest batch fills a journal record exactly"
        )
        #expect(WireProtocol.operationsPerRequestCeiling == Limits.operationsPerBatchMax)
        #expect(ConnectionLimits.defaults.inFlightBytesMax >= ConnectionLimits.defaults.frameBytesMax)
    }

    @Test func theLargestFrameDecodesAndOneByteMoreIsRefused() throws {
        // A submit as large as a frame may be: the largest post the encoding allows (255 legs,
        // 255 rates, two 1,024-byte references) repeated, then posts without legs whose
        // references take up the rest exactly. Assembled from the operations' encodings (encoding
        // 16 MiB a field at a time is slow in debug builds).
        var random = WireRandom(seed: 0x1A26E)
        func operationBytes(_ operation: TallyCore.Operation) -> [UInt8] {
            var bytes: [UInt8] = []
            OperationBatch([operation]).encode(into: &bytes)
            return Array(bytes[6...])
        }
        func post(referenceBytes: Int, legs: Int = 0) -> TallyCore.Operation {
            let paymentID = min(referenceBytes, 1_024)
            return .post(
                random.header(),
                legs: (0..<legs).map { _ in random.leg() },
                fxRates: (0..<legs).map { _ in random.rate() },
                references: ExternalReferences(
                    paymentID: ExternalReference(bytes: random.bytes(paymentID)),
                    providerReference: ExternalReference(bytes: random.bytes(referenceBytes - paymentID))
                )
            )
        }
        let largest = operationBytes(post(referenceBytes: 2_048, legs: 255))
        #expect(largest.count == 48 + 255 * 25 + 255 * 48 + 2_048)
        var operations: [[UInt8]] = Array(
            repeating: largest,
            count: (WireProtocol.batchBytesMax - 6) / largest.count - 1
        )
        func spare() -> Int { WireProtocol.batchBytesMax - 6 - operations.reduce(0) { $0 + $1.count } }
        while spare() >= 48 {
            operations.append(
                operationBytes(post(referenceBytes: spare() > 2_096 ? min(2_048, spare() - 96) : spare() - 48))
            )
        }
        var bytes = Wire.frame(opcode: Opcode.submitBatch.rawValue, payload: [1, 0] + .le(UInt32(operations.count)))
        bytes.reserveCapacity(WireProtocol.frameBytesCeiling)
        for operation in operations {
            bytes += operation
        }
        bytes.replaceSubrange(0..<4, with: [UInt8].le(UInt32(bytes.count)))
        #expect(bytes.count == WireProtocol.frameBytesCeiling)
        guard case .frame(.success(let frame), WireProtocol.frameBytesCeiling) = Wire.decodeRequest(bytes),
            case .submitBatch(let request) = frame.request
        else {
            Issue.record("the largest frame was refused")
            return
        }
        #expect(request.batch.count == operations.count && request.frameByteCount == WireProtocol.frameBytesCeiling)
        bytes.replaceSubrange(0..<4, with: [UInt8].le(UInt32(bytes.count + 1)))
        #expect(Wire.requestError(bytes)?.status == .frameTooLarge)
    }
}
