import CommitBenchmarkSupport
import LedgerWorkloads
import Synchronization
import TallyCore

/// The operations a scenario posts: 3-leg card captures with a fee (PSP receivable debited,
/// merchant payable and fee revenue credited) or 2-leg transfers between merchant payables, each
/// with a fresh idempotency key.
enum Shape: String, Codable, Sendable {
    case capture
    case transfer

    func append(_ sequence: UInt64, to batch: inout OperationBatch, legs: inout [Leg]) {
        switch self {
        case .capture: Workload.appendCapture(sequence, to: &batch, legs: &legs)
        case .transfer: Workload.appendTransfer(sequence, to: &batch, legs: &legs)
        }
    }

    /// Empties `batch` and fills it with `count` operations from `sequences`.
    func fill(_ batch: inout OperationBatch, count: Int, sequences: SequenceSource, legs: inout [Leg]) {
        batch.removeAll(keepingCapacity: true)
        let first = sequences.take(count)
        for sequence in first..<(first + UInt64(count)) {
            self.append(sequence, to: &batch, legs: &legs)
        }
    }
}

/// Sequence numbers for fresh keys, shared by every caller of the process; they start far above
/// the prefill's transfers so that no key is ever a replay.
final class SequenceSource: Sendable {
    private let next = Atomic<UInt64>(1 << 40)

    func take(_ count: Int) -> UInt64 {
        self.next.add(UInt64(count), ordering: .relaxed).oldValue
    }
}

/// The measured window: answers that arrive in it are counted (throughput) and their latencies
/// recorded; what comes before is warmup.
struct Window: Sendable {
    var start: UInt64
    var end: UInt64

    init(warmupSeconds: Double, seconds: Double) {
        self.start = monotonicNanoseconds() + UInt64(warmupSeconds * 1e9)
        self.end = self.start + UInt64(seconds * 1e9)
    }

    func contains(_ instant: UInt64) -> Bool { instant >= self.start && instant < self.end }

    var seconds: Double { Double(self.end - self.start) / 1e9 }
}

/// What callers counted in the window.
struct Tally: Sendable {
    var latency = LatencyRecorder()
    var requests: UInt64 = 0
    var operations: UInt64 = 0
    var failures: UInt64 = 0
    var firstFailure: String?

    mutating func add(_ other: Tally) {
        self.latency.add(other.latency)
        self.requests += other.requests
        self.operations += other.operations
        self.failures += other.failures
        self.firstFailure = self.firstFailure ?? other.firstFailure
    }

    /// Counts a failure (a refusal, a rejected operation, a transport error).
    mutating func fail(_ description: String) {
        self.failures += 1
        self.firstFailure = self.firstFailure ?? description
    }
}

/// A shared ``Tally`` for many callers: each adds its own counts once at the end; latencies go into
/// the one histogram as they come (a histogram per caller would take megabytes at 64 callers).
final class SharedTally: Sendable {
    private let tally = Mutex(Tally())

    func record(_ nanoseconds: UInt64) {
        self.tally.withLock { $0.latency.record(nanoseconds) }
    }

    func add(_ counts: Tally) {
        self.tally.withLock { $0.add(counts) }
    }

    var value: Tally { self.tally.withLock { $0 } }
}

/// Checks a submit's results: every one ok and none a replay.
func problem(in results: [OperationResult], expected count: Int) -> String? {
    guard results.count == count else { return "\(results.count) results for \(count) operations" }
    if let bad = results.first(where: { !$0.code.isOK || $0.isReplay }) {
        return "a result \(bad)"
    }
    return nil
}
