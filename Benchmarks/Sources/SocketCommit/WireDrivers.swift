import CommitBenchmarkSupport
import Foundation
import TallyCore
import TallyTestKit
import TallyWire

/// Load over `TallyTestKit.WireSocket`: blocking sockets that send and receive frames with nothing
/// in between, so the figures are the server's and the kernel's, not a client library's. The frame
/// is built and encoded before its clock starts; the clock covers `send` to the decoded reply.
enum WireDrivers {
    /// One connection, one single-operation request at a time, durable: `warmup` requests, then
    /// `requests` measured. Returns the tally and the CPU split of the measured requests.
    static func single(
        socketPath: String,
        serverPID: Int32,
        shape: Shape,
        sequences: SequenceSource,
        warmup: Int,
        requests: Int
    ) throws -> (Tally, CPUShare) {
        let socket = try WireSocket(path: socketPath)
        var batch = OperationBatch()
        var legs: [Leg] = []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4_096)
        var tally = Tally()
        var first = CPUSample.take(serverPID: serverPID)
        for index in 0..<(warmup + requests) {
            if index == warmup {
                first = CPUSample.take(serverPID: serverPID)
            }
            shape.fill(&batch, count: 1, sequences: sequences, legs: &legs)
            bytes.removeAll(keepingCapacity: true)
            let id = socket.makeRequestID()
            RequestFrame(requestID: id, .submitBatch(SubmitBatchRequest(batch, acknowledgement: .durable)))
                .encode(into: &bytes)
            let sent = monotonicNanoseconds()
            try socket.send(bytes)
            guard let reply = try socket.receive() else { throw WireSocket.Failure("the server closed the connection") }
            let answered = monotonicNanoseconds()
            guard index >= warmup else { continue }
            if let failure = Self.check(reply, id: id, operations: 1) {
                tally.fail(failure)
            } else {
                tally.requests += 1
                tally.operations += 1
                tally.latency.record(answered - sent)
            }
        }
        let share = CPUShare(from: first, to: CPUSample.take(serverPID: serverPID))
        return (tally, share)
    }

    /// `connections` threads, each with its own connection and one request of `operationsPerRequest`
    /// in flight (a closed loop), durable, until the window ends.
    static func concurrent(
        socketPath: String,
        serverPID: Int32,
        shape: Shape,
        sequences: SequenceSource,
        connections: Int,
        operationsPerRequest: Int,
        warmupSeconds: Double,
        seconds: Double
    ) throws -> (Tally, CPUShare) {
        // Connect every socket first, so that connecting is not in the window.
        var sockets: [WireSocket] = []
        for _ in 0..<connections {
            sockets.append(try WireSocket(path: socketPath))
        }
        let window = Window(warmupSeconds: warmupSeconds, seconds: seconds)
        let sampler = WindowSampler(serverPID: serverPID, start: window.start, end: window.end)
        let shared = SharedTally()
        let finished = DispatchGroup()
        for socket in sockets {
            finished.enter()
            let box = UncheckedBox(socket)
            let thread = Thread {
                Thread.current.name = "bench-wire"
                let counts = Self.closedLoop(
                    socket: box.value,
                    shape: shape,
                    sequences: sequences,
                    operationsPerRequest: operationsPerRequest,
                    window: window,
                    shared: shared
                )
                shared.add(counts)
                finished.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        finished.wait()
        return (shared.value, sampler.finish())
    }

    private static func closedLoop(
        socket: WireSocket,
        shape: Shape,
        sequences: SequenceSource,
        operationsPerRequest: Int,
        window: Window,
        shared: SharedTally
    ) -> Tally {
        var batch = OperationBatch()
        var legs: [Leg] = []
        var bytes: [UInt8] = []
        var counts = Tally()
        do {
            while monotonicNanoseconds() < window.end {
                shape.fill(&batch, count: operationsPerRequest, sequences: sequences, legs: &legs)
                bytes.removeAll(keepingCapacity: true)
                let id = socket.makeRequestID()
                RequestFrame(requestID: id, .submitBatch(SubmitBatchRequest(batch, acknowledgement: .durable)))
                    .encode(into: &bytes)
                let sent = monotonicNanoseconds()
                try socket.send(bytes)
                guard let reply = try socket.receive(timeoutMilliseconds: 60_000) else {
                    counts.fail("the server closed the connection")
                    break
                }
                let answered = monotonicNanoseconds()
                guard window.contains(answered) else { continue }
                if let failure = Self.check(reply, id: id, operations: operationsPerRequest) {
                    counts.fail(failure)
                } else {
                    counts.requests += 1
                    counts.operations += UInt64(operationsPerRequest)
                    shared.record(answered - sent)
                }
            }
        } catch {
            counts.fail("\(error)")
        }
        return counts
    }

    /// One connection with up to `depth` requests of `operationsPerRequest` in flight, durable: the
    /// next request is built, encoded and sent as soon as one is answered (and while the others are
    /// in the server), until the window ends; then the rest are drained, uncounted.
    static func pipelined(
        socketPath: String,
        serverPID: Int32,
        shape: Shape,
        sequences: SequenceSource,
        depth: Int,
        operationsPerRequest: Int,
        warmupSeconds: Double,
        seconds: Double
    ) throws -> (Tally, CPUShare) {
        let socket = try WireSocket(path: socketPath)
        var batch = OperationBatch()
        batch.reserveCapacity(operations: operationsPerRequest, legs: 3 * operationsPerRequest)
        var legs: [Leg] = []
        var bytes: [UInt8] = []
        var sentAt: [UInt64: UInt64] = [:]
        var tally = Tally()
        let window = Window(warmupSeconds: warmupSeconds, seconds: seconds)
        let sampler = WindowSampler(serverPID: serverPID, start: window.start, end: window.end)
        while true {
            let now = monotonicNanoseconds()
            if now < window.end {
                while sentAt.count < depth {
                    shape.fill(&batch, count: operationsPerRequest, sequences: sequences, legs: &legs)
                    bytes.removeAll(keepingCapacity: true)
                    let id = socket.makeRequestID()
                    RequestFrame(requestID: id, .submitBatch(SubmitBatchRequest(batch, acknowledgement: .durable)))
                        .encode(into: &bytes)
                    sentAt[id] = monotonicNanoseconds()
                    try socket.send(bytes)
                }
            }
            guard !sentAt.isEmpty else { break }
            guard let reply = try socket.receive(timeoutMilliseconds: 60_000) else {
                throw WireSocket.Failure("the server closed the connection")
            }
            let answered = monotonicNanoseconds()
            guard let sent = sentAt.removeValue(forKey: reply.requestID) else {
                throw WireSocket.Failure("a reply to request \(reply.requestID), which is not in flight")
            }
            guard window.contains(answered) else { continue }
            if let failure = Self.check(reply, id: reply.requestID, operations: operationsPerRequest) {
                tally.fail(failure)
            } else {
                tally.requests += 1
                tally.operations += UInt64(operationsPerRequest)
                tally.latency.record(answered - sent)
            }
        }
        return (tally, sampler.finish())
    }

    /// Nil when `reply` answers request `id` with `operations` ok results; otherwise what is wrong.
    static func check(_ reply: ReplyFrame, id: UInt64, operations: Int) -> String? {
        guard reply.requestID == id else { return "the reply to \(reply.requestID) instead of \(id)" }
        guard case .submitBatch(let submitted) = reply.reply else { return "the server answered \(reply.reply)" }
        return problem(in: submitted.results, expected: operations)
    }
}

/// Hands a non-Sendable value to the one thread that uses it from then on.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
