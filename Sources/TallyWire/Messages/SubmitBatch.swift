import TallyCore

// submit_batch (opcode 0x10): operations to apply, each with its own result, in order.
//
// The request's payload is one operation batch in the operation batch encoding (v1) of
// docs/FORMATS.md, the same bytes the journal stores, filling the payload exactly: 1 to the
// server's operations-per-request limit of operations, linked flags for atomic chains. Request
// flag bit 0 asks for the reply as soon as the batch is applied instead of once it is durable.
//
// The reply (16 bytes per result, the journal's own result layout):
//
//   0   8  journal sequence of the batch's record
//   8   8  recorded time: engine time the ledger stamped the batch with, ns since the Unix epoch
//   16  4  result count N, equal to the request's operation count
//   20  16N  results, in operation order:
//     +0  2  result code (docs/RESULT_CODES.md)
//     +2  2  detail (a leg or rate index, or 0)
//     +4  1  flags: bit 0 replay (the remembered result of an earlier operation with the key)
//     +5  3  zero
//     +8  8  transaction id (0 when the operation created none)

/// The submit request: a batch of operations and when to acknowledge it.
public struct SubmitBatchRequest: Sendable {
    public var batch: OperationBatch
    public var acknowledgement: Acknowledgement

    /// A request for `batch`, which must hold 1 to ``WireProtocol/operationsPerRequestCeiling``
    /// operations within the batch encoding's limits.
    public init(_ batch: OperationBatch, acknowledgement: Acknowledgement = .durable) {
        self.batch = batch
        self.acknowledgement = acknowledgement
    }

    /// Bytes of the whole request frame. A client checks it against the server's
    /// ``ConnectionLimits/frameBytesMax`` (and splits the batch) before sending.
    public var frameByteCount: Int { WireProtocol.headerBytes + self.batch.encodedByteCount }

    func encode(into bytes: inout [UInt8]) {
        precondition(!self.batch.isEmpty, "a submit of no operations")
        precondition(self.batch.isWithinEncodingLimits, "a batch beyond the encoding's limits")
        self.batch.encode(into: &bytes)
    }

    /// Decodes the batch straight from the frame's bytes (no copy), after checking its operation
    /// count against the server's limit.
    static func decode(
        _ payload: UnsafeRawBufferPointer,
        acknowledgement: Acknowledgement,
        limits: ConnectionLimits
    ) throws(WireError) -> SubmitBatchRequest {
        let origin = WireProtocol.headerBytes
        // The batch header: u16 version, u32 count. Checked here only when the version is one the
        // batch decoder reads; anything else is its to report.
        if payload.count >= 6,
            UInt16(littleEndian: payload.loadUnaligned(as: UInt16.self)) == OperationBatch.encodingVersion
        {
            let count = Int(UInt32(littleEndian: payload.loadUnaligned(fromByteOffset: 2, as: UInt32.self)))
            guard count > 0 else {
                throw .malformed(.countOutOfRange, at: origin + 2, "the batch holds no operation")
            }
            guard count <= limits.operationsPerRequestMax else {
                throw WireError(
                    .tooManyOperations,
                    offset: origin + 2,
                    "the batch holds \(count) operations, more than this server's limit of \(limits.operationsPerRequestMax)"
                )
            }
        }
        do {
            let batch = try OperationBatch.decode(payload)
            return SubmitBatchRequest(batch, acknowledgement: acknowledgement)
        } catch {
            throw .malformed(MalformedReason(error.reason), at: origin + error.offset, error.message)
        }
    }
}

extension SubmitBatchRequest: Equatable {
    /// Same acknowledgement, same operations, same links (compares decoded operations: for tests and
    /// tools, not the hot path).
    public static func == (lhs: SubmitBatchRequest, rhs: SubmitBatchRequest) -> Bool {
        lhs.acknowledgement == rhs.acknowledgement && lhs.batch.count == rhs.batch.count
            && (0..<lhs.batch.count).allSatisfy { lhs.batch.isLinked(at: $0) == rhs.batch.isLinked(at: $0) }
            && lhs.batch.operations == rhs.batch.operations
    }
}

/// The submit reply: where the batch's record is in the journal, and one result per operation.
public struct SubmitBatchReply: Hashable, Sendable {
    /// The journal sequence of the batch's record (for ``WaitUntilDurableRequest`` after an
    /// applied acknowledgement).
    public var sequence: UInt64
    /// The engine time the ledger recorded for the batch.
    public var recordedTime: Timestamp
    /// One per operation of the request, in order.
    public var results: [OperationResult]

    public init(sequence: UInt64, recordedTime: Timestamp, results: [OperationResult]) {
        precondition(
            (1...WireProtocol.operationsPerRequestCeiling).contains(results.count),
            "a submit reply of \(results.count) results"
        )
        self.sequence = sequence
        self.recordedTime = recordedTime
        self.results = results
    }

    static let fixedBytes = 20
    static let resultBytes = 16
    static let replayFlag: UInt8 = 1 << 0

    func encode(into bytes: inout [UInt8]) {
        bytes.reserveCapacity(bytes.count + Self.fixedBytes + self.results.count * Self.resultBytes)
        bytes.put(self.sequence)
        bytes.put(self.recordedTime.nanosecondsSinceEpoch)
        bytes.putCount(self.results.count, as: UInt32.self, ceiling: WireProtocol.operationsPerRequestCeiling)
        for result in self.results {
            result.encode(into: &bytes)
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> SubmitBatchReply {
        let sequence: UInt64 = try reader.read("the sequence")
        let recordedTime = Timestamp(nanosecondsSinceEpoch: try reader.read("the recorded time"))
        let count = try reader.readCount(
            UInt32.self,
            "the result count",
            ceiling: WireProtocol.operationsPerRequestCeiling,
            itemBytes: Self.resultBytes
        )
        var results: [OperationResult] = []
        results.reserveCapacity(count)
        for _ in 0..<count {
            results.append(try OperationResult.decode(&reader))
        }
        try reader.expectEnd()
        return SubmitBatchReply(sequence: sequence, recordedTime: recordedTime, results: results)
    }
}

extension OperationResult {
    /// 16 bytes: code, detail, flags (bit 0 replay), three zero bytes, transaction id.
    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.code.rawValue)
        bytes.put(self.detail)
        bytes.put(self.isReplay ? SubmitBatchReply.replayFlag : 0)
        bytes.put(UInt8(0))
        bytes.put(UInt16(0))
        bytes.put(self.transactionID.rawValue)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> OperationResult {
        let code = ResultCode(rawValue: try reader.read("a result's code"))
        let detail: UInt16 = try reader.read("a result's detail")
        let flagsOffset = reader.offset
        let flags: UInt8 = try reader.read("a result's flags")
        guard flags & ~SubmitBatchReply.replayFlag == 0 else {
            throw .malformed(.valueOutOfRange, at: flagsOffset, "result flags \(flags) set an undefined bit")
        }
        try reader.readZero(UInt8.self, "a result's reserved byte")
        try reader.readZero(UInt16.self, "a result's reserved bytes")
        return OperationResult(
            code: code,
            transactionID: TransactionID(rawValue: try reader.read("a result's transaction id")),
            detail: detail,
            isReplay: flags & SubmitBatchReply.replayFlag != 0
        )
    }
}
