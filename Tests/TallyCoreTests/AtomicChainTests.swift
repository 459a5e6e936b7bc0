import TallyTestKit
import Testing

@testable import TallyCore

/// Atomic chains (docs/LEDGER.md, Batches and atomic chains): all or nothing, exact rollback,
/// and what the members' keys remember.
@Suite("Atomic chains")
struct AtomicChainTests {
    let psp = Fixture.psp
    let merchant = Fixture.merchant
    let capped = Fixture.capped

    func pay(_ key: IdempotencyKey, _ amount: UInt128 = 10) -> Operation {
        Op.post(key, [.debit(psp, amount), .credit(merchant, amount)])
    }

    func overdraw(_ key: IdempotencyKey) -> Operation {
        Op.post(key, [.debit(capped, 5_000), .credit(psp, 5_000)])
    }

    /// Everything a failed chain must leave as it found, beyond ``LedgerSnapshot``: aggregates,
    /// the expiry schedule and transaction lookups.
    struct DeepSnapshot: Equatable {
        var snapshot: LedgerSnapshot
        var aggregates: [[(UInt64, Balance)]]
        var due: [TransactionID]
        var nextDeadline: Timestamp?
        var lookups: [TransactionLookup]

        init(_ ledger: Ledger) {
            var ledger = ledger
            self.snapshot = LedgerSnapshot(ledger)
            self.aggregates = []
            for asset in ledger.allAssets {
                for kind in AccountKind.builtIn {
                    for grouping in [AggregateGrouping.merchant, .partner] {
                        self.aggregates.append(ledger.aggregateBalances(kind: kind, asset: asset.code, by: grouping))
                    }
                }
            }
            self.due = ledger.dueHoldExpiries(at: Timestamp(nanosecondsSinceEpoch: .max))
            self.nextDeadline = ledger.nextHoldDeadline()
            self.lookups = (0...ledger.lastTransaction.rawValue + 3).map { ledger.transaction(TransactionID($0)) }
        }

        static func == (lhs: DeepSnapshot, rhs: DeepSnapshot) -> Bool {
            lhs.snapshot == rhs.snapshot && lhs.due == rhs.due && lhs.nextDeadline == rhs.nextDeadline
                && lhs.lookups == rhs.lookups
                && lhs.aggregates.map { $0.map(\.0) } == rhs.aggregates.map { $0.map(\.0) }
                && lhs.aggregates.map { $0.map(\.1) } == rhs.aggregates.map { $0.map(\.1) }
        }
    }

    /// The operations of a chain that touches every kind of state, failing at its last member.
    /// Run on the fixture plus hold 3 (psp → merchant 100, deadline 100 s).
    var everythingThenFailure: [Operation] {
        [
            Op.asset("GBP"),
            Op.account(50, "GBP", .bankCash),
            Op.account(51, "GBP", .merchantPayable, merchant: 7),
            Op.account(52, "USD", .merchantPayable, merchant: 900, partner: 901),
            Op.post(10, [.debit(50, 5), .credit(51, 5)]),
            Op.post(11, [.debit(psp, 5), .credit(52, 5)], refs: ExternalReferences(paymentID: "p-11")),
            Op.hold(12, psp, merchant, 10, timeout: 5),
            Op.capture(13, 3, 40),
            Op.increase(14, 3, 5),
            Op.reverse(15, 1),
            Op.status(Fixture.fees, .frozen),
            Op.void(16, 3),
            Op.status(Fixture.fees, .open),
            overdraw(17),
        ]
    }

    func ledgerWithHold() -> Ledger {
        var ledger = Fixture.ledger()
        #expect(ledger.apply(Op.hold(9, psp, merchant, 100, timeout: 99), at: Fixture.time(1)) == .ok(3))
        return ledger
    }

    @Test func aChainThatSucceedsLeavesTheSameStateAsTheSameOperationsUnlinked() {
        let operations = Array(everythingThenFailure.dropLast()) + [pay(17)]
        var linked = ledgerWithHold()
        var unlinked = ledgerWithHold()
        let chained = linked.apply(operations, linked: Set(0..<operations.count - 1), at: Fixture.time(2))
        let separate = unlinked.apply(operations, at: Fixture.time(2))
        #expect(chained.allSatisfy { $0.code == .ok })
        #expect(chained == separate)
        #expect(chained.compactMap { $0.transactionID == 0 ? nil : $0.transactionID.rawValue } == Array(4...11))
        #expect(linked.digest() == unlinked.digest())
        #expect(linked.checkInvariants() == [])
    }

    @Test func aFailedChainIsUndoneExactly() {
        var ledger = ledgerWithHold()
        var control = ledgerWithHold()
        let before = DeepSnapshot(ledger)
        let operations = everythingThenFailure
        let results = ledger.apply(operations, linked: Set(0..<operations.count - 1), at: Fixture.time(2))
        #expect(results == Array(repeating: .linkedFailed, count: operations.count - 1) + [.rejected(.exceedsCredits)])
        #expect(DeepSnapshot(ledger) == before)
        #expect(ledger.checkInvariants() == [])
        #expect(ledger.asset("GBP") == nil)
        #expect(ledger.account(52) == nil)
        #expect(ledger.aggregateBalance(kind: .merchantPayable, asset: "USD", .merchant(900)) == nil)

        // Every keyed member remembers its reported result; keyless members have nothing to remember.
        for key in (10...16).map(IdempotencyKey.init(integerLiteral:)) {
            #expect(ledger.idempotencyRecord(key)?.result == .linkedFailed)
            #expect(ledger.idempotencyRecord(key)?.transaction == nil)
        }
        #expect(ledger.idempotencyRecord(17)?.result == .rejected(.exceedsCredits))

        // What follows behaves exactly as if the chain had never been sent: the ids are reused,
        // GBP can be created with another scale, the reversal and the hold's capture apply.
        let next: [Operation] = [
            pay(30),
            Op.asset("GBP", scale: 3),
            Op.reverse(31, 1),
            Op.capture(32, 3, 100),
            Op.hold(33, psp, merchant, 1, timeout: 7),
        ]
        let afterChain = ledger.apply(next, at: Fixture.time(3))
        let afterNothing = control.apply(next, at: Fixture.time(3))
        #expect(afterChain == [.ok(4), .ok(), .ok(5), .ok(6), .ok(7)])
        #expect(afterChain == afterNothing)
        #expect(DeepSnapshot(ledger) == DeepSnapshot(control))
        #expect(ledger.dueHoldExpiries(at: Fixture.time(200)) == [7])
    }

    @Test func aHoldUndoneWithItsChainNeverBecomesDue() {
        var ledger = Fixture.ledger()
        let results = ledger.apply(
            [Op.hold(10, psp, merchant, 5, timeout: 10), overdraw(11)],
            linked: [0],
            at: Fixture.time(1)
        )
        #expect(results == [.linkedFailed, .rejected(.exceedsCredits, detail: 0)])
        #expect(ledger.nextHoldDeadline() == nil)
        #expect(ledger.dueHoldExpiries(at: Fixture.time(100)) == [])
    }

    /// The undone hold's id goes to the next transaction: a new hold with a later deadline must
    /// not become due at the undone hold's deadline.
    @Test func aNewHoldReusingAnUndoneHoldsIdIsDueAtItsOwnDeadline() {
        var ledger = Fixture.ledger()
        let results = ledger.apply(
            [Op.hold(10, psp, merchant, 5, timeout: 10), overdraw(11)],
            linked: [0],
            at: Fixture.time(1)
        )
        #expect(results == [.linkedFailed, .rejected(.exceedsCredits, detail: 0)])
        #expect(ledger.apply(Op.hold(12, psp, merchant, 5, timeout: 50), at: Fixture.time(2)) == .ok(3))
        #expect(ledger.dueHoldExpiries(at: Fixture.time(11)) == [])
        #expect(ledger.nextHoldDeadline() == Fixture.time(52))
        #expect(ledger.dueHoldExpiries(at: Fixture.time(51)) == [])
        #expect(ledger.dueHoldExpiries(at: Fixture.time(52)) == [3])
    }

    @Test func aChainOpenAtTheEndOfTheBatchAppliesAndRemembersNothing() {
        var ledger = Fixture.ledger()
        let before = DeepSnapshot(ledger)
        let open = ledger.apply(
            [Op.asset("GBP"), pay(10), overdraw(11), pay(12)],
            linked: [0, 1, 2, 3],
            at: Fixture.time(1)
        )
        #expect(open == Array(repeating: .rejected(.linkedChainOpen), count: 4))
        #expect(DeepSnapshot(ledger) == before)
        for key in (10...12).map(IdempotencyKey.init(integerLiteral:)) {
            #expect(ledger.idempotencyRecord(key) == nil)
        }
        // The corrected batch is not a replay of anything.
        let closed = ledger.apply([Op.asset("GBP"), pay(10), pay(12)], linked: [0, 1], at: Fixture.time(2))
        #expect(closed == [.ok(), .ok(3), .ok(4)])
    }

    /// docs/LEDGER.md: "resending the same chain returns the same results instead of succeeding
    /// later against different balances." Here the first member is the one that fails.
    @Test func resendingAChainThatFailedAtItsFirstMemberReturnsTheSameResults() {
        var ledger = Fixture.ledger()
        let chain = [overdraw(10), pay(11), pay(12)]
        let first = ledger.apply(chain, linked: [0, 1], at: Fixture.time(1))
        #expect(first == [.rejected(.exceedsCredits), .linkedFailed, .linkedFailed])
        // Fund the account so that the chain would now succeed.
        #expect(ledger.apply(Op.post(20, [.debit(psp, 5_000), .credit(capped, 5_000)]), at: Fixture.time(2)) == .ok(3))
        let before = DeepSnapshot(ledger)
        let digest = ledger.digest()
        let again = ledger.apply(chain, linked: [0, 1], at: Fixture.time(2))
        #expect(again.map(\.code) == first.map(\.code))
        #expect(again.map(\.detail) == first.map(\.detail))
        #expect(again[0].isReplay)
        #expect(DeepSnapshot(ledger) == before)
        #expect(ledger.digest() == digest)
    }

    /// The same promise when a middle member fails. Each member's key remembered its own result
    /// (linked_operation_failed, then exceeds_credits, then linked_operation_failed), so the resent
    /// chain must answer those again, not linked_operation_failed for every member.
    @Test func resendingAChainThatFailedInTheMiddleReturnsTheSameResults() {
        var ledger = Fixture.ledger()
        let chain = [pay(10), overdraw(11), pay(12)]
        let first = ledger.apply(chain, linked: [0, 1], at: Fixture.time(1))
        #expect(first == [.linkedFailed, .rejected(.exceedsCredits), .linkedFailed])
        #expect(ledger.idempotencyRecord(11)?.result == .rejected(.exceedsCredits))
        let before = DeepSnapshot(ledger)
        let again = ledger.apply(chain, linked: [0, 1], at: Fixture.time(2))
        #expect(again.map(\.code) == first.map(\.code))
        #expect(again.map(\.detail) == first.map(\.detail))
        #expect(again[0].isReplay)
        #expect(DeepSnapshot(ledger) == before)
    }

    @Test func membersMayCreateTheAssetAndAccountsTheyPostTo() {
        var ledger = Fixture.ledger()
        let chain: [Operation] = [
            Op.asset("GBP", scale: 2),
            Op.account(50, "GBP", .bankCash, flags: .creditsMustNotExceedDebits),
            Op.account(51, "GBP", .merchantPayable, merchant: 5),
            Op.post(10, [.debit(50, 500), .credit(51, 500)]),
            Op.hold(11, 51, 50, 200),
            Op.capture(12, 4, 200),
        ]
        let results = ledger.apply(chain, linked: Set(0..<5), at: Fixture.time(1))
        #expect(results == [.ok(), .ok(), .ok(), .ok(3), .ok(4), .ok(5)])
        #expect(ledger.balance(of: 50) == Balance(debitsPosted: 500, creditsPosted: 200))
        #expect(ledger.balance(of: 51) == Balance(debitsPosted: 200, creditsPosted: 500))
        #expect(
            ledger.aggregateBalance(kind: .merchantPayable, asset: "GBP", .merchant(5))
                == Balance(debitsPosted: 200, creditsPosted: 500)
        )
        #expect(ledger.checkInvariants() == [])
    }

    @Test func aFailedChainThatCreatedAnAssetLetsItBeCreatedAgainWithAnotherScale() {
        var ledger = Fixture.ledger()
        let chain: [Operation] = [
            Op.asset("GBP", scale: 2),
            Op.account(50, "GBP", .bankCash, flags: .creditsMustNotExceedDebits),
            Op.account(51, "GBP", .merchantPayable),
            Op.post(10, [.debit(51, 500), .credit(50, 500)]),
        ]
        let results = ledger.apply(chain, linked: [0, 1, 2], at: Fixture.time(1))
        #expect(results == [.linkedFailed, .linkedFailed, .linkedFailed, .rejected(.exceedsDebits, detail: 1)])
        #expect(ledger.statistics.assets == 3)
        #expect(ledger.statistics.accounts == 13)
        #expect(
            ledger.apply([Op.asset("GBP", scale: 4), Op.account(50, "GBP", .suspense)], at: Fixture.time(2)) == [
                .ok(), .ok(),
            ]
        )
        #expect(ledger.asset("GBP")?.scale == 4)
        #expect(ledger.account(50)?.kind == .suspense)
    }

    @Test func twoMembersWithOneKeyAndTheSameContentApplyOnce() {
        var ledger = Fixture.ledger()
        let results = ledger.apply([pay(10), pay(10), pay(11)], linked: [0, 1], at: Fixture.time(1))
        #expect(results == [.ok(3), OperationResult.ok(3).replayed, .ok(4)])
        #expect(ledger.balance(of: psp) == Balance(debitsPosted: 1_020))
        #expect(ledger.statistics.retainedKeys == 4)
    }

    @Test func twoMembersWithOneKeyAndDifferentContentFailTheChain() {
        var ledger = Fixture.ledger()
        let results = ledger.apply([pay(10), pay(10, 11), pay(12)], linked: [0, 1], at: Fixture.time(1))
        #expect(results == [.linkedFailed, .rejected(.idempotencyConflict), .linkedFailed])
        // The key is remembered once, for the first member's content.
        #expect(ledger.idempotencyRecord(10)?.result == .linkedFailed)
        #expect(ledger.apply(pay(10), at: Fixture.time(2)) == OperationResult.linkedFailed.replayed)
        #expect(ledger.apply(pay(10, 11), at: Fixture.time(2)) == .rejected(.idempotencyConflict))
        #expect(ledger.statistics.retainedKeys == 4)
        #expect(ledger.lastTransaction == 2)
    }

    /// 4,100 keyed members cross a chunk boundary of the key log; undoing them must restore the
    /// log exactly, and the rejections remembered afterwards must all be findable.
    @Test func aLongFailedChainAcrossAKeyChunkBoundary() {
        var ledger = Fixture.ledger()
        var batch = OperationBatch()
        for key in 10_000..<14_099 {
            batch.append(pay(IdempotencyKey(UInt128(key)), 1), linked: true)
        }
        batch.append(overdraw(14_099))
        let before = DeepSnapshot(ledger)
        let results = ledger.apply(batch, at: Fixture.time(1))
        #expect(results.dropLast().allSatisfy { $0 == .linkedFailed })
        #expect(results.last == .rejected(.exceedsCredits))
        #expect(DeepSnapshot(ledger) == before)
        #expect(ledger.statistics.retainedKeys == 2 + 4_100)
        #expect(ledger.checkInvariants() == [])
        for key: IdempotencyKey in [10_000, 14_093, 14_094, 14_095, 14_096, 14_098] {
            #expect(ledger.idempotencyRecord(key)?.result == .linkedFailed)
        }
        // And a long chain that succeeds across the boundary.
        var good = OperationBatch()
        for key in 20_000..<24_200 {
            good.append(pay(IdempotencyKey(UInt128(key)), 1), linked: key < 24_199)
        }
        let applied = ledger.apply(good, at: Fixture.time(2))
        #expect(applied.allSatisfy { $0.code == .ok && !$0.isReplay })
        #expect(applied.last == .ok(4_202))
        #expect(ledger.statistics.retainedKeys == 2 + 4_100 + 4_200)
        #expect(ledger.balance(of: psp) == Balance(debitsPosted: 1_000 + 4_200))
    }

    /// Random operations of every kind, against whatever the ledger holds at the moment.
    static func randomOperations(
        _ count: Int,
        ledger: Ledger,
        keys: inout UInt128,
        random: inout SeededRandom
    ) -> [Operation] {
        let accounts: [AccountID] = [1, 2, 3, 4, 5, 13]
        let holds = ledger.openHolds.map(\.id)
        var operations: [Operation] = []
        for _ in 0..<count {
            keys += 1
            let key = IdempotencyKey(keys)
            let debit = accounts.randomElement(using: &random)!
            let credit = accounts.randomElement(using: &random)!
            let amount = 1 + UInt128(random.next() % 500)
            switch random.next() % 9 {
            case 0: operations.append(Op.post(key, [.debit(debit, amount), .credit(credit, amount)]))
            case 1: operations.append(Op.hold(key, debit, credit, amount, timeout: UInt32(random.next() % 3) * 20))
            case 2:
                guard let hold = holds.randomElement(using: &random) else { continue }
                operations.append(Op.capture(key, hold, amount / 5, final: random.chance(0.5)))
            case 3:
                guard let hold = holds.randomElement(using: &random) else { continue }
                operations.append(Op.increase(key, hold, amount))
            case 4:
                guard let hold = holds.randomElement(using: &random) else { continue }
                operations.append(Op.void(key, hold))
            case 5:
                let last = ledger.lastTransaction.rawValue
                operations.append(Op.reverse(key, TransactionID(1 + random.next() % last)))
            case 6:
                operations.append(
                    Op.status(
                        [Fixture.fees, Fixture.fxUSD].randomElement(using: &random)!,
                        random.chance(0.5) ? .frozen : .open
                    )
                )
            case 7:
                operations.append(
                    Op.account(AccountID(1_000 + UInt64(keys)), "USD", .suspense, merchant: random.next() % 3)
                )
            default:
                operations.append(Op.asset(AssetCode("R\(keys)")!))
            }
        }
        return operations
    }

    /// Random chains forced to fail at their last member change nothing but their keys; the same
    /// operations then applied unlinked evolve the state for the next round.
    @Test(arguments: [11, 12] as [UInt64])
    func randomFailedChainsChangeNothing(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var ledger = Fixture.ledger()
        var keys: UInt128 = 100_000
        var seconds: UInt64 = 1
        for _ in 0..<60 {
            seconds += random.next() % 15
            var chain = Self.randomOperations(1 + Int(random.next() % 12), ledger: ledger, keys: &keys, random: &random)
            keys += 1
            chain.append(overdraw(IdempotencyKey(keys)))
            let before = DeepSnapshot(ledger)
            let results = ledger.apply(chain, linked: Set(0..<chain.count - 1), at: Fixture.time(seconds))
            #expect(results.filter { $0 != .linkedFailed }.count == 1)
            #expect(DeepSnapshot(ledger) == before)
            #expect(ledger.checkInvariants() == [])

            let operations = Self.randomOperations(
                1 + Int(random.next() % 12),
                ledger: ledger,
                keys: &keys,
                random: &random
            )
            ledger.apply(operations, at: Fixture.time(seconds))
            for hold in ledger.dueHoldExpiries(at: Fixture.time(seconds)) {
                #expect(ledger.apply(Op.expire(hold), at: Fixture.time(seconds)).code == .ok)
            }
            #expect(ledger.checkInvariants() == [])
        }
        #expect(ledger.lastTransaction.rawValue > 30)
    }
}
