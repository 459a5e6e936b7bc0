import TallyTestKit
import Testing

@testable import TallyCore

/// Every transition of a hold (docs/LEDGER.md, Holds), scripted one operation at a time.
@Suite("Hold lifecycle")
struct HoldLifecycleTests {
    let psp = Fixture.psp
    let merchant = Fixture.merchant

    /// The fixture plus hold 3: psp → merchant, `amount`, with `timeout` seconds (0: none).
    func harnessWithHold(_ amount: UInt128 = 100, timeout: UInt32 = 0) -> Harness {
        var harness = Harness()
        let result = harness.apply { Op.hold($0, psp, merchant, amount, timeout: timeout) }
        #expect(result == .ok(3))
        return harness
    }

    func expectPendingZero(_ harness: Harness, sourceLocation: SourceLocation = #_sourceLocation) {
        for account in harness.ledger.allAccounts {
            #expect(account.balance.debitsPending == 0, "account \(account.id)", sourceLocation: sourceLocation)
            #expect(account.balance.creditsPending == 0, "account \(account.id)", sourceLocation: sourceLocation)
        }
        #expect(harness.ledger.openHolds == [], sourceLocation: sourceLocation)
    }

    @Test func partialCapturesThenAFinalCaptureReleasesTheRemainder() {
        var harness = harnessWithHold()
        #expect(harness.apply { Op.capture($0, 3, 30) } == .ok(4))
        #expect(harness.ledger.hold(3)?.captured == 30)
        #expect(harness.balance(psp) == Balance(debitsPosted: 1_030, debitsPending: 70))
        #expect(harness.apply { Op.capture($0, 3, 20) } == .ok(5))
        #expect(harness.ledger.hold(3)?.remaining == 50)
        #expect(harness.apply { Op.capture($0, 3, 10, final: true) } == .ok(6))
        #expect(harness.ledger.hold(3) == nil)
        #expect(harness.balance(psp) == Balance(debitsPosted: 1_060))
        #expect(harness.balance(merchant) == Balance(creditsPosted: 1_060))
        #expect(harness.record(4)?.released == 0)
        #expect(harness.record(4)?.isFinal == false)
        #expect(harness.record(6)?.released == 40)
        #expect(harness.record(6)?.isFinal == true)
        #expect(harness.holdAccount(3) == (held: 100, captured: 60, released: 40))
        #expect(harness.apply { Op.capture($0, 3, 1) } == .rejected(.holdAlreadyFinal))
        expectPendingZero(harness)
    }

    @Test func aCaptureOfExactlyTheRemainderFinishesTheHold() {
        var harness = harnessWithHold()
        #expect(harness.apply { Op.capture($0, 3, 70) } == .ok(4))
        #expect(harness.apply { Op.capture($0, 3, 30) } == .ok(5))
        #expect(harness.ledger.hold(3) == nil)
        #expect(harness.record(5)?.released == 0)
        #expect(harness.record(5)?.isFinal == false)
        #expect(harness.holdAccount(3) == (held: 100, captured: 100, released: 0))
        #expect(harness.apply { Op.void($0, 3) } == .rejected(.holdAlreadyFinal))
        expectPendingZero(harness)
    }

    @Test func aFinalCaptureOfTheWholeRemainderReleasesNothing() {
        var harness = harnessWithHold()
        #expect(harness.apply { Op.capture($0, 3, 100, final: true) } == .ok(4))
        #expect(harness.record(4)?.released == 0)
        #expect(harness.record(4)?.isFinal == true)
        expectPendingZero(harness)
    }

    @Test func anIncreaseLetsACaptureExceedTheOriginalAmount() {
        var harness = harnessWithHold()
        #expect(harness.apply { Op.increase($0, 3, 50) } == .ok(4))
        #expect(harness.ledger.hold(3)?.amount == 150)
        #expect(harness.balance(psp) == Balance(debitsPosted: 1_000, debitsPending: 150))
        #expect(harness.apply { Op.capture($0, 3, 130) } == .ok(5))
        #expect(harness.ledger.hold(3)?.remaining == 20)
        #expect(harness.apply { Op.capture($0, 3, 21) } == .rejected(.captureExceedsHold))
        #expect(harness.apply { Op.capture($0, 3, 20) } == .ok(6))
        #expect(harness.holdAccount(3) == (held: 150, captured: 150, released: 0))
        #expect(harness.balance(psp) == Balance(debitsPosted: 1_150))
        expectPendingZero(harness)
    }

    @Test func voidReleasesEverythingThatRemains() {
        var harness = harnessWithHold()
        #expect(harness.apply { Op.void($0, 3) } == .ok(4))
        #expect(harness.record(4)?.released == 100)
        #expect(harness.record(4)?.legs == [.debit(psp, 100), .credit(merchant, 100)])
        #expect(harness.balance(psp) == Fixture.balances[psp])
        #expect(harness.holdAccount(3) == (held: 100, captured: 0, released: 100))
        expectPendingZero(harness)
    }

    @Test func voidAfterAPartialCaptureReleasesTheRest() {
        var harness = harnessWithHold()
        #expect(harness.apply { Op.capture($0, 3, 35) } == .ok(4))
        #expect(harness.apply { Op.void($0, 3) } == .ok(5))
        #expect(harness.record(5)?.released == 65)
        #expect(harness.balance(psp) == Balance(debitsPosted: 1_035))
        #expect(harness.holdAccount(3) == (held: 100, captured: 35, released: 65))
        expectPendingZero(harness)
    }

    @Test func voidWorksWhileAnAccountIsFrozenButCaptureAndIncreaseDoNot() {
        var harness = harnessWithHold()
        #expect(harness.apply(Op.status(merchant, .frozen)) == .ok())
        #expect(harness.apply { Op.capture($0, 3, 1) } == .rejected(.accountFrozen, detail: 1))
        #expect(harness.apply { Op.increase($0, 3, 1) } == .rejected(.accountFrozen, detail: 1))
        #expect(harness.apply { Op.void($0, 3) } == .ok(4))
        #expect(harness.ledger.account(merchant)?.status == .frozen)
        expectPendingZero(harness)
    }

    @Test func afterTheDeadlineOnlyTheExpiryCanFinishTheHold() {
        var harness = harnessWithHold(timeout: 30)
        let deadline = Fixture.time(31)
        #expect(harness.ledger.hold(3)?.deadline == deadline)
        harness.seconds = 20
        #expect(harness.apply(Op.expire(3)) == .rejected(.holdNotDue))
        #expect(harness.apply { Op.capture($0, 3, 10) } == .ok(4))
        harness.seconds = 31
        #expect(harness.apply { Op.capture($0, 3, 1) } == .rejected(.holdExpired))
        #expect(harness.apply { Op.increase($0, 3, 1) } == .rejected(.holdExpired))
        #expect(harness.apply { Op.void($0, 3) } == .rejected(.holdExpired))
        #expect(harness.ledger.hold(3)?.remaining == 90)
        harness.seconds = 45
        #expect(harness.apply(Op.expire(3)) == .ok(5))
        #expect(harness.record(5)?.released == 90)
        #expect(harness.record(5)?.link == 3)
        #expect(harness.holdAccount(3) == (held: 100, captured: 10, released: 90))
        #expect(harness.balance(psp) == Balance(debitsPosted: 1_010))
        #expect(harness.apply(Op.expire(3)) == .rejected(.holdAlreadyFinal))
        #expect(harness.apply { Op.capture($0, 3, 1) } == .rejected(.holdAlreadyFinal))
        expectPendingZero(harness)
    }

    @Test func anIncreaseDoesNotMoveTheDeadline() {
        var harness = harnessWithHold(timeout: 30)
        harness.seconds = 25
        #expect(harness.apply { Op.increase($0, 3, 10) } == .ok(4))
        #expect(harness.ledger.hold(3)?.deadline == Fixture.time(31))
        harness.seconds = 31
        #expect(harness.ledger.dueHoldExpiries(at: harness.now) == [3])
        #expect(harness.apply(Op.expire(3)) == .ok(5))
        #expect(harness.record(5)?.released == 110)
    }

    @Test func aHoldWithoutDeadlineIsNeverDue() {
        var harness = harnessWithHold()
        harness.seconds = 316_224_000 * 3
        #expect(harness.apply(Op.expire(3)) == .rejected(.holdNotDue))
        #expect(harness.ledger.dueHoldExpiries(at: Timestamp(nanosecondsSinceEpoch: .max)) == [])
        #expect(harness.ledger.nextHoldDeadline() == nil)
        #expect(harness.apply { Op.capture($0, 3, 100) } == .ok(4))
    }

    @Test func everyWayOfFinishingLeavesAFinalHold() {
        var harness = Harness()
        for _ in 0..<4 {
            harness.apply { Op.hold($0, psp, merchant, 10, timeout: 5) }
        }
        // Holds 3 to 6: finished by a final capture, a full capture, a void, an expiry.
        #expect(harness.apply { Op.capture($0, 3, 4, final: true) } == .ok(7))
        #expect(harness.apply { Op.capture($0, 4, 10) } == .ok(8))
        #expect(harness.apply { Op.void($0, 5) } == .ok(9))
        harness.seconds = 6
        #expect(harness.apply(Op.expire(6)) == .ok(10))
        for hold: TransactionID in [3, 4, 5, 6] {
            #expect(harness.apply { Op.capture($0, hold, 1) } == .rejected(.holdAlreadyFinal))
            #expect(harness.apply { Op.increase($0, hold, 1) } == .rejected(.holdAlreadyFinal))
            #expect(harness.apply { Op.void($0, hold) } == .rejected(.holdAlreadyFinal))
            #expect(harness.apply(Op.expire(hold)) == .rejected(.holdAlreadyFinal))
            let account = harness.holdAccount(hold)
            #expect(account.held == 10 && account.captured + account.released == 10)
        }
        expectPendingZero(harness)
    }

    @Test func dueExpiriesComeEarliestDeadlineFirstThenById() {
        var harness = Harness()
        harness.seconds = 0
        harness.apply { Op.hold($0, psp, merchant, 1, timeout: 50) }  // 3: deadline 50
        harness.apply { Op.hold($0, psp, merchant, 1, timeout: 20) }  // 4: deadline 20
        harness.apply { Op.hold($0, psp, merchant, 1, timeout: 20) }  // 5: deadline 20, voided
        harness.apply { Op.hold($0, psp, merchant, 1) }  // 6: no deadline
        harness.apply { Op.hold($0, psp, merchant, 2, timeout: 20) }  // 7: deadline 20, captured
        harness.seconds = 5
        #expect(harness.apply { Op.void($0, 5) } == .ok(8))
        #expect(harness.apply { Op.capture($0, 7, 2) } == .ok(9))
        harness.seconds = 10
        harness.apply { Op.hold($0, psp, merchant, 1, timeout: 10) }  // 10: deadline 20
        harness.apply { Op.hold($0, psp, merchant, 1, timeout: 5) }  // 11: deadline 15

        #expect(harness.ledger.dueHoldExpiries(at: Fixture.time(14, plusNanoseconds: 999_999_999)) == [])
        #expect(harness.ledger.dueHoldExpiries(at: Fixture.time(15)) == [11])
        #expect(harness.ledger.dueHoldExpiries(at: Fixture.time(20)) == [11, 4, 10])
        #expect(harness.ledger.dueHoldExpiries(at: Fixture.time(60)) == [11, 4, 10, 3])
        #expect(harness.ledger.dueHoldExpiries(at: Fixture.time(60), limit: 2) == [11, 4])
        // Asking changes nothing: the same answer again.
        #expect(harness.ledger.dueHoldExpiries(at: Fixture.time(60)) == [11, 4, 10, 3])
        #expect(harness.ledger.nextHoldDeadline() == Fixture.time(15))

        harness.seconds = 20
        for hold in harness.ledger.dueHoldExpiries(at: harness.now) {
            #expect(harness.apply(Op.expire(hold)).code == .ok)
        }
        #expect(harness.ledger.dueHoldExpiries(at: Fixture.time(60)) == [3])
        #expect(harness.ledger.nextHoldDeadline() == Fixture.time(50))
        harness.seconds = 50
        #expect(harness.apply(Op.expire(3)).code == .ok)
        #expect(harness.ledger.dueHoldExpiries(at: Timestamp(nanosecondsSinceEpoch: .max)) == [])
        #expect(harness.ledger.nextHoldDeadline() == nil)
        #expect(harness.ledger.openHolds.map(\.id) == [6])
    }

    /// Random lifecycles on many holds: whatever happens, captured + released never exceeds what
    /// was held, equals it once the hold is finished, and the accounts' pending amounts are exactly
    /// what the open holds still reserve.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomLifecyclesKeepTheHoldArithmetic(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var harness = Harness()
        var holds: [TransactionID] = []
        for _ in 0..<300 {
            harness.seconds += random.next() % 3
            switch random.next() % 6 {
            case 0, 1:
                let timeout = random.chance(0.5) ? UInt32(random.next() % 20) : 0
                let result = harness.apply {
                    Op.hold($0, psp, merchant, 1 + UInt128(random.next() % 100), timeout: timeout)
                }
                #expect(result.code == .ok)
                holds.append(result.transactionID)
            case 2:
                guard let hold = holds.randomElement(using: &random) else { continue }
                let amount = UInt128(random.next() % 60)
                _ = harness.apply { Op.capture($0, hold, amount, final: random.chance(0.3)) }
            case 3:
                guard let hold = holds.randomElement(using: &random) else { continue }
                _ = harness.apply { Op.increase($0, hold, UInt128(random.next() % 30)) }
            case 4:
                guard let hold = holds.randomElement(using: &random) else { continue }
                _ = harness.apply { Op.void($0, hold) }
            default:
                for hold in harness.ledger.dueHoldExpiries(at: harness.now) {
                    #expect(harness.apply(Op.expire(hold)).code == .ok)
                }
            }
            #expect(harness.ledger.checkInvariants() == [])
        }
        var pending: UInt128 = 0
        for hold in holds {
            let account = harness.holdAccount(hold)
            if let open = harness.ledger.hold(hold) {
                #expect(open.amount == account.held)
                #expect(open.captured == account.captured)
                #expect(account.released == 0)
                #expect(account.captured < account.held)
                pending += open.remaining
            } else {
                #expect(account.captured + account.released == account.held)
            }
        }
        #expect(harness.balance(psp).debitsPending == pending)
        #expect(harness.balance(merchant).creditsPending == pending)
        // Settle every open hold: the pending balances return to zero.
        harness.seconds += 1_000
        for hold in holds where harness.ledger.hold(hold) != nil {
            let result =
                harness.ledger.hold(hold)!.deadline == .zero
                ? harness.apply { Op.void($0, hold) } : harness.apply(Op.expire(hold))
            #expect(result.code == .ok)
        }
        expectPendingZero(harness)
        for hold in holds {
            let account = harness.holdAccount(hold)
            #expect(account.captured + account.released == account.held)
        }
    }
}
