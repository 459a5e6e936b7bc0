import CommitBenchmarkSupport
import Foundation
import LedgerWorkloads
import TallyCore
import TallyEngine

/// A closed loop of `callers` virtual callers over the completion-handler `submit`: each caller has
/// one request in flight at a time and submits its next as soon as the previous one is answered.
///
/// Completions run on the engine's threads, which must not be held up, so they only queue the
/// answer; a few caller threads take answered callers from the queue, build each one's next batch
/// and submit it. This is how a server's event loops would use the engine, and it keeps Swift
/// concurrency's hand-offs (a task resumed on the cooperative pool per answer) out of the figure.
final class HandlerDriver: @unchecked Sendable {
    // @unchecked: `answered`, `outstanding` and `totals` are guarded by `condition`; a `Caller`
    // belongs to the thread that took it from `answered` until it is answered again.

    private final class Caller: @unchecked Sendable {
        // @unchecked: used by one thread at a time, handed over through `condition`.
        let index: Int
        var batch = OperationBatch()
        var submittedAt: UInt64 = 0

        init(index: Int, operations: Int) {
            self.index = index
            self.batch.reserveCapacity(operations: operations, legs: 2 * operations)
        }
    }

    private struct Answer {
        var caller: Caller
        /// 0 before a caller's first request.
        var answeredAt: UInt64
        var result: Result<Engine.Response, EngineError>?
    }

    private let engine: Engine
    private let operationsPerRequest: Int
    private let sequences: SequenceSource
    private let window: Window
    private let condition = NSCondition()
    private var answered: [Answer]
    private var outstanding: Int
    private let finished = DispatchGroup()
    private var totals: [CallerTotals]

    /// Starts `threads` caller threads driving `callers` callers of `operationsPerRequest` 2-leg
    /// transfers each, until `window.stopping` is set; ``finish()`` waits for the answers in flight.
    init(
        engine: Engine,
        callers: Int,
        operationsPerRequest: Int,
        threads: Int,
        sequences: SequenceSource,
        window: Window
    ) {
        self.engine = engine
        self.operationsPerRequest = operationsPerRequest
        self.sequences = sequences
        self.window = window
        self.answered = (0..<callers).map {
            Answer(caller: Caller(index: $0, operations: operationsPerRequest), answeredAt: 0, result: nil)
        }
        self.outstanding = callers
        self.totals = Array(repeating: CallerTotals(), count: threads)
        for index in 0..<threads {
            self.finished.enter()
            let thread = Thread { [self] in
                Thread.current.name = "bench-caller"
                let totals = self.runCallerThread()
                self.condition.lock()
                self.totals[index] = totals
                self.condition.unlock()
                self.finished.leave()
            }
            thread.start()
        }
    }

    /// Waits for every caller thread to end, then returns what they counted.
    func finish() -> CallerTotals {
        self.condition.lock()
        self.condition.broadcast()
        self.condition.unlock()
        self.finished.wait()
        var total = CallerTotals()
        for totals in self.totals {
            total.add(totals)
        }
        return total
    }

    private func runCallerThread() -> CallerTotals {
        var totals = CallerTotals()
        var legs: [Leg] = []
        legs.reserveCapacity(2)
        var taken: [Answer] = []
        self.condition.lock()
        while true {
            while self.answered.isEmpty && self.outstanding > 0 {
                // Wakes up now and then to see `stopping` even when nothing is answered.
                _ = self.condition.wait(until: Date(timeIntervalSinceNow: 0.05))
            }
            if self.answered.isEmpty {
                break
            }
            swap(&taken, &self.answered)
            self.condition.unlock()
            let stopping = self.window.stopping.load(ordering: .acquiring)
            for answer in taken {
                if let result = answer.result {
                    self.count(result, of: answer.caller, answeredAt: answer.answeredAt, into: &totals)
                }
                if !stopping {
                    self.submit(answer.caller, legs: &legs)
                }
            }
            let ended = stopping ? taken.count : 0
            taken.removeAll(keepingCapacity: true)
            self.condition.lock()
            self.outstanding -= ended
            if self.outstanding == 0 {
                self.condition.broadcast()
            }
        }
        self.condition.unlock()
        return totals
    }

    private func count(
        _ result: Result<Engine.Response, EngineError>,
        of caller: Caller,
        answeredAt: UInt64,
        into totals: inout CallerTotals
    ) {
        guard self.window.contains(answeredAt) else { return }
        switch result {
        case .success(let response):
            if let bad = response.results.first(where: { !$0.code.isOK || $0.isReplay }) {
                totals.failures += 1
                totals.firstFailure = totals.firstFailure ?? "\(bad)"
                return
            }
            totals.requests += 1
            totals.operations += UInt64(response.results.count)
            totals.latency.record(answeredAt - caller.submittedAt)
        case .failure(let error):
            totals.failures += 1
            totals.firstFailure = totals.firstFailure ?? "\(error)"
        }
    }

    private func submit(_ caller: Caller, legs: inout [Leg]) {
        caller.batch.removeAll(keepingCapacity: true)
        let first = self.sequences.take(self.operationsPerRequest)
        for sequence in first..<(first + UInt64(self.operationsPerRequest)) {
            Workload.appendTransfer(sequence, to: &caller.batch, legs: &legs)
        }
        caller.submittedAt = monotonicNanoseconds()
        self.engine.submit(caller.batch, acknowledgement: .durable) { [self] result in
            let answeredAt = monotonicNanoseconds()
            self.condition.lock()
            self.answered.append(Answer(caller: caller, answeredAt: answeredAt, result: result))
            if self.answered.count == 1 {
                self.condition.signal()
            }
            self.condition.unlock()
        }
    }
}
