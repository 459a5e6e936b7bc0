import Testing

@testable import TallyCore

/// reverse (docs/LEDGER.md, Reversal).
extension ScenarioTable {
    static let reversals: [Scenario] = [
        Scenario(
            "reverse: posts the mirror image of a post",
            step: Step([Op.reverse(10, 1)]),
            expect: [.ok(3)],
            effect: Effect(balances: [
                psp: Balance(debitsPosted: 1_000, creditsPosted: 1_000),
                capped: Balance(debitsPosted: 1_000, creditsPosted: 1_000),
            ])
        ),
        Scenario(
            "reverse: the mirror image of a capture; its hold stays finished",
            setup: [hold3, Step(at: 2, [Op.capture(8, 3, 60, final: true)])],
            step: Step([Op.reverse(10, 4), Op.capture(11, 3, 1)]),
            expect: [.ok(5), .rejected(.holdAlreadyFinal)],
            effect: Effect(balances: [
                psp: Balance(debitsPosted: 1_060, creditsPosted: 60),
                merchant: Balance(debitsPosted: 60, creditsPosted: 1_060),
            ])
        ),
        Scenario(
            "reverse: a multi-asset post, with the original's FX rates",
            setup: [Step(at: 1, [fxPost(9)])],
            step: Step([Op.reverse(10, 3)]),
            expect: [.ok(4)],
            effect: Effect(balances: [
                psp: Balance(debitsPosted: 1_100, creditsPosted: 100),
                Fixture.fxUSD: Balance(debitsPosted: 100, creditsPosted: 100),
                Fixture.fxEUR: Balance(debitsPosted: 90, creditsPosted: 90),
                Fixture.merchantEUR: Balance(debitsPosted: 90, creditsPosted: 90),
            ]),
            check: { ledger in
                guard case .found(let record) = ledger.transaction(4) else {
                    Issue.record("reversal 4 not found")
                    return
                }
                #expect(record.link == 3)
                #expect(record.fxRates == [Op.rate("USD", "EUR")])
                #expect(
                    record.legs == [
                        .credit(psp, 100), .debit(Fixture.fxUSD, 100), .credit(Fixture.fxEUR, 90),
                        .debit(Fixture.merchantEUR, 90),
                    ]
                )
            }
        ),
        Scenario(
            "transaction_not_found: an id never assigned, id 0, the next id",
            step: Step([Op.reverse(10, 999), Op.reverse(11, 0), Op.reverse(12, 3)]),
            expect: Array(repeating: .rejected(.transactionNotFound), count: 3)
        ),
        Scenario(
            "transaction_not_retained: older than the transaction retention window",
            configuration: LedgerConfiguration(transactionRetentionSeconds: 10),
            setup: [Step.timePasses(to: 100)],
            step: Step(at: 100, [Op.reverse(10, 1)]),
            expect: [.rejected(.transactionNotRetained)],
            check: { ledger in
                #expect(ledger.transaction(1) == .notRetained)
            }
        ),
        Scenario(
            "order: transaction_not_retained wins over not_reversible and already_reversed",
            configuration: LedgerConfiguration(transactionRetentionSeconds: 10),
            setup: [Step(at: 1, [Op.hold(8, psp, merchant, 5), Op.reverse(9, 1)]), Step.timePasses(to: 100)],
            step: Step(at: 100, [Op.reverse(10, 3), Op.reverse(11, 1)]),
            expect: [.rejected(.transactionNotRetained), .rejected(.transactionNotRetained)]
        ),
        Scenario(
            "not_reversible: a hold, an increase, a void, an expiry, a reversal",
            setup: [
                Step(
                    at: 1,
                    [
                        Op.hold(1, psp, merchant, 100, timeout: 30),
                        Op.increase(2, 3, 10),
                        Op.hold(3, psp, merchant, 5),
                        Op.void(4, 5),
                        Op.reverse(5, 1),
                    ]
                ),
                Step(at: 31, [Op.expire(3)]),
            ],
            step: Step([
                Op.reverse(10, 3), Op.reverse(11, 4), Op.reverse(12, 5), Op.reverse(13, 6), Op.reverse(14, 8),
                Op.reverse(15, 7),
            ]),
            expect: Array(repeating: .rejected(.notReversible), count: 6)
        ),
        Scenario(
            "already_reversed: a second reversal of the same transaction",
            setup: [Step(at: 1, [Op.reverse(9, 1)])],
            step: Step([Op.reverse(10, 1)]),
            expect: [.rejected(.alreadyReversed)]
        ),
        Scenario(
            "order: already_reversed wins over account_frozen",
            setup: [Step(at: 1, [Op.reverse(9, 1), Op.status(psp, .frozen)])],
            step: Step([Op.reverse(10, 1)]),
            expect: [.rejected(.alreadyReversed)]
        ),
        Scenario(
            "account_frozen and account_closed: a reversal touching one → the mirrored leg's index",
            setup: [
                Step(
                    at: 1,
                    [
                        Op.post(8, [.debit(fees, 10), .credit(Fixture.fxUSD, 10)]),
                        Op.post(9, [.debit(Fixture.fxUSD, 10), .credit(fees, 10)]),
                        Op.status(fees, .closed),
                        Op.status(capped, .frozen),
                    ]
                )
            ],
            step: Step([Op.reverse(10, 1), Op.reverse(11, 3), Op.reverse(12, 4)]),
            expect: [
                .rejected(.accountFrozen, detail: 1), .rejected(.accountClosed, detail: 0),
                .rejected(.accountClosed, detail: 1),
            ]
        ),
        Scenario(
            "exceeds_credits: a reversal's debit leg",
            setup: [Step(at: 1, [Op.post(9, [.debit(capped, 1), .credit(psp, 1)])])],
            step: Step([Op.reverse(10, 1)]),
            expect: [.rejected(.exceedsCredits, detail: 1)]
        ),
        Scenario(
            "exceeds_debits: a reversal's credit leg",
            setup: [Step(at: 1, [Op.post(9, [.debit(merchant, 1), .credit(bank, 1)])])],
            step: Step([Op.reverse(10, 2)]),
            expect: [.rejected(.exceedsDebits, detail: 0)]
        ),
    ]
}
