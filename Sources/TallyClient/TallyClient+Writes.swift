import NIOCore
import TallyCore
import TallyWire

extension TallyClient {
    /// Submits `batch` as one request and returns the server's reply: the batch's journal sequence,
    /// its recorded time and one result per operation, in order. Rejections are results, not
    /// errors; operations marked linked form atomic chains.
    ///
    /// A batch beyond the server's limits (operations per request, frame bytes) or the encoding's
    /// (legs, rates, reference bytes) throws ``TallyClientError/Code/requestTooLarge`` without
    /// being sent; split it. An empty batch throws ``TallyClientError/Code/invalidArgument``.
    /// The server's refusals (`busy`, `read_only`, `engine_failed`, ...) throw
    /// ``TallyClientError/Code/server`` with their status.
    public func submit(
        _ batch: OperationBatch,
        acknowledgement: Acknowledgement = .durable
    ) async throws(TallyClientError) -> SubmitBatchReply {
        guard !batch.isEmpty else {
            throw TallyClientError(.invalidArgument, "a batch of no operations")
        }
        let limits = self.server.limits
        guard batch.count <= limits.operationsPerRequestMax else {
            throw TallyClientError(
                .requestTooLarge,
                "a batch of \(batch.count) operations, more than the server's limit of \(limits.operationsPerRequestMax) per request"
            )
        }
        guard batch.isWithinEncodingLimits else {
            throw TallyClientError(
                .requestTooLarge,
                "the batch has a post of more than \(OperationBatch.EncodingLimits.legsPerPostMax) legs or \(OperationBatch.EncodingLimits.fxRatesPerPostMax) FX rates, or a reference of more than \(OperationBatch.EncodingLimits.referenceBytesMax) bytes"
            )
        }
        let frameBytes = WireProtocol.headerBytes + batch.encodedByteCount
        guard frameBytes <= limits.frameBytesMax else {
            throw TallyClientError(
                .requestTooLarge,
                "the batch takes \(frameBytes) bytes as a frame, more than the server's limit of \(limits.frameBytesMax)"
            )
        }
        let reply = try await self.perform(.submitBatch(SubmitBatchRequest(batch, acknowledgement: acknowledgement)))
        guard case .submitBatch(let submitted) = reply else {
            throw TallyClientError.unexpected(reply, answering: .submitBatch)
        }
        guard submitted.results.count == batch.count else {
            throw TallyClientError(
                .protocolViolation,
                "the server sent \(submitted.results.count) results for a batch of \(batch.count) operations"
            )
        }
        return submitted
    }

    /// Submits one operation, combined with the operations other tasks submit at the same time, and
    /// returns its own result with the sequence and recorded time of the batch it went in.
    ///
    /// At most one combined submit per acknowledgement kind is in flight: a lone caller is sent at
    /// once; while one is in flight, operations queue, and when it returns everything queued goes
    /// as the next batch (up to ``Configuration/coalescedOperationsMax`` and the server's limits).
    /// Operations of different callers are never linked: each is applied or rejected on its own.
    /// When the combined submit fails (`busy`, a timeout, a closed connection), every operation in
    /// it fails the same way.
    public func submit(
        _ operation: Operation,
        acknowledgement: Acknowledgement = .durable
    ) async throws(TallyClientError) -> OperationOutcome {
        let single = OperationBatch(CollectionOfOne(operation))
        guard single.isWithinEncodingLimits else {
            throw TallyClientError(
                .requestTooLarge,
                "the operation has more than \(OperationBatch.EncodingLimits.legsPerPostMax) legs or \(OperationBatch.EncodingLimits.fxRatesPerPostMax) FX rates, or a reference of more than \(OperationBatch.EncodingLimits.referenceBytesMax) bytes"
            )
        }
        let byteCount = single.encodedByteCount - Self.batchHeaderBytes
        let bytesMax = Self.batchOperationBytesMax(frameBytesMax: self.server.limits.frameBytesMax)
        guard byteCount <= bytesMax else {
            throw TallyClientError(
                .requestTooLarge,
                "the operation takes \(byteCount) bytes, more than a batch within the server's frame limit of \(self.server.limits.frameBytesMax) bytes can carry"
            )
        }
        return try await self.connection.coalesce(operation, byteCount: byteCount, acknowledgement: acknowledgement)
    }

    /// Waits until the journal is durable through `sequence` (from a submit acknowledged when
    /// applied) and returns the durable sequence, at least `sequence`.
    ///
    /// The server waits at most `timeout` (capped at its longest wait,
    /// ``TallyWire/ConnectionLimits/waitTimeoutMaxMilliseconds``) and then answers
    /// `durability_timeout`, thrown as ``TallyClientError/Code/server`` with that status: nothing
    /// is lost, ask again. The client waits for the reply `timeout` plus the request timeout.
    public func waitUntilDurable(
        _ sequence: UInt64,
        timeout: Duration = .seconds(10)
    ) async throws(TallyClientError) -> UInt64 {
        let cap = UInt64(self.server.limits.waitTimeoutMaxMilliseconds)
        let milliseconds = min(Self.milliseconds(timeout), cap)
        let reply = try await self.connection.perform(
            .waitUntilDurable(
                WaitUntilDurableRequest(sequence: sequence, timeoutMilliseconds: UInt32(milliseconds))
            ),
            timeout: Self.adding(.milliseconds(Int64(milliseconds)), self.requestTimeout),
            frameBytesMax: self.server.limits.frameBytesMax
        )
        guard case .waitUntilDurable(let durable) = reply else {
            throw TallyClientError.unexpected(reply, answering: .waitUntilDurable)
        }
        guard durable.durableSequence >= sequence else {
            throw TallyClientError(
                .protocolViolation,
                "the server answered a wait for sequence \(sequence) with durable sequence \(durable.durableSequence)"
            )
        }
        return durable.durableSequence
    }

    /// `first + second`, saturating instead of trapping (a request timeout may be near forever).
    static func adding(_ first: TimeAmount, _ second: TimeAmount) -> TimeAmount {
        let (sum, overflow) = first.nanoseconds.addingReportingOverflow(second.nanoseconds)
        return .nanoseconds(overflow ? .max : sum)
    }

    /// Whole milliseconds of `duration`, rounded up; 0 for a negative one.
    static func milliseconds(_ duration: Duration) -> UInt64 {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        let millisecondAttoseconds: Int64 = 1_000_000_000_000_000
        let fraction = (attoseconds + millisecondAttoseconds - 1) / millisecondAttoseconds
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000)
        let (total, carry) = whole.addingReportingOverflow(UInt64(fraction))
        return overflow || carry ? UInt64.max : total
    }
}
