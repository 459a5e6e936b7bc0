import CommitBenchmarkSupport
import Dispatch
import LedgerWorkloads
import Synchronization
import TallyCore
import TallyEngine

/// The same closed loop as ``HandlerDriver`` over `async` `submit`: one task per caller, each
/// building its batch and awaiting its answer. Every answer resumes a task on the cooperative pool,
/// so the figures include Swift concurrency's hand-offs.
final class AsyncDriver: Sendable {
    private let totals = Mutex(CallerTotals())
    private let done = DispatchSemaphore(value: 0)

    init(
        engine: Engine,
        callers: Int,
        operationsPerRequest: Int,
        sequences: SequenceSource,
        window: Window
    ) {
        Task.detached { [self] in
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<callers {
                    group.addTask {
                        await self.runCaller(
                            engine: engine,
                            operationsPerRequest: operationsPerRequest,
                            sequences: sequences,
                            window: window
                        )
                    }
                }
            }
            self.done.signal()
        }
    }

    /// Waits for every caller to see `stopping` and its last answer.
    func finish() -> CallerTotals {
        self.done.wait()
        return self.totals.withLock { $0 }
    }

    private func runCaller(
        engine: Engine,
        operationsPerRequest: Int,
        sequences: SequenceSource,
        window: Window
    ) async {
        var batch = OperationBatch()
        batch.reserveCapacity(operations: operationsPerRequest, legs: 2 * operationsPerRequest)
        var legs: [Leg] = []
        var local = CallerTotals()
        while !window.stopping.load(ordering: .acquiring) {
            batch.removeAll(keepingCapacity: true)
            let first = sequences.take(operationsPerRequest)
            for sequence in first..<(first + UInt64(operationsPerRequest)) {
                Workload.appendTransfer(sequence, to: &batch, legs: &legs)
            }
            let submitted = monotonicNanoseconds()
            let result: Result<Engine.Response, any Error>
            do {
                result = .success(try await engine.submit(batch, acknowledgement: .durable))
            } catch {
                result = .failure(error)
            }
            let answered = monotonicNanoseconds()
            guard window.contains(answered) else { continue }
            switch result {
            case .success(let response):
                if let bad = response.results.first(where: { !$0.code.isOK || $0.isReplay }) {
                    local.failures += 1
                    local.firstFailure = local.firstFailure ?? "\(bad)"
                } else {
                    local.requests += 1
                    local.operations += UInt64(response.results.count)
                    // One shared histogram: a histogram per task would take megabytes at 256 tasks.
                    self.totals.withLock { $0.latency.record(answered - submitted) }
                }
            case .failure(let error):
                local.failures += 1
                local.firstFailure = local.firstFailure ?? "\(error)"
            }
        }
        let counted = local
        self.totals.withLock { $0.add(counted) }
    }
}
