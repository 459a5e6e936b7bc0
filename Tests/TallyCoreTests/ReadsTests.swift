import Testing

@testable import TallyCore

/// Reads (docs/LEDGER.md, Reads and Aggregates): aggregate balances kept by (kind, asset), per
/// merchant and per partner, and the statistics' counts.
@Suite("Reads")
struct ReadsTests {
    @Test func aggregatesSumTheirAccountsByKindMerchantAndPartner() {
        var ledger = Ledger()
        let setup: [Operation] = [
            Op.asset("USD"),
            Op.asset("EUR"),
            Op.account(1, "USD", .merchantPayable, merchant: 30, partner: 7),
            Op.account(2, "USD", .merchantPayable, merchant: 10, partner: 7),
            Op.account(3, "USD", .merchantPayable, merchant: 30),
            Op.account(4, "USD", .merchantPayable),
            Op.account(5, "USD", .pspReceivable, partner: 7),
            Op.account(6, "EUR", .merchantPayable, merchant: 30),
            Op.account(7, "EUR", .pspReceivable),
        ]
        #expect(ledger.apply(setup, at: Fixture.time(0)).allSatisfy { $0 == .ok() })
        let movements: [Operation] = [
            Op.post(1, [.debit(5, 600), .credit(1, 100), .credit(2, 200), .credit(3, 300)]),
            Op.post(2, [.debit(1, 40), .credit(4, 40)]),
            Op.hold(3, 3, 4, 25),
            Op.post(4, [.debit(7, 9), .credit(6, 9)]),
        ]
        #expect(ledger.apply(movements, at: Fixture.time(1)) == [.ok(1), .ok(2), .ok(3), .ok(4)])

        let payable = AccountKind.merchantPayable
        #expect(
            ledger.aggregateBalance(kind: payable, asset: "USD", .total)
                == Balance(debitsPosted: 40, creditsPosted: 640, debitsPending: 25, creditsPending: 25)
        )
        #expect(
            ledger.aggregateBalance(kind: payable, asset: "USD", .merchant(30))
                == Balance(debitsPosted: 40, creditsPosted: 400, debitsPending: 25)
        )
        #expect(ledger.aggregateBalance(kind: payable, asset: "USD", .merchant(10)) == Balance(creditsPosted: 200))
        // Merchant 0 means "none" and is a group of its own.
        #expect(
            ledger.aggregateBalance(kind: payable, asset: "USD", .merchant(0))
                == Balance(creditsPosted: 40, creditsPending: 25)
        )
        #expect(
            ledger.aggregateBalance(kind: payable, asset: "USD", .partner(7))
                == Balance(debitsPosted: 40, creditsPosted: 300)
        )
        #expect(
            ledger.aggregateBalance(kind: payable, asset: "USD", .partner(0))
                == Balance(creditsPosted: 340, debitsPending: 25, creditsPending: 25)
        )
        #expect(ledger.aggregateBalance(kind: .pspReceivable, asset: "USD", .partner(7)) == Balance(debitsPosted: 600))
        #expect(ledger.aggregateBalance(kind: payable, asset: "EUR", .merchant(30)) == Balance(creditsPosted: 9))
        // Groups without accounts, and unknown assets, have no aggregate.
        #expect(ledger.aggregateBalance(kind: payable, asset: "USD", .merchant(99)) == nil)
        #expect(ledger.aggregateBalance(kind: .bankCash, asset: "USD", .total) == nil)
        #expect(ledger.aggregateBalance(kind: payable, asset: "GBP", .total) == nil)

        let byMerchant = ledger.aggregateBalances(kind: payable, asset: "USD", by: .merchant)
        #expect(byMerchant.map(\.value) == [0, 10, 30])
        #expect(byMerchant.map(\.balance.creditsPosted) == [40, 200, 400])
        let byPartner = ledger.aggregateBalances(kind: payable, asset: "USD", by: .partner)
        #expect(byPartner.map(\.value) == [0, 7])
        #expect(ledger.aggregateBalances(kind: payable, asset: "GBP", by: .partner).isEmpty)
        #expect(ledger.checkInvariants() == [])
    }

    @Test func statisticsCountWhatTheLedgerHolds() {
        var ledger = Fixture.ledger()
        var expected = ledger.statistics
        #expect(expected.assets == 3)
        #expect(expected.accounts == 13)
        #expect(expected.aggregateBuckets == 32)
        #expect(expected.openHolds == 0)
        #expect(expected.transactions == 2)
        #expect(expected.retainedTransactions == 2)
        #expect(expected.retainedKeys == 2)
        #expect(expected.rejectedOperations == 0)
        #expect(expected.batches == 1)
        #expect(expected.recordedTime == Fixture.time(0))

        let results = ledger.apply(
            [
                Op.hold(10, Fixture.psp, Fixture.merchant, 5),
                Op.reverse(11, 1),
                Op.post(12, [.debit(Fixture.psp, 1)]),
                Op.post(0, [.debit(Fixture.psp, 1)]),
                Op.asset("USD"),
            ],
            at: Fixture.time(3)
        )
        #expect(results == [.ok(3), .ok(4), .rejected(.legsTooFew), .rejected(.idempotencyKeyInvalid), .okReplay])
        expected = ledger.statistics
        #expect(expected.openHolds == 1)
        #expect(expected.transactions == 4)
        #expect(expected.retainedTransactions == 4)
        #expect(expected.reversedTransactions == 1)
        #expect(expected.retainedKeys == 5)
        #expect(expected.rejectedOperations == 2)
        #expect(expected.batches == 2)
        #expect(expected.recordedTime == Fixture.time(3))
        #expect(expected.keyMemoryBytes > 0 && expected.transactionMemoryBytes > 0 && expected.accountMemoryBytes > 0)
        #expect(expected.keyIndexSlots >= 16)
    }

    @Test func aFrozenAccountMovesAgainOnceReopened() {
        var ledger = Fixture.ledger()
        let pay = Op.post(10, [.debit(Fixture.psp, 5), .credit(Fixture.merchant, 5)])
        #expect(
            ledger.apply([Op.status(Fixture.merchant, .frozen), pay], at: Fixture.time(1)) == [
                .ok(), .rejected(.accountFrozen, detail: 1),
            ]
        )
        let again = Op.post(11, [.debit(Fixture.psp, 5), .credit(Fixture.merchant, 5)])
        #expect(ledger.apply([Op.status(Fixture.merchant, .open), again], at: Fixture.time(2)) == [.ok(), .ok(3)])
        #expect(ledger.account(Fixture.merchant)?.balance == Balance(creditsPosted: 1_005))
    }
}
