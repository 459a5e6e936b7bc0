import TallyCore
import TallyWire

/// The worked examples of docs/PROTOCOL.md, built with the codec; ProtocolDocumentTests checks
/// that the document's hex dumps are exactly their encodings.
enum ProtocolExamples {
    static let handshakeRequest = RequestFrame(
        requestID: 1,
        .handshake(HandshakeRequest(versions: 1...1, clientName: "example"))
    )

    static let handshakeReply = ReplyFrame(
        requestID: 1,
        .handshake(
            HandshakeReply(
                version: 1,
                versions: 1...1,
                isReadOnly: false,
                limits: .defaults,
                serverVersion: "tally 0.1.0"
            )
        )
    )

    /// A capture of 10.50 (1,050 minor units): account 2 debited, account 1 credited.
    static let submitRequest: RequestFrame = {
        var batch = OperationBatch()
        batch.appendPost(
            TransactionHeader(
                key: IdempotencyKey(rawValue: 0x0F0E_0D0C_0B0A_0908_0706_0504_0302_0100),
                type: .capture,
                effectiveTime: Timestamp(secondsSinceEpoch: 1_767_225_600)
            ),
            legs: [.debit(2, 1_050), .credit(1, 1_050)],
            paymentID: Array("pay-1001".utf8)
        )
        return RequestFrame(requestID: 2, .submitBatch(SubmitBatchRequest(batch)))
    }()

    static let submitReply = ReplyFrame(
        requestID: 2,
        .submitBatch(
            SubmitBatchReply(
                sequence: 42,
                recordedTime: Timestamp(nanosecondsSinceEpoch: 1_767_225_600_000_123_456),
                results: [OperationResult(code: .ok, transactionID: 7)]
            )
        )
    )

    /// The same submit sent with request id 3 and a leg side of 3: refused, the connection stays.
    static let malformedReply = ReplyFrame(
        requestID: 3,
        opcode: Opcode.submitBatch.rawValue,
        failure: ErrorReply(
            .malformed,
            reason: .batchSideInvalid,
            offset: 88,
            message: "invalid side 3 (1 debit, 2 credit)"
        )
    )

    /// Every example with its marker in the document.
    static let all: [(marker: String, bytes: [UInt8])] = [
        ("handshake-request", Wire.bytes(handshakeRequest)),
        ("handshake-reply", Wire.bytes(handshakeReply)),
        ("submit-request", Wire.bytes(submitRequest)),
        ("submit-reply", Wire.bytes(submitReply)),
        ("malformed-reply", Wire.bytes(malformedReply)),
    ]
}
