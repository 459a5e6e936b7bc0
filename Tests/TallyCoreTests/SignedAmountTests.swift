import Testing

@testable import TallyCore

@Suite("SignedAmount")
struct SignedAmountTests {
    @Test func differenceOfTwo() {
        #expect(SignedAmount(5, minus: 3) == SignedAmount(magnitude: 2, isNegative: false))
        #expect(SignedAmount(3, minus: 5) == SignedAmount(magnitude: 2, isNegative: true))
        #expect(SignedAmount(7, minus: 7) == .zero)
        #expect(SignedAmount(0, minus: .max) == SignedAmount(magnitude: .max, isNegative: true))
        #expect(SignedAmount(.max, minus: 0) == SignedAmount(magnitude: .max, isNegative: false))
    }

    @Test func zeroIsNeverNegative() {
        #expect(!SignedAmount(magnitude: 0, isNegative: true).isNegative)
        #expect(SignedAmount(magnitude: 0, isNegative: true) == .zero)
        #expect(SignedAmount(magnitude: 0, isNegative: true).description == "0")
    }

    @Test func differenceOfThree() {
        #expect(SignedAmount(10, minus: 3, 4) == SignedAmount(magnitude: 3, isNegative: false))
        #expect(SignedAmount(10, minus: 6, 7) == SignedAmount(magnitude: 3, isNegative: true))
        #expect(SignedAmount(10, minus: 6, 4) == .zero)
    }

    /// The subtrahends' sum does not fit in 128 bits: exact while the magnitude fits, saturated
    /// at `UInt128.max` beyond.
    @Test func subtrahendsBeyond128Bits() {
        // 5 - (2^128 - 1) - 1 = -(2^128 - 5): fits.
        #expect(SignedAmount(5, minus: .max, 1) == SignedAmount(magnitude: .max - 4, isNegative: true))
        // 5 - (2^128 - 1) - 6 = -(2^128): does not fit, saturates.
        #expect(SignedAmount(5, minus: .max, 6) == SignedAmount(magnitude: .max, isNegative: true))
        // 5 - (2^128 - 1) - 5 = -(2^128 - 1): exactly the largest magnitude.
        #expect(SignedAmount(5, minus: .max, 5) == SignedAmount(magnitude: .max, isNegative: true))
        #expect(SignedAmount(0, minus: .max, .max) == SignedAmount(magnitude: .max, isNegative: true))
        #expect(SignedAmount(.max, minus: .max, .max) == SignedAmount(magnitude: .max, isNegative: true))
        #expect(SignedAmount(.max, minus: .max, 1) == SignedAmount(magnitude: 1, isNegative: true))
    }

    @Test func description() {
        #expect(SignedAmount(3, minus: 5).description == "-2")
        #expect(SignedAmount(5, minus: 3).description == "2")
        #expect(SignedAmount(0, minus: .max).description == "-340282366920938463463374607431768211455")
    }
}

@Suite("Balance")
struct BalanceTests {
    let balance = Balance(debitsPosted: 100, creditsPosted: 1_000, debitsPending: 30, creditsPending: 70)

    @Test func availableOnTheCreditSideSubtractsPendingDebitsOnly() {
        #expect(self.balance.available(on: .credit) == SignedAmount(magnitude: 870, isNegative: false))
        #expect(self.balance.posted(on: .credit) == SignedAmount(magnitude: 900, isNegative: false))
    }

    @Test func availableOnTheDebitSideSubtractsPendingCreditsOnly() {
        #expect(self.balance.available(on: .debit) == SignedAmount(magnitude: 970, isNegative: true))
        #expect(self.balance.posted(on: .debit) == SignedAmount(magnitude: 900, isNegative: true))
        let asset = Balance(debitsPosted: 1_000, creditsPosted: 100, debitsPending: 500, creditsPending: 50)
        #expect(asset.available(on: .debit) == SignedAmount(magnitude: 850, isNegative: false))
    }

    @Test func availableSaturatesInsteadOfTrapping() {
        let extreme = Balance(debitsPosted: .max, creditsPosted: 0, debitsPending: .max, creditsPending: .max)
        #expect(extreme.available(on: .credit) == SignedAmount(magnitude: .max, isNegative: true))
        #expect(extreme.available(on: .debit) == SignedAmount(magnitude: 0, isNegative: false))
    }

    @Test func settledToZero() {
        #expect(Balance.zero.isSettledToZero)
        #expect(Balance(debitsPosted: 5, creditsPosted: 5).isSettledToZero)
        #expect(!Balance(debitsPosted: 5, creditsPosted: 4).isSettledToZero)
        #expect(!Balance(debitsPosted: 5, creditsPosted: 5, debitsPending: 1).isSettledToZero)
        #expect(!Balance(creditsPending: 1).isSettledToZero)
    }

    @Test func accountsReportAvailableOnTheirNormalSide() {
        var ledger = Fixture.ledger()
        // capped (credit-normal): 1,000 credits; a 300 hold debits it, a 200 hold credits it.
        #expect(ledger.apply(Op.hold(10, Fixture.capped, Fixture.merchant, 300), at: Fixture.time(1)) == .ok(3))
        #expect(ledger.apply(Op.hold(11, Fixture.psp, Fixture.capped, 200), at: Fixture.time(1)) == .ok(4))
        #expect(ledger.account(Fixture.capped)?.available == SignedAmount(magnitude: 700, isNegative: false))
        // psp (debit-normal): 1,000 debits, 200 pending debit (incoming), nothing pending against it.
        #expect(ledger.account(Fixture.psp)?.available == SignedAmount(magnitude: 1_000, isNegative: false))
        // merchant (credit-normal): 1,000 credits, 300 pending credit not yet available.
        #expect(ledger.account(Fixture.merchant)?.available == SignedAmount(magnitude: 1_000, isNegative: false))
        // fees (credit-normal) debited 50: negative available.
        #expect(
            ledger.apply(Op.post(12, [.debit(Fixture.fees, 50), .credit(Fixture.psp, 50)]), at: Fixture.time(1))
                == .ok(5)
        )
        #expect(ledger.account(Fixture.fees)?.available == SignedAmount(magnitude: 50, isNegative: true))
    }
}
