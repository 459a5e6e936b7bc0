import Foundation
import Histogram
import Synchronization
import TallyClient
import TallyCore
import TallyTestKit
import TallyWire

/// The traffic of `tally load`: one seeded ``PaymentWorkload`` per connection (the same chart of
/// accounts, set up idempotently by each; keys of their own), each sending one request at a time
/// and feeding every result back to its workload, so that follow-ups (captures of holds, refunds,
/// reversals, chargebacks) refer to what really happened. Latency is per request, from the send to
/// the reply, in an HdrHistogram.
struct LoadRun {
    struct Options: Sendable {
        var socketPath: String
        var workload: PaymentWorkload.Configuration
        var operations: Int
        var seconds: Double?
        var connections: Int
        var operationsPerRequest: Int
        /// Operations per second over all connections; nil: as fast as the server answers.
        var rate: Double?
        var acknowledgement: Acknowledgement
        var verifier: LoadVerifier?
        var progress: (@Sendable (Progress) -> Void)?
        var progressIntervalSeconds: Double
    }

    struct Progress: Sendable {
        var operations: Int
        var target: Int
        var elapsedSeconds: Double
        var operationsPerSecond: Double
        var p50Microseconds: UInt64
        var p99Microseconds: UInt64
        var errors: Int
    }

    struct Outcome: Sendable {
        var operations = 0
        var setupOperations = 0
        var requests = 0
        var seconds = 0.0
        var latency = Histogram<UInt64>(highestTrackableValue: 600_000_000)
        var results: [ResultCode: Int] = [:]
        var replays = 0
        var errors = 0
        var errorExamples: [String] = []
    }

    /// Shared between the connections: operations sent, for the limit and the progress line.
    private final class Shared: Sendable {
        let operations = Atomic<Int>(0)
        let errors = Atomic<Int>(0)
        let latency = Mutex(Histogram<UInt64>(highestTrackableValue: 600_000_000))
        let stop = Atomic<Bool>(false)
    }

    let options: Options

    func run() async throws -> Outcome {
        var clients: [TallyClient] = []
        for _ in 0..<self.options.connections {
            clients.append(
                try await TallyClient.connect(
                    socketPath: self.options.socketPath,
                    configuration: TallyClient.Configuration(clientName: "tally-load", requestTimeout: .seconds(120))
                )
            )
        }
        let shared = Shared()
        let start = ContinuousClock.now
        let options = self.options
        let progressTask = Task {
            guard let progress = options.progress else { return }
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(options.progressIntervalSeconds))
                let elapsed = (ContinuousClock.now - start).inSeconds
                let done = shared.operations.load(ordering: .relaxed)
                let (p50, p99) = shared.latency.withLock {
                    $0.totalCount == 0 ? (0, 0) : ($0.valueAtPercentile(50), $0.valueAtPercentile(99))
                }
                progress(
                    Progress(
                        operations: done,
                        target: options.operations,
                        elapsedSeconds: elapsed,
                        operationsPerSecond: elapsed > 0 ? Double(done) / elapsed : 0,
                        p50Microseconds: p50,
                        p99Microseconds: p99,
                        errors: shared.errors.load(ordering: .relaxed)
                    )
                )
            }
        }
        var outcome = Outcome()
        await withTaskGroup(of: Outcome.self) { group in
            for (index, client) in clients.enumerated() {
                var configuration = options.workload
                // One workload per connection: the same chart, keys and amounts of its own.
                configuration.seed = options.workload.seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
                group.addTask {
                    await Self.drive(
                        client,
                        connection: index,
                        workload: PaymentWorkload(configuration: configuration),
                        options: options,
                        shared: shared,
                        start: start
                    )
                }
            }
            for await part in group {
                outcome.operations += part.operations
                outcome.setupOperations += part.setupOperations
                outcome.requests += part.requests
                outcome.replays += part.replays
                outcome.errors += part.errors
                outcome.errorExamples += part.errorExamples.prefix(10 - min(10, outcome.errorExamples.count))
                for (code, count) in part.results { outcome.results[code, default: 0] += count }
            }
        }
        outcome.seconds = (ContinuousClock.now - start).inSeconds
        progressTask.cancel()
        outcome.latency = shared.latency.withLock { $0 }
        for client in clients { await client.close() }
        return outcome
    }

    private static func drive(
        _ client: TallyClient,
        connection: Int,
        workload: PaymentWorkload,
        options: Options,
        shared: Shared,
        start: ContinuousClock.Instant
    ) async -> Outcome {
        var workload = workload
        var outcome = Outcome()
        var batch = OperationBatch()
        let perConnectionRate = options.rate.map { $0 / Double(options.connections) }
        var sentOperations = 0
        while !shared.stop.load(ordering: .relaxed) {
            let isSetup = !workload.isSetUp
            var count = options.operationsPerRequest
            if !isSetup {
                // Claim operations against the limit shared by every connection.
                let before = shared.operations.add(count, ordering: .relaxed).oldValue
                if before >= options.operations { break }
                count = min(count, options.operations - before)
                if let seconds = options.seconds, (ContinuousClock.now - start).inSeconds >= seconds {
                    shared.stop.store(true, ordering: .relaxed)
                    break
                }
                if let perConnectionRate {
                    // Open-loop pacing: this connection's next request is due at this time.
                    let due = start + .seconds(Double(sentOperations) / perConnectionRate)
                    if due > ContinuousClock.now { try? await Task.sleep(until: due) }
                }
            }
            _ = workload.nextBatch(into: &batch, count: count)
            var created: [AccountID] = []
            if isSetup {
                for index in 0..<batch.count {
                    if case .createAccount(let account) = batch.operation(at: index) { created.append(account.id) }
                }
            }
            var sent = ContinuousClock.now
            var answer: SubmitBatchReply?
            while answer == nil {
                options.verifier?.sending(on: connection)
                sent = ContinuousClock.now
                do {
                    answer = try await client.submit(batch, acknowledgement: options.acknowledgement)
                } catch {
                    options.verifier?.abandoned(on: connection)
                    outcome.errors += 1
                    shared.errors.add(1, ordering: .relaxed)
                    if outcome.errorExamples.count < 10 { outcome.errorExamples.append("\(error)") }
                    // Busy: nothing was done; the same batch again shortly. Anything else ends this
                    // connection (its workload cannot go on without the batch's results).
                    guard error.code == .server, error.status == .busy else { return outcome }
                    try? await Task.sleep(for: .milliseconds(1))
                }
            }
            let reply = answer!
            let microseconds = UInt64(max(1, (ContinuousClock.now - sent).inSeconds * 1e6))
            shared.latency.withLock { _ = $0.record(min(microseconds, 600_000_000)) }
            options.verifier?.received(
                batch,
                sequence: reply.sequence,
                recordedTime: reply.recordedTime,
                results: reply.results,
                on: connection,
                createdAccounts: created
            )
            workload.observe(reply.results, of: batch)
            outcome.requests += 1
            for result in reply.results {
                outcome.results[result.code, default: 0] += 1
                if result.isReplay { outcome.replays += 1 }
            }
            if isSetup {
                outcome.setupOperations += batch.count
            } else {
                outcome.operations += batch.count
                sentOperations += batch.count
            }
        }
        return outcome
    }

}
