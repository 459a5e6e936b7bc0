import Dispatch
import Logging
import NIOCore
import TallyCore
import TallyEngine
import TallyWire

/// Serves one connection: splits the byte stream into request frames, hands each to the engine in
/// arrival order, and writes the replies as they come back (in any order, matched by request id).
///
/// Everything here runs on the channel's event loop. The engine answers on its own threads (or
/// inline, when this loop's thread applied the batch itself); answers hop back to the loop before
/// they touch this handler. No async/await on this path: a request costs one decode, one engine
/// call and one write.
///
/// Back-pressure: bytes of requests received and not yet answered are counted; at the connection's
/// in-flight limit the handler stops decoding and holds back the channel's reads until replies go
/// out, so a client that pipelines without reading cannot grow the server's memory.
final class ConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent down the pipeline (``TallyServer``) to start a graceful close.
    struct ShutdownEvent: Sendable {}

    private enum State {
        /// Reading and serving.
        case open
        /// Shutting down: no more reads; requests already received are served, then the
        /// connection gets `shutting_down` and is closed.
        case draining
        /// A closing reply was written; nothing more is read or served.
        case closing
        /// The channel is gone; late engine answers are dropped.
        case closed
    }

    private let shared: ServerShared
    private let isReadOnly: Bool
    private let readOnlyReason: String
    private var logger: Logger
    private var limits: ConnectionLimits { self.shared.configuration.limits }

    private var state = State.open
    private var context: ChannelHandlerContext?
    /// Bytes received and not yet consumed by a frame.
    private var buffer: ByteBuffer?
    private var inFlightBytes = 0
    private var inFlightRequests = 0
    /// A read the channel asked for and this handler held back (in-flight limit or draining).
    private var readHeld = false
    /// Inside channelRead ... channelReadComplete: writes wait for the flush at its end.
    private var isReading = false
    private var needsFlush = false
    /// Inside `decodeBuffered`: engine answers that come inline must not start it again.
    private var isDecoding = false
    /// A task that syncs the journal is queued on this loop (``scheduleSync()``).
    private var syncScheduled = false

    init(shared: ServerShared, isReadOnly: Bool, readOnlyReason: String, logger: Logger) {
        self.shared = shared
        self.isReadOnly = isReadOnly
        self.readOnlyReason = readOnlyReason
        self.logger = logger
    }

    // MARK: - Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.state = .closed
        self.context = nil
        self.buffer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        switch self.state {
        case .open, .draining:
            break
        case .closing, .closed:
            return
        }
        self.isReading = true
        if self.buffer == nil {
            self.buffer = incoming
        } else {
            self.buffer!.writeBuffer(&incoming)
        }
        self.decodeBuffered()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.isReading = false
        if self.needsFlush {
            self.needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        switch self.state {
        case .open where self.inFlightBytes < self.limits.inFlightBytesMax:
            context.read()
        case .open, .draining, .closing, .closed:
            self.readHeld = true
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.state = .closed
        self.buffer = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            // Idle only when nothing is in progress: a long durable wait is not idleness.
            if case .open = self.state, self.inFlightRequests == 0 {
                self.shared.statistics.idleClosed.add(1, ordering: .relaxed)
                self.logger.info("closing idle connection")
                self.writeClosing(
                    .idleTimeout,
                    "no request for \(self.limits.idleTimeoutMilliseconds) ms: closing the connection"
                )
            }
            return
        }
        if event is ShutdownEvent {
            self.beginDraining()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.info("connection error, closing", metadata: ["error": "\(error)"])
        self.state = .closed
        context.close(promise: nil)
    }

    // MARK: - Decoding

    /// Decodes and dispatches every whole frame buffered, while the in-flight limit allows.
    private func decodeBuffered() {
        guard !self.isDecoding else { return }
        self.isDecoding = true
        defer { self.isDecoding = false }
        while self.inFlightBytes < self.limits.inFlightBytesMax, self.buffer != nil {
            switch self.state {
            case .open, .draining: break
            case .closing, .closed: return
            }
            let limits = self.limits
            let decoding = self.buffer!.withUnsafeReadableBytes { RequestFrame.decode($0, limits: limits) }
            switch decoding {
            case .needMoreBytes:
                self.compactBuffer()
                self.finishDrainingIfDone()
                return
            case .fatal(let error):
                self.buffer = nil
                self.shared.statistics.requestReceived(byteCount: 0)
                self.logger.info(
                    "closing connection after a frame that cannot be delimited",
                    metadata: ["status": "\(error.status)", "error": "\(error.message)"]
                )
                self.write(ReplyFrame(error: error))
                self.closeAfterWrites()
                return
            case .frame(let result, let byteCount):
                self.buffer!.moveReaderIndex(forwardBy: byteCount)
                self.shared.statistics.requestReceived(byteCount: byteCount)
                switch result {
                case .success(let frame):
                    self.dispatch(frame, byteCount: byteCount)
                case .failure(let error):
                    self.logger.debug(
                        "refused request",
                        metadata: [
                            "status": "\(error.status)", "request": "\(error.requestID)", "error": "\(error.message)",
                        ]
                    )
                    self.write(ReplyFrame(error: error))
                }
            }
        }
        self.compactBuffer()
    }

    private func compactBuffer() {
        guard var buffer = self.buffer else { return }
        if buffer.readableBytes == 0 {
            self.buffer = nil
        } else if buffer.readerIndex > 64 * 1024 {
            self.buffer = nil  // keep the storage uniquely referenced for the in-place move
            buffer.discardReadBytes()
            self.buffer = buffer
        }
    }

    // MARK: - Requests

    private func dispatch(_ frame: RequestFrame, byteCount: Int) {
        self.inFlightBytes += byteCount
        self.inFlightRequests += 1
        let id = frame.requestID
        let opcode = frame.request.opcode.rawValue
        switch frame.request {
        case .handshake(let request):
            let reply = HandshakeReply(
                answering: request,
                isReadOnly: self.isReadOnly,
                limits: self.limits,
                serverVersion: self.shared.configuration.serverVersion
            )
            if reply.version == 0 {
                self.finish(byteCount)
                self.write(ReplyFrame(requestID: id, .handshake(reply), isClosing: true))
                self.closeAfterWrites()
                return
            }
            if !request.clientName.isEmpty {
                self.logger[metadataKey: "client"] = "\(request.clientName)"
            }
            self.answer(id, byteCount, .handshake(reply))
        case .ping:
            self.answer(id, byteCount, .ping)
        case .statistics:
            let bound = self.bound()
            let shared = self.shared
            self.shared.engine.read(
                .applied,
                { $0.statistics },
                completion: { result in
                    // A closed or failed engine still has server statistics to report.
                    let ledger = try? result.get()
                    bound.run { handler in
                        let statistics = shared.statistics.report(
                            ledger: ledger,
                            engine: shared.engine,
                            metrics: shared.metrics
                        )
                        handler.answer(id, byteCount, .statistics(StatisticsReply(statistics)))
                    }
                }
            )
        case .submitBatch(let submit):
            guard !self.isReadOnly else {
                self.fail(id, opcode, byteCount, ErrorReply(.readOnly, message: self.readOnlyReason))
                return
            }
            self.shared.statistics.submitted(operations: submit.batch.count)
            let started = DispatchTime.now().uptimeNanoseconds
            let bound = self.bound()
            let statistics = self.shared.statistics
            let acknowledgement: Engine.Acknowledgement = submit.acknowledgement == .applied ? .applied : .durable
            let syncByCaller = acknowledgement == .durable && self.shared.configuration.syncOnEventLoop
            if syncByCaller {
                self.scheduleSync()
            }
            self.shared.engine.submit(submit.batch, acknowledgement: acknowledgement, syncByCaller: syncByCaller) {
                result in
                statistics.submitCompleted(nanoseconds: DispatchTime.now().uptimeNanoseconds &- started)
                switch result {
                case .success(let response):
                    let reply = SubmitBatchReply(
                        sequence: response.sequence,
                        recordedTime: response.recordedTime,
                        results: response.results
                    )
                    bound.run { $0.answer(id, byteCount, .submitBatch(reply)) }
                case .failure(let error):
                    bound.run { $0.fail(id, opcode, byteCount, Self.errorReply(for: error)) }
                }
            }
        case .waitUntilDurable(let request):
            self.waitUntilDurable(request, id: id, byteCount: byteCount)
        case .balances(let request):
            self.read(id, opcode, byteCount, request.consistency) { ledger in
                .balances(BalancesReply(request.accounts.map { ledger.balance(of: $0) }))
            }
        case .accounts(let request):
            self.read(id, opcode, byteCount, request.consistency) { ledger in
                .accounts(AccountsReply(request.accounts.map { ledger.account($0) }))
            }
        case .aggregateBalance(let request):
            self.read(id, opcode, byteCount, request.consistency) { ledger in
                .aggregateBalance(
                    AggregateBalanceReply(
                        ledger.aggregateBalance(kind: request.kind, asset: request.asset, request.dimension)
                    )
                )
            }
        case .aggregateBalances(let request):
            let limit = min(request.limit, self.limits.operationsPerRequestMax)
            self.read(id, opcode, byteCount, request.consistency) { ledger in
                let page = ledger.aggregateBalances(
                    kind: request.kind,
                    asset: request.asset,
                    by: request.grouping,
                    start: request.start,
                    limit: limit
                )
                let entries = page.entries.map { AggregateEntry(value: $0.value, balance: $0.balance) }
                return .aggregateBalances(AggregateBalancesReply(entries, hasMore: page.hasMore))
            }
        case .assets(let request):
            self.read(id, opcode, byteCount, request.consistency) { ledger in
                .assets(AssetsReply(request.codes.map { ledger.asset($0) }))
            }
        case .holds(let request):
            self.read(id, opcode, byteCount, request.consistency) { ledger in
                .holds(HoldsReply(request.holds.map { ledger.hold($0) }))
            }
        case .transaction(let request):
            self.read(id, opcode, byteCount, request.consistency) { ledger in
                .transaction(TransactionReply(ledger.transaction(request.id)))
            }
        case .idempotencyRecord(let request):
            self.read(id, opcode, byteCount, request.consistency) { ledger in
                .idempotencyRecord(IdempotencyReply(ledger.idempotencyRecord(request.key)))
            }
        }
    }

    /// Queues, once per pass, a task that syncs what this loop applied for its durable writes. Tasks
    /// run after the loop has read every ready connection, so one sync covers all of them; the
    /// completions then run on this loop, and each reply is written without a hop.
    private func scheduleSync() {
        guard !self.syncScheduled, let context = self.context else { return }
        self.syncScheduled = true
        let bound = self.bound()
        let engine = self.shared.engine
        context.eventLoop.execute {
            bound.value.syncScheduled = false
            engine.syncPending()
        }
    }

    /// A read, in the writer's order: it sees every write this connection sent before it.
    private func read(
        _ id: UInt64,
        _ opcode: UInt8,
        _ byteCount: Int,
        _ consistency: ReadConsistency,
        _ body: @escaping @Sendable (borrowing Ledger) -> Reply
    ) {
        self.shared.statistics.reads.add(1, ordering: .relaxed)
        let bound = self.bound()
        let engineConsistency: Engine.ReadConsistency = consistency == .applied ? .applied : .durable
        self.shared.engine.read(engineConsistency, body) { result in
            switch result {
            case .success(let reply):
                bound.run { $0.answer(id, byteCount, reply) }
            case .failure(let error):
                bound.run { $0.fail(id, opcode, byteCount, Self.errorReply(for: error)) }
            }
        }
    }

    private func waitUntilDurable(_ request: WaitUntilDurableRequest, id: UInt64, byteCount: Int) {
        let engine = self.shared.engine
        let opcode = Opcode.waitUntilDurable.rawValue
        let timeout = min(request.timeoutMilliseconds, self.limits.waitTimeoutMaxMilliseconds)
        if engine.durableSequence >= request.sequence || timeout == 0 {
            let durable = engine.durableSequence
            if durable >= request.sequence {
                self.answer(id, byteCount, .waitUntilDurable(WaitUntilDurableReply(durableSequence: durable)))
            } else {
                self.fail(id, opcode, byteCount, Self.durabilityTimeout(request.sequence, durable, timeout))
            }
            return
        }
        // Whichever comes first, the durability or the timeout, answers; the other finds it done.
        let bound = self.bound()
        let answered = NIOLoopBoundBox(false, eventLoop: bound.eventLoop)
        let wait = engine.whenDurable(request.sequence) { result in
            bound.run { handler in
                guard !answered.value else { return }
                answered.value = true
                switch result {
                case .success:
                    let reply = WaitUntilDurableReply(durableSequence: max(engine.durableSequence, request.sequence))
                    handler.answer(id, byteCount, .waitUntilDurable(reply))
                case .failure(let error):
                    handler.fail(id, opcode, byteCount, Self.errorReply(for: error))
                }
            }
        }
        bound.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout))) {
            guard !answered.value else { return }
            answered.value = true
            engine.cancel(wait)
            bound.value.fail(
                id,
                opcode,
                byteCount,
                Self.durabilityTimeout(request.sequence, engine.durableSequence, timeout)
            )
        }
    }

    private static func durabilityTimeout(_ sequence: UInt64, _ durable: UInt64, _ timeout: UInt32) -> ErrorReply {
        ErrorReply(
            .durabilityTimeout,
            message:
                "sequence \(sequence) is not durable after \(timeout) ms (durable through \(durable)); nothing is lost: wait again"
        )
    }

    /// The reply status for an engine's refusal.
    static func errorReply(for error: EngineError) -> ErrorReply {
        switch error.code {
        case .busy:
            return ErrorReply(.busy, message: "the server is busy (\(error.message)): nothing was done, retry shortly")
        case .closed:
            return ErrorReply(.shuttingDown, message: "the server is shutting down: nothing was done")
        case .journalFailed:
            return ErrorReply(.engineFailed, message: error.description)
        default:
            return ErrorReply(.internalError, message: error.description)
        }
    }

    // MARK: - Replies

    /// Answers request `id` with an ok reply, releasing its share of the in-flight budget.
    private func answer(_ id: UInt64, _ byteCount: Int, _ reply: Reply) {
        self.finish(byteCount)
        self.write(ReplyFrame(requestID: id, reply))
        self.afterAnswer()
    }

    private func fail(_ id: UInt64, _ opcode: UInt8, _ byteCount: Int, _ error: ErrorReply) {
        self.finish(byteCount)
        self.write(ReplyFrame(requestID: id, opcode: opcode, failure: error))
        self.afterAnswer()
    }

    private func finish(_ byteCount: Int) {
        self.inFlightBytes -= byteCount
        self.inFlightRequests -= 1
        precondition(self.inFlightBytes >= 0 && self.inFlightRequests >= 0, "a request answered twice")
    }

    /// After a reply: decode what the in-flight limit held back, resume held reads, finish a drain.
    private func afterAnswer() {
        self.decodeBuffered()
        if case .open = self.state, self.readHeld, self.inFlightBytes < self.limits.inFlightBytesMax {
            self.readHeld = false
            self.context?.read()
        }
        self.finishDrainingIfDone()
    }

    private func write(_ frame: ReplyFrame) {
        guard let context = self.context else { return }
        switch self.state {
        case .open, .draining: break
        case .closing, .closed: return
        }
        var bytes: [UInt8] = []
        frame.encode(into: &bytes)
        self.shared.statistics.replied(status: frame.reply.status, byteCount: bytes.count)
        var out = context.channel.allocator.buffer(capacity: bytes.count)
        out.writeBytes(bytes)
        context.write(self.wrapOutboundOut(out), promise: nil)
        if self.isReading {
            self.needsFlush = true
        } else {
            context.flush()
        }
    }

    /// Writes a reply the server sends on its own (request id 0, closing flag) and closes.
    private func writeClosing(_ status: ReplyStatus, _ message: String) {
        self.write(ReplyFrame(requestID: 0, opcode: 0, failure: ErrorReply(status, message: message), isClosing: true))
        self.closeAfterWrites()
    }

    /// Stops serving and closes the channel once what was written has gone out.
    private func closeAfterWrites() {
        guard let context = self.context else { return }
        self.state = .closing
        self.buffer = nil
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    // MARK: - Graceful shutdown

    private func beginDraining() {
        guard case .open = self.state else { return }
        self.state = .draining
        self.logger.debug("draining connection", metadata: ["in_flight": "\(self.inFlightRequests)"])
        self.decodeBuffered()
        self.finishDrainingIfDone()
    }

    private func finishDrainingIfDone() {
        guard case .draining = self.state, self.inFlightRequests == 0, !self.isDecoding else { return }
        self.writeClosing(.shuttingDown, "the server is shutting down")
    }

    // MARK: - Hopping back to the loop

    private func bound() -> LoopBoundHandler {
        LoopBoundHandler(NIOLoopBound(self, eventLoop: self.context!.eventLoop))
    }
}

/// The handler, reachable from engine threads: `run` executes on the handler's loop (at once when
/// already on it, as when this loop's thread applied the batch itself).
struct LoopBoundHandler: Sendable {
    let handler: NIOLoopBound<ConnectionHandler>

    init(_ handler: NIOLoopBound<ConnectionHandler>) {
        self.handler = handler
    }

    var eventLoop: any EventLoop { self.handler.eventLoop }
    var value: ConnectionHandler { self.handler.value }

    func run(_ body: @escaping @Sendable (ConnectionHandler) -> Void) {
        if self.handler.eventLoop.inEventLoop {
            body(self.handler.value)
        } else {
            let handler = self.handler
            self.handler.eventLoop.execute { body(handler.value) }
        }
    }
}
