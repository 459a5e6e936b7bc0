import NIOCore
import TallyCore
import TallyWire

/// Resumes a caller with the reply to its request (or why there is none).
typealias ReplyContinuation = UnsafeContinuation<Result<ReplyFrame, TallyClientError>, Never>
/// Resumes a caller of a coalesced submit with its operation's outcome.
typealias OutcomeContinuation = UnsafeContinuation<Result<OperationOutcome, TallyClientError>, Never>

/// The client's end of one connection, on its event loop: writes the frames callers hand it,
/// decodes replies straight from the inbound bytes, matches them to requests by id (in any order),
/// runs the single timer that enforces every request's deadline, and coalesces single operations
/// into batches.
///
/// Everything here runs on the channel's event loop; callers reach it with `EventLoop.execute`
/// through a `NIOLoopBound`, and it resumes their continuations directly (no other hop).
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Who waits for a request's reply.
    enum Waiter {
        /// One caller, with its request's opcode and timeout (for messages).
        case reply(ReplyContinuation, Opcode, TimeAmount)
        /// The callers whose operations make up a coalesced batch, in batch order.
        case batch(Acknowledgement, [OutcomeContinuation])
    }

    private enum State {
        case open
        /// The server sent a reply with the closing flag: it reads nothing more, but may still answer
        /// requests it had read. New requests fail with the error.
        case closingByServer(TallyClientError)
        /// New requests fail with the error.
        case closed(TallyClientError)
    }

    /// Requests that timed out and are still unanswered, at most: past it the server is taken to
    /// have stopped answering, and the connection is closed (a limit on the set of late ids).
    static let abandonedRequestsMax = 65_536

    private var state = State.open
    private var context: ChannelHandlerContext?
    private var requests = RequestTable<Waiter>()
    private var durableCoalescer: SubmitCoalescer<OutcomeContinuation>
    private var appliedCoalescer: SubmitCoalescer<OutcomeContinuation>
    private let requestIDs: RequestIDs
    private let requestTimeout: TimeAmount
    /// Inbound bytes not yet consumed by a whole frame.
    private var cumulation: ByteBuffer?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var flushScheduled = false
    /// Reused to build and encode coalesced batches.
    private var scratchBatch = OperationBatch()
    private var scratchBytes: [UInt8] = []

    init(requestIDs: RequestIDs, requestTimeout: TimeAmount, coalescedOperationsMax: Int) {
        self.requestIDs = requestIDs
        self.requestTimeout = requestTimeout
        // Until the handshake tells the server's limits, the protocol's ceilings.
        let limits = ConnectionLimits.defaults
        self.durableCoalescer = SubmitCoalescer(
            operationsMax: min(coalescedOperationsMax, limits.operationsPerRequestMax),
            bytesMax: TallyClient.batchOperationBytesMax(frameBytesMax: limits.frameBytesMax)
        )
        self.appliedCoalescer = self.durableCoalescer
    }

    // MARK: - Calls from the client (on the event loop)

    /// Takes the server's limits from its handshake reply, before any coalesced submit.
    func configure(coalescedOperationsMax: Int, limits: ConnectionLimits) {
        precondition(
            !self.durableCoalescer.isInFlight && !self.appliedCoalescer.isInFlight,
            "configure before the first coalesced submit"
        )
        self.durableCoalescer = SubmitCoalescer(
            operationsMax: min(coalescedOperationsMax, limits.operationsPerRequestMax),
            bytesMax: TallyClient.batchOperationBytesMax(frameBytesMax: limits.frameBytesMax)
        )
        self.appliedCoalescer = self.durableCoalescer
    }

    /// Sends an encoded request frame; `continuation` gets its reply or why there is none.
    func send(
        _ frame: ByteBuffer,
        requestID: UInt64,
        opcode: Opcode,
        timeout: TimeAmount,
        continuation: ReplyContinuation
    ) {
        switch self.state {
        case .open:
            break
        case .closingByServer(let error), .closed(let error):
            continuation.resume(returning: .failure(error))
            return
        }
        self.requests.insert(
            .reply(continuation, opcode, timeout),
            requestID: requestID,
            deadline: .now() + timeout
        )
        self.armTimer()
        self.write(frame)
    }

    /// Queues one caller's operation for the next coalesced batch of its acknowledgement kind, or
    /// sends it at once when no such batch is in flight. `byteCount` is its size in the batch
    /// encoding, which the caller checked fits a batch.
    func coalesce(
        _ operation: Operation,
        byteCount: Int,
        acknowledgement: Acknowledgement,
        continuation: OutcomeContinuation
    ) {
        switch self.state {
        case .open:
            break
        case .closingByServer(let error), .closed(let error):
            continuation.resume(returning: .failure(error))
            return
        }
        let item = SubmitCoalescer<OutcomeContinuation>.Item(
            operation: operation,
            byteCount: byteCount,
            deadline: .now() + self.requestTimeout,
            waiter: continuation
        )
        let action: SubmitCoalescer<OutcomeContinuation>.Action
        switch acknowledgement {
        case .durable: action = self.durableCoalescer.enqueue(item)
        case .applied: action = self.appliedCoalescer.enqueue(item)
        }
        self.run(action, acknowledgement)
    }

    /// Closes the connection; every call in flight fails with ``TallyClientError/Code/connectionClosed``.
    func closeByClient() {
        let error = TallyClientError(.connectionClosed, "the client closed the connection")
        self.shutDown(inFlight: error, later: error)
    }

    // MARK: - ChannelHandler

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        let error = TallyClientError(.connectionClosed, "the connection's handler was removed")
        self.shutDown(inFlight: error, later: error)
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closed = self.state { return }
        var incoming = self.unwrapInboundIn(data)
        if var buffer = self.cumulation {
            // Taken out of the optional so that appending does not copy it.
            self.cumulation = nil
            buffer.writeBuffer(&incoming)
            self.cumulation = buffer
        } else {
            self.cumulation = incoming
        }
        self.decodeReplies()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let error: TallyClientError
        switch self.state {
        case .open:
            error = TallyClientError(.connectionClosed, "the server closed the connection")
        case .closingByServer(let closing):
            error = closing
        case .closed(let closed):
            error = closed
        }
        self.shutDown(inFlight: error, later: error)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let error = TallyClientError(.connectionClosed, "the connection failed: \(error)")
        self.shutDown(inFlight: error, later: error)
    }

    // MARK: - Replies

    /// Decodes every whole frame in the inbound bytes; a partial frame waits for more.
    private func decodeReplies() {
        while var buffer = self.cumulation {
            self.cumulation = nil
            let decoding = buffer.withUnsafeReadableBytes { ReplyFrame.decode($0) }
            switch decoding {
            case .needMoreBytes:
                // Reclaim consumed bytes once they are most of the buffer.
                if buffer.readerIndex > 1_024 && buffer.readerIndex > buffer.capacity / 2 {
                    buffer.discardReadBytes()
                }
                self.cumulation = buffer
                return
            case .frame(let result, let byteCount):
                buffer.moveReaderIndex(forwardBy: byteCount)
                if buffer.readableBytes > 0 {
                    self.cumulation = buffer
                }
                self.handle(result)
            case .fatal(let error):
                self.protocolViolation("the server sent a frame that cannot be delimited: \(error)")
                return
            }
            guard case .closed = self.state else { continue }
            self.cumulation = nil
            return
        }
    }

    private func handle(_ result: Result<ReplyFrame, WireError>) {
        switch result {
        case .success(let frame):
            guard frame.requestID != 0 else {
                self.connectionFailed(by: frame)
                return
            }
            let removal = self.requests.remove(requestID: frame.requestID)
            if case .unknown = removal {
                self.protocolViolation(
                    "the server sent a \(Self.opcodeName(frame.opcode)) reply to request \(frame.requestID), which is not in flight"
                )
                return
            }
            // Before completing: a finished coalesced batch must not send the next one to a server
            // that reads nothing more.
            if frame.isClosing {
                self.serverIsClosing(after: frame)
            }
            if case .waiting(let waiter) = removal {
                self.complete(waiter, with: frame)
            }
            self.closeIfDrained()
        case .failure(let error):
            // A well-delimited frame that cannot be decoded fails the request it names.
            guard error.requestID != 0 else {
                self.protocolViolation("the server sent a reply that cannot be decoded: \(error)")
                return
            }
            switch self.requests.remove(requestID: error.requestID) {
            case .waiting(let waiter):
                let failure = TallyClientError(
                    .protocolViolation,
                    "the reply to request \(error.requestID) cannot be decoded: \(error)"
                )
                self.fail(waiter, with: failure)
            case .abandoned:
                break
            case .unknown:
                self.protocolViolation(
                    "the server sent a reply to request \(error.requestID), which is not in flight, and it cannot be decoded: \(error)"
                )
                return
            }
            self.closeIfDrained()
        }
    }

    private func complete(_ waiter: Waiter, with frame: ReplyFrame) {
        switch waiter {
        case .reply(let continuation, _, _):
            continuation.resume(returning: .success(frame))
        case .batch(let acknowledgement, let waiters):
            Self.distribute(frame, to: waiters)
            self.batchFinished(acknowledgement)
        }
    }

    /// Gives each caller of a coalesced batch its own result.
    private static func distribute(_ frame: ReplyFrame, to waiters: [OutcomeContinuation]) {
        let failure: TallyClientError
        if case .submitBatch(let reply) = frame.reply, reply.results.count == waiters.count {
            for (index, waiter) in waiters.enumerated() {
                let outcome = OperationOutcome(
                    result: reply.results[index],
                    sequence: reply.sequence,
                    recordedTime: reply.recordedTime
                )
                waiter.resume(returning: .success(outcome))
            }
            return
        } else if case .submitBatch(let reply) = frame.reply {
            failure = TallyClientError(
                .protocolViolation,
                "the server sent \(reply.results.count) results for a batch of \(waiters.count) operations"
            )
        } else if case .failure(let errorReply) = frame.reply {
            failure = TallyClientError(server: errorReply)
        } else {
            failure = TallyClientError(
                .protocolViolation,
                "the server sent a \(Self.opcodeName(frame.opcode)) reply to a submit_batch request"
            )
        }
        for waiter in waiters {
            waiter.resume(returning: .failure(failure))
        }
    }

    private func fail(_ waiter: Waiter, with error: TallyClientError) {
        switch waiter {
        case .reply(let continuation, _, _):
            continuation.resume(returning: .failure(error))
        case .batch(let acknowledgement, let waiters):
            for waiter in waiters {
                waiter.resume(returning: .failure(error))
            }
            self.batchFinished(acknowledgement)
        }
    }

    /// A reply with request id 0: the server fails the whole connection (idle timeout, connection
    /// limit, shutdown). Every request in flight fails with its status.
    private func connectionFailed(by frame: ReplyFrame) {
        guard case .failure(let reply) = frame.reply else {
            // The decoder refuses an ok reply with request id 0.
            preconditionFailure("an ok reply with request id 0")
        }
        let error = TallyClientError(server: reply)
        self.shutDown(
            inFlight: error,
            later: TallyClientError(
                .connectionClosed,
                "the server closed the connection: \(error.message)",
                status: reply.status,
                reply: reply
            )
        )
    }

    /// A reply had the closing flag: the server reads nothing more. Operations still queued for a
    /// coalesced batch will never be sent; requests in flight wait for their replies or the close.
    private func serverIsClosing(after frame: ReplyFrame) {
        guard case .open = self.state else { return }
        var error = TallyClientError(
            .connectionClosed,
            "the server closed the connection after its \(frame.reply.status.name) reply to request \(frame.requestID)"
        )
        if case .failure(let reply) = frame.reply {
            error.status = reply.status
            error.reply = reply
        }
        self.state = .closingByServer(error)
        for waiter in self.durableCoalescer.removeAll() + self.appliedCoalescer.removeAll() {
            waiter.resume(returning: .failure(error))
        }
    }

    private func closeIfDrained() {
        guard case .closingByServer(let error) = self.state, self.requests.isEmpty else { return }
        self.shutDown(inFlight: error, later: error)
    }

    // MARK: - Coalesced batches

    private func batchFinished(_ acknowledgement: Acknowledgement) {
        // Once the connection is closing the coalescers were emptied and are idle.
        guard case .open = self.state else { return }
        let action: SubmitCoalescer<OutcomeContinuation>.Action
        switch acknowledgement {
        case .durable: action = self.durableCoalescer.batchFinished()
        case .applied: action = self.appliedCoalescer.batchFinished()
        }
        self.run(action, acknowledgement)
    }

    private func run(_ action: SubmitCoalescer<OutcomeContinuation>.Action, _ acknowledgement: Acknowledgement) {
        switch action {
        case .none:
            return
        case .send(let items):
            self.sendBatch(items, acknowledgement)
        }
    }

    /// Sends the operations as one batch; its deadline is the earliest of its callers'.
    private func sendBatch(_ items: [SubmitCoalescer<OutcomeContinuation>.Item], _ acknowledgement: Acknowledgement) {
        guard let context = self.context else {
            preconditionFailure("a coalesced batch on a connection without a channel")
        }
        var deadline = items[0].deadline
        var waiters: [OutcomeContinuation] = []
        waiters.reserveCapacity(items.count)
        self.scratchBatch.removeAll(keepingCapacity: true)
        for item in items {
            self.scratchBatch.append(item.operation)
            deadline = min(deadline, item.deadline)
            waiters.append(item.waiter)
        }
        let requestID = self.requestIDs.next()
        self.scratchBytes.removeAll(keepingCapacity: true)
        RequestFrame(
            requestID: requestID,
            .submitBatch(SubmitBatchRequest(self.scratchBatch, acknowledgement: acknowledgement))
        )
        .encode(into: &self.scratchBytes)
        var buffer = context.channel.allocator.buffer(capacity: self.scratchBytes.count)
        buffer.writeBytes(self.scratchBytes)
        self.requests.insert(.batch(acknowledgement, waiters), requestID: requestID, deadline: deadline)
        self.armTimer()
        self.write(buffer)
    }

    // MARK: - Timeouts

    /// Sets the timer for the earliest deadline, unless it is set for one no later.
    private func armTimer() {
        guard let next = self.requests.nextDeadline, let context = self.context else { return }
        if let armed = self.timerDeadline, armed <= next { return }
        self.timer?.cancel()
        self.timerDeadline = next
        self.timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next) {
            self.timerFired()
        }
    }

    private func timerFired() {
        self.timer = nil
        self.timerDeadline = nil
        switch self.state {
        case .open, .closingByServer: break
        case .closed: return
        }
        for (requestID, waiter) in self.requests.expire(now: .now()) {
            self.fail(waiter, with: Self.timeoutError(requestID: requestID, waiter: waiter))
        }
        if self.requests.abandonedCount > Self.abandonedRequestsMax {
            let error = TallyClientError(
                .connectionClosed,
                "closed the connection: more than \(Self.abandonedRequestsMax) requests timed out without a reply"
            )
            self.shutDown(inFlight: error, later: error)
            return
        }
        self.closeIfDrained()
        self.armTimer()
    }

    private static func timeoutError(requestID: UInt64, waiter: Waiter) -> TallyClientError {
        switch waiter {
        case .reply(_, let opcode, let timeout):
            return TallyClientError(
                .timeout,
                "no reply to the \(opcode.name) request (id \(requestID)) within \(Self.describe(timeout))"
            )
        case .batch(_, let waiters):
            return TallyClientError(
                .timeout,
                "no reply to the coalesced submit_batch of \(waiters.count) operations (id \(requestID)) in time"
            )
        }
    }

    // MARK: - Writing and closing

    /// Writes a frame; one flush follows every write made in the same run of the event loop's tasks,
    /// so that pipelined requests share system calls.
    private func write(_ frame: ByteBuffer) {
        guard let context = self.context else { return }
        context.write(self.wrapOutboundOut(frame), promise: nil)
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            self.context?.flush()
        }
    }

    private func protocolViolation(_ message: String) {
        self.shutDown(
            inFlight: TallyClientError(.protocolViolation, message),
            later: TallyClientError(
                .connectionClosed,
                "the connection was closed after a protocol violation: \(message)"
            )
        )
    }

    /// Fails every request in flight and every queued operation with `inFlight`, makes later calls
    /// fail with `later`, and closes the channel. Once only.
    private func shutDown(inFlight: TallyClientError, later: TallyClientError) {
        if case .closed = self.state { return }
        self.state = .closed(later)
        self.timer?.cancel()
        self.timer = nil
        self.timerDeadline = nil
        self.cumulation = nil
        for waiter in self.requests.removeAll() {
            switch waiter {
            case .reply(let continuation, _, _):
                continuation.resume(returning: .failure(inFlight))
            case .batch(_, let waiters):
                for waiter in waiters {
                    waiter.resume(returning: .failure(inFlight))
                }
            }
        }
        for waiter in self.durableCoalescer.removeAll() + self.appliedCoalescer.removeAll() {
            waiter.resume(returning: .failure(inFlight))
        }
        self.context?.close(promise: nil)
    }

    private static func opcodeName(_ raw: UInt8) -> String {
        Opcode(rawValue: raw)?.name ?? "opcode \(raw)"
    }

    static func describe(_ time: TimeAmount) -> String {
        let milliseconds = time.nanoseconds / 1_000_000
        if milliseconds % 1_000 == 0 {
            return "\(milliseconds / 1_000) s"
        }
        return "\(milliseconds) ms"
    }
}
