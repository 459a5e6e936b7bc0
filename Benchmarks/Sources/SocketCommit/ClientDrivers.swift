import CommitBenchmarkSupport
import Foundation
import TallyClient
import TallyCore
import TallyWire

/// Load over `TallyClient`, the product's async client (SwiftNIO, one connection per client, replies
/// matched by request id). The clock covers the whole `submit` call, the client's encoding and its
/// hand-offs between the event loop and the calling task included; building the operation is
/// outside it.
enum ClientDrivers {
    /// How a lone caller submits its one operation.
    enum SingleMode: String, Codable, Sendable {
        /// `submit(_ operation:)`: the coalescing path a typical caller uses.
        case operation
        /// `submit(_ batch:)` with a batch of one: no coalescer.
        case batch
    }

    /// One client, one caller, one single-operation request at a time, durable.
    static func single(
        socketPath: String,
        serverPID: Int32,
        shape: Shape,
        sequences: SequenceSource,
        mode: SingleMode,
        warmup: Int,
        requests: Int
    ) async throws -> (Tally, CPUShare) {
        let client = try await TallyClient.connect(socketPath: socketPath)
        var batch = OperationBatch()
        var legs: [Leg] = []
        var tally = Tally()
        var first = CPUSample.take(serverPID: serverPID)
        for index in 0..<(warmup + requests) {
            if index == warmup {
                first = CPUSample.take(serverPID: serverPID)
            }
            shape.fill(&batch, count: 1, sequences: sequences, legs: &legs)
            let failure: String?
            let sent: UInt64
            let answered: UInt64
            switch mode {
            case .operation:
                let operation = batch.operation(at: 0)
                sent = monotonicNanoseconds()
                let outcome = try await client.submit(operation, acknowledgement: .durable)
                answered = monotonicNanoseconds()
                failure = problem(in: [outcome.result], expected: 1)
            case .batch:
                sent = monotonicNanoseconds()
                let reply = try await client.submit(batch, acknowledgement: .durable)
                answered = monotonicNanoseconds()
                failure = problem(in: reply.results, expected: 1)
            }
            guard index >= warmup else { continue }
            if let failure {
                tally.fail(failure)
            } else {
                tally.requests += 1
                tally.operations += 1
                tally.latency.record(answered - sent)
            }
        }
        let share = CPUShare(from: first, to: CPUSample.take(serverPID: serverPID))
        await client.close()
        return (tally, share)
    }

    /// `clients` clients, each its own connection driven by one task in a closed loop of
    /// `submit(_ operation:)` (so every request carries one operation: a lone caller per client is
    /// never coalesced with another), durable, until the window ends.
    static func concurrent(
        socketPath: String,
        serverPID: Int32,
        shape: Shape,
        sequences: SequenceSource,
        clients count: Int,
        warmupSeconds: Double,
        seconds: Double
    ) async throws -> (Tally, CPUShare) {
        var clients: [TallyClient] = []
        for _ in 0..<count {
            clients.append(try await TallyClient.connect(socketPath: socketPath))
        }
        let window = Window(warmupSeconds: warmupSeconds, seconds: seconds)
        let sampler = WindowSampler(serverPID: serverPID, start: window.start, end: window.end)
        let shared = SharedTally()
        await withTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask {
                    var batch = OperationBatch()
                    var legs: [Leg] = []
                    var counts = Tally()
                    while monotonicNanoseconds() < window.end {
                        shape.fill(&batch, count: 1, sequences: sequences, legs: &legs)
                        let operation = batch.operation(at: 0)
                        let sent = monotonicNanoseconds()
                        let outcome: Result<OperationOutcome, any Error>
                        do {
                            outcome = .success(try await client.submit(operation, acknowledgement: .durable))
                        } catch {
                            outcome = .failure(error)
                        }
                        let answered = monotonicNanoseconds()
                        guard window.contains(answered) else { continue }
                        switch outcome {
                        case .success(let outcome):
                            if let failure = problem(in: [outcome.result], expected: 1) {
                                counts.fail(failure)
                            } else {
                                counts.requests += 1
                                counts.operations += 1
                                shared.record(answered - sent)
                            }
                        case .failure(let error):
                            counts.fail("\(error)")
                        }
                    }
                    shared.add(counts)
                }
            }
        }
        let share = sampler.finish()
        for client in clients {
            await client.close()
        }
        return (shared.value, share)
    }

    /// One client with `depth` tasks, each keeping one `submit(_ batch:)` of `operationsPerRequest`
    /// in flight (so up to `depth` requests pipelined on the one connection), durable.
    static func pipelined(
        socketPath: String,
        serverPID: Int32,
        shape: Shape,
        sequences: SequenceSource,
        depth: Int,
        operationsPerRequest: Int,
        warmupSeconds: Double,
        seconds: Double
    ) async throws -> (Tally, CPUShare) {
        let client = try await TallyClient.connect(socketPath: socketPath)
        let window = Window(warmupSeconds: warmupSeconds, seconds: seconds)
        let sampler = WindowSampler(serverPID: serverPID, start: window.start, end: window.end)
        let shared = SharedTally()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<depth {
                group.addTask {
                    var batch = OperationBatch()
                    batch.reserveCapacity(operations: operationsPerRequest, legs: 3 * operationsPerRequest)
                    var legs: [Leg] = []
                    var counts = Tally()
                    while monotonicNanoseconds() < window.end {
                        shape.fill(&batch, count: operationsPerRequest, sequences: sequences, legs: &legs)
                        let sent = monotonicNanoseconds()
                        let reply: Result<SubmitBatchReply, any Error>
                        do {
                            reply = .success(try await client.submit(batch, acknowledgement: .durable))
                        } catch {
                            reply = .failure(error)
                        }
                        let answered = monotonicNanoseconds()
                        guard window.contains(answered) else { continue }
                        switch reply {
                        case .success(let reply):
                            if let failure = problem(in: reply.results, expected: operationsPerRequest) {
                                counts.fail(failure)
                            } else {
                                counts.requests += 1
                                counts.operations += UInt64(operationsPerRequest)
                                shared.record(answered - sent)
                            }
                        case .failure(let error):
                            counts.fail("\(error)")
                        }
                    }
                    shared.add(counts)
                }
            }
        }
        let share = sampler.finish()
        await client.close()
        return (shared.value, share)
    }
}
