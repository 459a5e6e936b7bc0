import CommitBenchmarkSupport
import Foundation
import Synchronization
import TallyCore
import TallyEngine

/// One answered request: when it was answered and how long it took (monotonic nanoseconds).
struct Completion: Sendable {
    var end: UInt64
    var nanoseconds: UInt64
}

/// The postings of the measurement: single-operation 2-leg transfers between random existing
/// merchant accounts, each with a fresh idempotency key (never one of the build's).
struct TransferSource {
    let shape: StateShape
    private var random: UInt64
    private var sequence: UInt64

    init(shape: StateShape, seed: UInt64) {
        self.shape = shape
        self.random = seed
        // The build's keys use sequences below the operation count; these stay far above.
        self.sequence = 1 << 40 | seed << 32
    }

    /// SplitMix64.
    private mutating func next() -> UInt64 {
        self.random &+= 0x9E37_79B9_7F4A_7C15
        return StateShape.mix(self.random)
    }

    mutating func fill(_ batch: inout OperationBatch, legs: inout [Leg]) {
        batch.removeAll(keepingCapacity: true)
        let draw = self.next()
        let debit = self.shape.merchant(draw)
        var credit = self.shape.merchant(draw >> 32)
        if credit == debit {
            credit = StateShape.feeRevenue
        }
        let amount = UInt128(100 + (draw >> 40) % 100_000)
        legs.removeAll(keepingCapacity: true)
        legs.append(.debit(debit, amount))
        legs.append(.credit(credit, amount))
        batch.appendPost(TransactionHeader(key: StateShape.key(self.sequence), type: .settlement), legs: legs)
        self.sequence += 1
    }
}

/// A closed loop of `callers` callers, each with one single-operation durable request in flight,
/// driven from one thread, recording every answer's time and latency from start to ``stop()``.
///
/// One caller waits for each answer on its own thread (as EngineCommit's single-request latency
/// does), so its latency includes the wake-up of the waiting caller. Several callers are driven as
/// EngineCommit's HandlerDriver drives them: completions only queue the answer and the caller
/// thread submits the next request; latency runs from submission to the completion.
final class PostingLoop: @unchecked Sendable {
    // @unchecked: `answered` is behind `condition`; the rest belongs to the caller thread until
    // `finished` is signalled, then to the thread that called stop().
    private let engine: Engine
    private let callers: Int
    private var source: TransferSource
    private let stopping = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let condition = NSCondition()
    private var answered: [(caller: Int, end: UInt64, ok: Bool, failure: String?)] = []
    private var completions: [Completion] = []
    private(set) var failures = 0
    private(set) var firstFailure: String?

    init(engine: Engine, callers: Int, shape: StateShape, seed: UInt64, registry: ThreadRegistry) {
        self.engine = engine
        self.callers = max(1, callers)
        self.source = TransferSource(shape: shape, seed: seed)
        self.completions.reserveCapacity(1 << 22)
        let thread = Thread { [self] in
            registry.registerCurrent(.caller)
            if self.callers == 1 {
                self.runOneCaller()
            } else {
                self.runCallers()
            }
            self.finished.signal()
        }
        thread.start()
    }

    /// Stops submitting, waits for the answers in flight and returns every answer recorded.
    func stop() -> [Completion] {
        self.stopping.store(true, ordering: .releasing)
        self.condition.lock()
        self.condition.broadcast()
        self.condition.unlock()
        self.finished.wait()
        return self.completions
    }

    private static func check(_ result: Result<Engine.Response, EngineError>) -> String? {
        switch result {
        case .success(let response):
            if let bad = response.results.first(where: { !$0.code.isOK || $0.isReplay }) {
                return "\(bad)"
            }
            return nil
        case .failure(let error):
            return "\(error)"
        }
    }

    private func note(_ failure: String?) {
        guard let failure else { return }
        self.failures += 1
        self.firstFailure = self.firstFailure ?? failure
    }

    private func runOneCaller() {
        var batch = OperationBatch()
        var legs: [Leg] = []
        let answer = DispatchSemaphore(value: 0)
        let outcome = Mutex<String?>(nil)
        while !self.stopping.load(ordering: .acquiring) {
            self.source.fill(&batch, legs: &legs)
            let started = monotonicNanoseconds()
            self.engine.submit(batch, acknowledgement: .durable) { result in
                outcome.withLock { $0 = Self.check(result) }
                answer.signal()
            }
            answer.wait()
            let ended = monotonicNanoseconds()
            let failure = outcome.withLock { $0 }
            self.note(failure)
            if failure == nil {
                self.completions.append(Completion(end: ended, nanoseconds: ended - started))
            }
        }
    }

    private func runCallers() {
        var batches = Array(repeating: OperationBatch(), count: self.callers)
        var submittedAt = Array(repeating: UInt64(0), count: self.callers)
        var legs: [Leg] = []
        var outstanding = 0
        var taken: [(caller: Int, end: UInt64, ok: Bool, failure: String?)] = []
        func submit(_ caller: Int) {
            self.source.fill(&batches[caller], legs: &legs)
            submittedAt[caller] = monotonicNanoseconds()
            outstanding += 1
            self.engine.submit(batches[caller], acknowledgement: .durable) { [self] result in
                let end = monotonicNanoseconds()
                let failure = Self.check(result)
                self.condition.lock()
                self.answered.append((caller, end, failure == nil, failure))
                if self.answered.count == 1 {
                    self.condition.signal()
                }
                self.condition.unlock()
            }
        }
        for caller in 0..<self.callers {
            submit(caller)
        }
        while outstanding > 0 {
            self.condition.lock()
            while self.answered.isEmpty {
                _ = self.condition.wait(until: Date(timeIntervalSinceNow: 0.05))
            }
            swap(&taken, &self.answered)
            self.condition.unlock()
            let stopping = self.stopping.load(ordering: .acquiring)
            for answer in taken {
                outstanding -= 1
                self.note(answer.failure)
                if answer.ok {
                    self.completions.append(
                        Completion(end: answer.end, nanoseconds: answer.end - submittedAt[answer.caller])
                    )
                }
                if !stopping {
                    submit(answer.caller)
                }
            }
            taken.removeAll(keepingCapacity: true)
        }
    }
}
