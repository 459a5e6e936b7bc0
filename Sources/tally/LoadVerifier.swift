import Synchronization
import TallyCore

/// What `tally load` expects of the server, rebuilt from the replies it received: every batch is
/// applied to a ledger of its own in the order the server applied them (by the journal sequence
/// each reply carries), at the engine time each reply reports, with the hold expiries the engine
/// would have made before it. Each operation's result must be the server's, and at the end every
/// account's balance and every aggregate must be the server's too.
///
/// Replies from several connections arrive out of order, and sequences the client never sees
/// (the engine's expiry sweeps) leave gaps. A batch is applied once no batch still in flight can
/// have a lower sequence: a request sent when the highest sequence seen was `M` is applied after
/// `M`, so everything at or below the lowest such `M` over the requests in flight is final.
///
/// The model holds for a server no other client writes to, with the default ledger settings.
final class LoadVerifier: Sendable {
    private struct Pending: Comparable {
        var sequence: UInt64
        var recordedTime: Timestamp
        var batch: OperationBatch
        var results: [OperationResult]

        static func < (lhs: Pending, rhs: Pending) -> Bool { lhs.sequence < rhs.sequence }
        static func == (lhs: Pending, rhs: Pending) -> Bool { lhs.sequence == rhs.sequence }
    }

    private struct State: ~Copyable {
        var ledger: Ledger
        var pending: [Pending] = []
        /// For each connection with a request in flight: the highest sequence seen when it was sent.
        var inFlight: [Int: UInt64] = [:]
        var highestSeen: UInt64 = 0
        var applied = 0
        var mismatches = 0
        var examples: [String] = []
        var accounts: Set<AccountID> = []
        var scratch: [OperationResult] = []
        var expiries = OperationBatch()
    }

    private let state: Mutex<State>

    init(configuration: LedgerConfiguration) {
        self.state = Mutex(State(ledger: Ledger(configuration: configuration)))
    }

    /// Connection `connection` is about to send a request.
    func sending(on connection: Int) {
        self.state.withLock { $0.inFlight[connection] = $0.highestSeen }
    }

    /// The connection's request failed: it will never be answered.
    func abandoned(on connection: Int) {
        self.state.withLock { state in
            state.inFlight[connection] = nil
            Self.applyFinal(&state)
        }
    }

    /// Connection `connection` received the reply to `batch`.
    func received(
        _ batch: OperationBatch,
        sequence: UInt64,
        recordedTime: Timestamp,
        results: [OperationResult],
        on connection: Int,
        createdAccounts: [AccountID]
    ) {
        self.state.withLock { state in
            state.inFlight[connection] = nil
            state.highestSeen = max(state.highestSeen, sequence)
            state.accounts.formUnion(createdAccounts)
            let entry = Pending(sequence: sequence, recordedTime: recordedTime, batch: batch, results: results)
            // Kept sorted; replies come nearly in order, so the insertion point is near the end.
            var index = state.pending.count
            while index > 0 && state.pending[index - 1].sequence > sequence { index -= 1 }
            state.pending.insert(entry, at: index)
            Self.applyFinal(&state)
        }
    }

    private static func applyFinal(_ state: inout State) {
        let watermark = state.inFlight.values.min() ?? .max
        var taken = 0
        while taken < state.pending.count && state.pending[taken].sequence <= watermark {
            let entry = state.pending[taken]
            Self.sweep(&state, at: entry.recordedTime)
            state.ledger.apply(entry.batch, at: entry.recordedTime, results: &state.scratch)
            for (index, (expected, actual)) in zip(state.scratch, entry.results).enumerated() where expected != actual {
                state.mismatches += 1
                if state.examples.count < 10 {
                    state.examples.append(
                        "sequence \(entry.sequence) operation \(index): the server answered \(actual.code) transaction \(actual.transactionID.rawValue), the model \(expected.code) transaction \(expected.transactionID.rawValue)"
                    )
                }
            }
            state.applied += entry.batch.count
            taken += 1
        }
        state.pending.removeFirst(taken)
    }

    /// The hold expiries the engine makes before a batch at `time` (in sweeps of at most 4,096).
    private static func sweep(_ state: inout State, at time: Timestamp) {
        while let deadline = state.ledger.nextHoldDeadline(), deadline <= time {
            let due = state.ledger.dueHoldExpiries(at: time, limit: 4_096)
            guard !due.isEmpty else { return }
            state.expiries.removeAll(keepingCapacity: true)
            for hold in due { state.expiries.appendExpiry(hold: hold) }
            state.ledger.apply(state.expiries, at: time, results: &state.scratch)
        }
    }

    /// Expires what the engine would have expired by `time` (the engine's time at the end).
    func sweep(through time: Timestamp) {
        self.state.withLock { Self.sweep(&$0, at: time) }
    }

    var summary: (applied: Int, mismatches: Int, examples: [String], unapplied: Int) {
        self.state.withLock { ($0.applied, $0.mismatches, $0.examples, $0.pending.count) }
    }

    var accounts: [AccountID] { self.state.withLock { $0.accounts.sorted { $0.rawValue < $1.rawValue } } }

    /// Reads the model's ledger.
    func read<Value>(_ body: (borrowing Ledger) -> Value) -> Value {
        self.state.withLock { body($0.ledger) }
    }
}
