import TallyCore

/// The batches one submitter sends, seeded by (seed, run, submitter).
///
/// One asset and a small set of accounts shared by every submitter, so that balance constraints
/// are in play and submitters race for the same balances: the PSP receivable may not be credited
/// beyond its debits (settlements are rejected once they outrun captures), and each merchant's
/// payable may not be debited beyond its credits (payouts, transfers and holds are rejected once
/// they outrun what was captured for it). Each submitter works one merchant account and sends
/// 2- and 3-leg posts, holds with and without timeouts, partial and final captures, increases and
/// voids of its own holds (including holds an earlier run left open), reversals of its own posts,
/// atomic chains (some failing as a whole), a few invalid operations, and retries of earlier keys.
///
/// Keys are `run << 96 | (submitter + 1) << 64 | counter`: unique per submitter and run, so that
/// runs never collide, and never zero.
struct CrashWorkload {
    static let asset: AssetCode = "USD"
    static let pspReceivable: AccountID = 1
    static let bankCash: AccountID = 2
    static let feeRevenue: AccountID = 3
    static let rollingReserve: AccountID = 4
    static let submittersMax = 16
    /// Engine time of a fresh directory; later runs continue from the recovered recorded time.
    static let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    static func merchant(_ submitter: Int) -> AccountID {
        AccountID(1_000 + UInt64(submitter))
    }

    /// Creates the asset and every account, for all ``submittersMax`` submitters: sent at the start
    /// of every run, it is applied once and replayed (`ok` with the replay flag) ever after.
    static var setup: OperationBatch {
        var batch = OperationBatch()
        batch.append(.createAsset(CreateAsset(code: Self.asset, scale: 2)))
        batch.append(
            .createAccount(
                CreateAccount(
                    id: Self.pspReceivable,
                    asset: Self.asset,
                    kind: .pspReceivable,
                    flags: .creditsMustNotExceedDebits
                )
            )
        )
        batch.append(.createAccount(CreateAccount(id: Self.bankCash, asset: Self.asset, kind: .bankCash)))
        batch.append(.createAccount(CreateAccount(id: Self.feeRevenue, asset: Self.asset, kind: .feeRevenue)))
        batch.append(.createAccount(CreateAccount(id: Self.rollingReserve, asset: Self.asset, kind: .rollingReserve)))
        for submitter in 0..<Self.submittersMax {
            batch.append(
                .createAccount(
                    CreateAccount(
                        id: Self.merchant(submitter),
                        asset: Self.asset,
                        kind: .merchantPayable,
                        merchant: UInt64(submitter + 1),
                        flags: .debitsMustNotExceedCredits
                    )
                )
            )
        }
        return batch
    }

    private struct OpenHold {
        var id: TransactionID
        /// What this submitter believes remains; a guess when an earlier run placed the hold.
        var remaining: UInt128
    }

    let submitter: Int
    let run: UInt64
    private let merchant: AccountID
    private var random: SplitMix64
    private var counter: UInt64 = 0
    private var holds: [OpenHold] = []
    /// Posts and captures of this submitter, for reversals.
    private var reversible: [TransactionID] = []
    /// Operations already answered, for retries.
    private var sent: [Operation] = []
    /// The operations of the batch in flight, for ``observe(_:)``.
    private var pending: [Operation] = []

    init(seed: UInt64, run: UInt64, submitter: Int, openHolds: [HoldInfo]) {
        self.submitter = submitter
        self.run = run
        self.merchant = Self.merchant(submitter)
        self.random = SplitMix64(seed: seed ^ (run &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(submitter) << 48))
        // Holds an earlier run left open on this merchant are this submitter's to finish.
        self.holds = openHolds.filter { $0.debit == self.merchant }.map {
            OpenHold(id: $0.id, remaining: $0.amount - $0.captured)
        }
    }

    /// Seconds of engine time to let pass before the next batch: about one per batch, so that holds
    /// with timeouts of 1 to 120 seconds expire while the run goes on.
    mutating func nextClockAdvanceNanoseconds() -> UInt64 {
        self.random.below(2_000) * 1_000_000
    }

    /// The next batch: mostly 1 to 10 operations, sometimes with an atomic chain; one in 20 has 20 to
    /// 150, so that some journal writes span many pages and some records fill a good part of a
    /// small segment.
    mutating func nextBatch(into batch: inout OperationBatch) {
        batch.removeAll()
        self.pending.removeAll(keepingCapacity: true)
        let count = self.random.chance(percent: 5) ? 20 + Int(self.random.below(131)) : 1 + Int(self.random.below(10))
        var chainLeft = 0
        for _ in 0..<count {
            if chainLeft == 0 && self.random.chance(percent: 8) {
                chainLeft = 2 + Int(self.random.below(2))
            }
            let inChain = chainLeft > 0
            // A retry is sent alone, never inside a chain: its key was decided before.
            let operation =
                !inChain && !self.sent.isEmpty && self.random.chance(percent: 4)
                ? self.sent[Int(self.random.below(UInt64(self.sent.count)))]
                : self.nextOperation()
            if inChain {
                chainLeft -= 1
            }
            batch.append(operation, linked: chainLeft > 0)
            self.pending.append(operation)
        }
        // A batch never ends inside a chain (that would make every member linked_chain_open).
        if chainLeft > 0 {
            batch.setLinked(false, at: batch.count - 1)
        }
    }

    /// Takes the results of the batch from ``nextBatch(into:)`` into account.
    mutating func observe(_ results: [OperationResult]) {
        precondition(results.count == self.pending.count)
        for (operation, result) in zip(self.pending, results) {
            self.observe(operation, result)
            if self.sent.count < 64 {
                self.sent.append(operation)
            } else {
                self.sent[Int(self.random.below(64))] = operation
            }
        }
    }

    private mutating func observe(_ operation: Operation, _ result: OperationResult) {
        switch operation {
        case .post:
            if result.code == .ok && !result.isReplay {
                self.remember(reversible: result.transactionID)
            }
        case .hold(_, let terms, _):
            if result.code == .ok && !result.isReplay {
                self.holds.append(OpenHold(id: result.transactionID, remaining: terms.amount))
            }
        case .capture(_, let terms, _):
            guard let index = self.holds.firstIndex(where: { $0.id == terms.hold }) else { return }
            if result.code == .ok && !result.isReplay {
                self.remember(reversible: result.transactionID)
                self.holds[index].remaining -= min(terms.amount, self.holds[index].remaining)
                if terms.isFinal || self.holds[index].remaining == 0 {
                    self.holds.remove(at: index)
                }
            } else if Self.finishesHold(result.code) {
                self.holds.remove(at: index)
            }
        case .increaseHold(_, let terms, _):
            guard let index = self.holds.firstIndex(where: { $0.id == terms.hold }) else { return }
            if result.code == .ok && !result.isReplay {
                self.holds[index].remaining += terms.amount
            } else if Self.finishesHold(result.code) {
                self.holds.remove(at: index)
            }
        case .voidHold(_, let hold, _):
            if result.code == .ok || Self.finishesHold(result.code) {
                self.holds.removeAll { $0.id == hold }
            }
        case .reverse(_, let transaction, _):
            self.reversible.removeAll { $0 == transaction }
        case .createAsset, .createAccount, .setAccountStatus, .expireHold:
            break
        }
    }

    /// Codes after which a hold will never take another capture.
    private static func finishesHold(_ code: ResultCode) -> Bool {
        code == .holdExpired || code == .holdAlreadyFinal || code == .holdNotFound
    }

    private mutating func remember(reversible id: TransactionID) {
        if self.reversible.count >= 256 {
            self.reversible.removeFirst()
        }
        self.reversible.append(id)
    }

    private mutating func nextKey() -> IdempotencyKey {
        self.counter += 1
        return IdempotencyKey(UInt128(self.run) << 96 | UInt128(self.submitter + 1) << 64 | UInt128(self.counter))
    }

    private mutating func amount(_ range: ClosedRange<UInt64>) -> UInt128 {
        UInt128(range.lowerBound + self.random.below(range.upperBound - range.lowerBound + 1))
    }

    private mutating func nextOperation() -> Operation {
        let roll = self.random.below(100)
        switch roll {
        case 0..<18:
            // A card capture: the PSP owes it, the merchant is owed it less the fee.
            let amount = self.amount(200...20_000)
            let fee = amount / 40 + 1
            return .post(
                TransactionHeader(key: self.nextKey(), type: .capture),
                legs: [
                    .debit(Self.pspReceivable, amount), .credit(self.merchant, amount - fee),
                    .credit(Self.feeRevenue, fee),
                ]
            )
        case 18..<26:
            let amount = self.amount(100...5_000)
            return .post(
                TransactionHeader(key: self.nextKey(), type: .capture),
                legs: [.debit(Self.pspReceivable, amount), .credit(self.merchant, amount)]
            )
        case 26..<34:
            // Settlement: the PSP pays the bank; rejected (exceeds_debits) once it outruns captures.
            let amount = self.amount(1_000...60_000)
            return .post(
                TransactionHeader(key: self.nextKey(), type: .settlement),
                legs: [.debit(Self.bankCash, amount), .credit(Self.pspReceivable, amount)]
            )
        case 34..<44:
            // Payout; rejected (exceeds_credits) when the merchant has not earned it.
            let amount = self.amount(500...30_000)
            return .post(
                TransactionHeader(key: self.nextKey(), type: .payout),
                legs: [.debit(self.merchant, amount), .credit(Self.bankCash, amount)]
            )
        case 44..<50:
            let amount = self.amount(500...30_000)
            let fee = amount / 100 + 1
            return .post(
                TransactionHeader(key: self.nextKey(), type: .payout),
                legs: [
                    .debit(self.merchant, amount), .credit(Self.bankCash, amount - fee), .credit(Self.feeRevenue, fee),
                ]
            )
        case 50..<55:
            // A transfer to another submitter's merchant: the two race on each other's balance.
            let other = Self.merchant((self.submitter + 1 + Int(self.random.below(3))) % Self.submittersMax)
            let amount = self.amount(100...8_000)
            return .post(
                TransactionHeader(key: self.nextKey(), type: .adjustment, actor: 7, reason: 1),
                legs: [.debit(self.merchant, amount), .credit(other, amount)]
            )
        case 55..<68:
            let timeout = self.random.chance(percent: 20) ? 0 : UInt32(1 + self.random.below(120))
            return .hold(
                TransactionHeader(key: self.nextKey(), type: .reserveHold),
                HoldTerms(
                    debit: self.merchant,
                    credit: Self.rollingReserve,
                    amount: self.amount(100...10_000),
                    timeoutSeconds: timeout
                )
            )
        case 68..<80:
            return self.captureOrFallback()
        case 80..<84:
            guard let hold = self.someHold() else { return self.nextOperation() }
            return .increaseHold(
                TransactionHeader(key: self.nextKey(), type: .reserveHold),
                IncreaseTerms(hold: hold.id, amount: self.amount(1...2_000))
            )
        case 84..<91:
            guard let hold = self.someHold() else { return self.nextOperation() }
            return .voidHold(TransactionHeader(key: self.nextKey(), type: .reserveRelease), hold: hold.id)
        case 91..<96:
            guard !self.reversible.isEmpty else { return self.nextOperation() }
            let transaction = self.reversible[Int(self.random.below(UInt64(self.reversible.count)))]
            return .reverse(TransactionHeader(key: self.nextKey(), type: .refund), transaction: transaction)
        default:
            // Invalid on purpose: rejections are remembered under their keys like successes.
            if self.random.chance(percent: 50) {
                return .post(
                    TransactionHeader(key: self.nextKey(), type: .capture),
                    legs: [.debit(Self.pspReceivable, 0), .credit(self.merchant, 0)]
                )
            }
            return .post(
                TransactionHeader(key: self.nextKey(), type: .capture),
                legs: [.debit(Self.pspReceivable, 100), .credit(self.merchant, 99)]
            )
        }
    }

    private mutating func captureOrFallback() -> Operation {
        guard let hold = self.someHold() else { return self.nextOperation() }
        let header = TransactionHeader(key: self.nextKey(), type: .capture)
        let roll = self.random.below(10)
        let remaining = max(hold.remaining, 1)
        switch roll {
        case 0..<3:
            return .capture(header, CaptureTerms(hold: hold.id, amount: remaining, isFinal: true))
        case 3..<7:
            return .capture(
                header,
                CaptureTerms(hold: hold.id, amount: UInt128(1 + self.random.below(UInt64(remaining))))
            )
        case 7:
            // More than remains: capture_exceeds_hold, unless an increase made room.
            return .capture(header, CaptureTerms(hold: hold.id, amount: remaining + 1))
        default:
            return .capture(
                header,
                CaptureTerms(hold: hold.id, amount: UInt128(1 + self.random.below(UInt64(remaining))), isFinal: true)
            )
        }
    }

    private mutating func someHold() -> OpenHold? {
        guard !self.holds.isEmpty else { return nil }
        return self.holds[Int(self.random.below(UInt64(self.holds.count)))]
    }
}

/// SplitMix64: small, seedable, good enough to pick operations.
private struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0 ..< bound` (bound > 0).
    mutating func below(_ bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        return self.next() % bound
    }

    mutating func chance(percent: UInt64) -> Bool {
        self.below(100) < percent
    }
}
