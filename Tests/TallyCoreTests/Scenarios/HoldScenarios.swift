@testable import TallyCore

/// hold, capture, increase_hold, void_hold and expire_hold (docs/LEDGER.md, Holds).
extension ScenarioTable {
    /// An open hold as reads return it.
    static func openHold(
        _ id: TransactionID,
        _ debit: AccountID,
        _ credit: AccountID,
        _ amount: UInt128,
        captured: UInt128 = 0,
        deadline: Timestamp = .zero
    ) -> HoldInfo {
        HoldInfo(
            id: id,
            debit: debit,
            credit: credit,
            type: .capture,
            amount: amount,
            captured: captured,
            deadline: deadline
        )
    }

    /// Hold 3: psp → merchant, 100, no deadline, placed one second after the fixture.
    static let hold3 = Step(at: 1, [Op.hold(9, psp, merchant, 100)])
    /// Hold 3: psp → merchant, 100, deadline 31 s after the fixture.
    static let hold3WithDeadline = Step(at: 1, [Op.hold(9, psp, merchant, 100, timeout: 30)])

    static let holds: [Scenario] = [
        Scenario(
            "hold: reserves the amount as pending debit and pending credit",
            step: Step([Op.hold(10, psp, merchant, 100)]),
            expect: [.ok(3)],
            effect: Effect(
                balances: [
                    psp: Balance(debitsPosted: 1_000, debitsPending: 100),
                    merchant: Balance(creditsPosted: 1_000, creditsPending: 100),
                ],
                holds: [openHold(3, psp, merchant, 100)]
            )
        ),
        Scenario(
            "hold: deadline = recorded time + timeout; ten years (316,224,000 s) is the longest timeout",
            step: Step([
                Op.hold(10, psp, merchant, 100, timeout: 30), Op.hold(11, psp, merchant, 1, timeout: 316_224_000),
            ]),
            expect: [.ok(3), .ok(4)],
            effect: Effect(
                balances: [
                    psp: Balance(debitsPosted: 1_000, debitsPending: 101),
                    merchant: Balance(creditsPosted: 1_000, creditsPending: 101),
                ],
                holds: [
                    openHold(3, psp, merchant, 100, deadline: Fixture.time(90)),
                    openHold(4, psp, merchant, 1, deadline: Fixture.time(60 + 316_224_000)),
                ]
            )
        ),
        Scenario(
            "hold_timeout_invalid: one second over ten years",
            step: Step([Op.hold(10, psp, merchant, 100, timeout: 316_224_001)]),
            expect: [.rejected(.holdTimeoutInvalid)]
        ),
        Scenario(
            "hold_timeout_invalid: a deadline past 2^64 − 1 ns; exactly 2^64 − 1 fits",
            setup: [Step(at: Timestamp(nanosecondsSinceEpoch: .max - 1_000_000_000), [])],
            step: Step(
                at: Timestamp(nanosecondsSinceEpoch: .max - 1_000_000_000),
                [Op.hold(10, psp, merchant, 100, timeout: 2), Op.hold(11, psp, merchant, 100, timeout: 1)]
            ),
            expect: [.rejected(.holdTimeoutInvalid), .ok(3)],
            effect: Effect(
                balances: [
                    psp: Balance(debitsPosted: 1_000, debitsPending: 100),
                    merchant: Balance(creditsPosted: 1_000, creditsPending: 100),
                ],
                holds: [openHold(3, psp, merchant, 100, deadline: Timestamp(nanosecondsSinceEpoch: .max))]
            )
        ),
        Scenario(
            "order: hold_timeout_invalid wins over amount_zero and the account checks",
            step: Step([Op.hold(10, 99, 99, 0, timeout: 316_224_001)]),
            expect: [.rejected(.holdTimeoutInvalid)]
        ),
        Scenario(
            "amount_zero: a hold of nothing, even between unknown accounts",
            step: Step([Op.hold(10, psp, merchant, 0), Op.hold(11, 99, 98, 0)]),
            expect: [.rejected(.amountZero), .rejected(.amountZero)]
        ),
        Scenario(
            "account_unknown: a hold's debit → detail 0, credit → detail 1, both → detail 0; id 0 is unknown",
            step: Step([
                Op.hold(10, 99, merchant, 5),
                Op.hold(11, psp, 99, 5),
                Op.hold(12, 99, 98, 5),
                Op.hold(13, psp, 0, 5),
            ]),
            expect: [
                .rejected(.accountUnknown, detail: 0), .rejected(.accountUnknown, detail: 1),
                .rejected(.accountUnknown, detail: 0), .rejected(.accountUnknown, detail: 1),
            ]
        ),
        Scenario(
            "accounts_must_be_distinct: a hold on one account → detail 1, before its status is checked",
            step: Step([Op.hold(10, psp, psp, 5), Op.hold(11, frozen, frozen, 5)]),
            expect: [.rejected(.accountsMustBeDistinct, detail: 1), .rejected(.accountsMustBeDistinct, detail: 1)]
        ),
        Scenario(
            "account_frozen and account_closed: a hold's debit → 0, credit → 1; the debit account first",
            step: Step([
                Op.hold(10, frozen, merchant, 5),
                Op.hold(11, psp, frozen, 5),
                Op.hold(12, closed, merchant, 5),
                Op.hold(13, psp, closed, 5),
                Op.hold(14, frozen, closed, 5),
                Op.hold(15, closed, frozen, 5),
            ]),
            expect: [
                .rejected(.accountFrozen, detail: 0), .rejected(.accountFrozen, detail: 1),
                .rejected(.accountClosed, detail: 0), .rejected(.accountClosed, detail: 1),
                .rejected(.accountFrozen, detail: 0), .rejected(.accountClosed, detail: 0),
            ]
        ),
        Scenario(
            "asset_mismatch: a hold between a USD and a EUR account → detail 1",
            step: Step([Op.hold(10, psp, Fixture.merchantEUR, 5)]),
            expect: [.rejected(.assetMismatch, detail: 1)]
        ),
        Scenario(
            "order: account status wins over asset_mismatch, asset_mismatch over the constraints",
            step: Step([Op.hold(10, frozen, Fixture.merchantEUR, 5), Op.hold(11, capped, Fixture.merchantEUR, 5_000)]),
            expect: [.rejected(.accountFrozen, detail: 0), .rejected(.assetMismatch, detail: 1)]
        ),
        Scenario(
            "exceeds_credits: a hold's debit → detail 0; the credits exactly is allowed",
            step: Step([Op.hold(10, capped, merchant, 1_001), Op.hold(11, capped, merchant, 1_000)]),
            expect: [.rejected(.exceedsCredits, detail: 0), .ok(3)],
            effect: Effect(
                balances: [
                    capped: Balance(creditsPosted: 1_000, debitsPending: 1_000),
                    merchant: Balance(creditsPosted: 1_000, creditsPending: 1_000),
                ],
                holds: [openHold(3, capped, merchant, 1_000)]
            )
        ),
        Scenario(
            "exceeds_debits: a hold's credit → detail 1; the debits exactly is allowed",
            step: Step([Op.hold(10, psp, bank, 1_001), Op.hold(11, psp, bank, 1_000)]),
            expect: [.rejected(.exceedsDebits, detail: 1), .ok(3)],
            effect: Effect(
                balances: [
                    psp: Balance(debitsPosted: 1_000, debitsPending: 1_000),
                    bank: Balance(debitsPosted: 1_000, creditsPending: 1_000),
                ],
                holds: [openHold(3, psp, bank, 1_000)]
            )
        ),
        Scenario(
            "order: the debit constraint is checked before the credit constraint",
            step: Step([Op.hold(10, capped, bank, 2_000)]),
            expect: [.rejected(.exceedsCredits, detail: 0)]
        ),
    ]

    static let captures: [Scenario] = [
        Scenario(
            "capture: a partial capture moves that much from pending to posted",
            setup: [hold3],
            step: Step([Op.capture(10, 3, 40)]),
            expect: [.ok(4)],
            effect: Effect(
                balances: [
                    psp: Balance(debitsPosted: 1_040, debitsPending: 60),
                    merchant: Balance(creditsPosted: 1_040, creditsPending: 60),
                ],
                holds: [openHold(3, psp, merchant, 100, captured: 40)]
            )
        ),
        Scenario(
            "capture: final releases the rest and finishes the hold",
            setup: [hold3],
            step: Step([Op.capture(10, 3, 40, final: true)]),
            expect: [.ok(4)],
            effect: Effect(
                balances: [psp: Balance(debitsPosted: 1_040), merchant: Balance(creditsPosted: 1_040)],
                holds: []
            )
        ),
        Scenario(
            "capture: partial captures repeat; one of exactly the remainder finishes the hold",
            setup: [hold3],
            step: Step([Op.capture(10, 3, 40), Op.capture(11, 3, 60)]),
            expect: [.ok(4), .ok(5)],
            effect: Effect(
                balances: [psp: Balance(debitsPosted: 1_100), merchant: Balance(creditsPosted: 1_100)],
                holds: []
            )
        ),
        Scenario(
            "hold_not_found: capture, increase or void of an id never assigned, of id 0, of a post",
            setup: [hold3],
            step: Step([
                Op.capture(10, 999, 1),
                Op.capture(11, 0, 1),
                Op.capture(12, 1, 1),
                Op.increase(13, 999, 1),
                Op.increase(14, 2, 1),
                Op.void(15, 1),
                Op.void(16, 4),
            ]),
            expect: Array(repeating: .rejected(.holdNotFound), count: 7)
        ),
        Scenario(
            "capture_exceeds_hold: more than remains, also after a partial capture",
            setup: [hold3, Step(at: 2, [Op.capture(8, 3, 40)])],
            step: Step([Op.capture(10, 3, 61), Op.capture(11, 3, 101), Op.capture(12, 3, 60)]),
            expect: [.rejected(.captureExceedsHold), .rejected(.captureExceedsHold), .ok(5)],
            effect: Effect(
                balances: [psp: Balance(debitsPosted: 1_100), merchant: Balance(creditsPosted: 1_100)],
                holds: []
            )
        ),
        Scenario(
            "amount_zero: a capture or an increase of nothing",
            setup: [hold3],
            step: Step([Op.capture(10, 3, 0), Op.increase(11, 3, 0)]),
            expect: [.rejected(.amountZero), .rejected(.amountZero)]
        ),
        Scenario(
            "order: the hold lookup wins over amount_zero",
            step: Step([Op.capture(10, 999, 0), Op.increase(11, 999, 0)]),
            expect: [.rejected(.holdNotFound), .rejected(.holdNotFound)]
        ),
        Scenario(
            "hold_already_final: capture, increase, void and expiry of a voided hold",
            setup: [hold3WithDeadline, Step(at: 2, [Op.void(8, 3)])],
            step: Step([Op.capture(10, 3, 1), Op.increase(11, 3, 1), Op.void(12, 3), Op.expire(3)]),
            expect: Array(repeating: .rejected(.holdAlreadyFinal), count: 4)
        ),
        Scenario(
            "hold_already_final: after a final capture, a full capture and an expiry",
            setup: [
                Step(
                    at: 1,
                    [
                        Op.hold(1, psp, merchant, 100),
                        Op.hold(2, psp, merchant, 100),
                        Op.hold(3, psp, merchant, 100, timeout: 10),
                    ]
                ),
                Step(at: 20, [Op.capture(4, 3, 10, final: true), Op.capture(5, 4, 100), Op.expire(5)]),
            ],
            step: Step([Op.capture(10, 3, 1), Op.void(11, 4), Op.increase(12, 5, 1), Op.expire(3)]),
            expect: Array(repeating: .rejected(.holdAlreadyFinal), count: 4)
        ),
        Scenario(
            "hold_expired: capture, increase and void at exactly the deadline",
            setup: [hold3WithDeadline],
            step: Step(at: 31, [Op.capture(10, 3, 1), Op.increase(11, 3, 1), Op.void(12, 3)]),
            expect: Array(repeating: .rejected(.holdExpired), count: 3)
        ),
        Scenario(
            "hold_expired: not yet one nanosecond before the deadline",
            setup: [hold3WithDeadline],
            step: Step(at: Fixture.time(30, plusNanoseconds: 999_999_999), [Op.capture(10, 3, 1)]),
            expect: [.ok(4)],
            effect: Effect(
                balances: [
                    psp: Balance(debitsPosted: 1_001, debitsPending: 99),
                    merchant: Balance(creditsPosted: 1_001, creditsPending: 99),
                ],
                holds: [openHold(3, psp, merchant, 100, captured: 1, deadline: Fixture.time(31))]
            )
        ),
        Scenario(
            "order: hold_expired wins over amount_zero and capture_exceeds_hold",
            setup: [hold3WithDeadline],
            step: Step(at: 100, [Op.capture(10, 3, 0), Op.capture(11, 3, 101)]),
            expect: [.rejected(.holdExpired), .rejected(.holdExpired)]
        ),
        Scenario(
            "account_frozen: capture and increase with the debit account frozen → 0, the credit account → 1",
            setup: [
                Step(at: 1, [Op.hold(8, psp, merchant, 100), Op.hold(9, fees, Fixture.fxUSD, 50)]),
                Step(at: 2, [Op.status(psp, .frozen), Op.status(Fixture.fxUSD, .frozen)]),
            ],
            step: Step([Op.capture(10, 3, 10), Op.capture(11, 4, 10), Op.increase(12, 3, 10), Op.increase(13, 4, 10)]),
            expect: [
                .rejected(.accountFrozen, detail: 0), .rejected(.accountFrozen, detail: 1),
                .rejected(.accountFrozen, detail: 0), .rejected(.accountFrozen, detail: 1),
            ]
        ),
        Scenario(
            "order: capture_exceeds_hold wins over account_frozen",
            setup: [hold3, Step(at: 2, [Op.status(psp, .frozen)])],
            step: Step([Op.capture(10, 3, 101)]),
            expect: [.rejected(.captureExceedsHold)]
        ),
    ]

    static let increases: [Scenario] = [
        Scenario(
            "increase_hold: the hold grows, its deadline stays",
            setup: [hold3WithDeadline],
            step: Step(at: 10, [Op.increase(10, 3, 50)]),
            expect: [.ok(4)],
            effect: Effect(
                balances: [
                    psp: Balance(debitsPosted: 1_000, debitsPending: 150),
                    merchant: Balance(creditsPosted: 1_000, creditsPending: 150),
                ],
                holds: [openHold(3, psp, merchant, 150, deadline: Fixture.time(31))]
            )
        ),
        Scenario(
            "exceeds_credits: an increase past the debit account's credits → detail 0",
            setup: [Step(at: 1, [Op.hold(9, capped, merchant, 600)])],
            step: Step([Op.increase(10, 3, 401), Op.increase(11, 3, 400)]),
            expect: [.rejected(.exceedsCredits, detail: 0), .ok(4)],
            effect: Effect(
                balances: [
                    capped: Balance(creditsPosted: 1_000, debitsPending: 1_000),
                    merchant: Balance(creditsPosted: 1_000, creditsPending: 1_000),
                ],
                holds: [openHold(3, capped, merchant, 1_000)]
            )
        ),
        Scenario(
            "exceeds_debits: an increase past the credit account's debits → detail 1",
            setup: [Step(at: 1, [Op.hold(9, psp, bank, 600)])],
            step: Step([Op.increase(10, 3, 401), Op.increase(11, 3, 400)]),
            expect: [.rejected(.exceedsDebits, detail: 1), .ok(4)],
            effect: Effect(
                balances: [
                    psp: Balance(debitsPosted: 1_000, debitsPending: 1_000),
                    bank: Balance(debitsPosted: 1_000, creditsPending: 1_000),
                ],
                holds: [openHold(3, psp, bank, 1_000)]
            )
        ),
    ]

    static let voids: [Scenario] = [
        Scenario(
            "void_hold: releases what remains and finishes the hold",
            setup: [hold3],
            step: Step([Op.void(10, 3)]),
            expect: [.ok(4)],
            effect: Effect(
                balances: [psp: Balance(debitsPosted: 1_000), merchant: Balance(creditsPosted: 1_000)],
                holds: []
            )
        ),
        Scenario(
            "void_hold: after a partial capture releases only the rest",
            setup: [hold3, Step(at: 2, [Op.capture(8, 3, 40)])],
            step: Step([Op.void(10, 3)]),
            expect: [.ok(5)],
            effect: Effect(
                balances: [psp: Balance(debitsPosted: 1_040), merchant: Balance(creditsPosted: 1_040)],
                holds: []
            )
        ),
        Scenario(
            "void_hold: allowed with both accounts frozen",
            setup: [hold3, Step(at: 2, [Op.status(psp, .frozen), Op.status(merchant, .frozen)])],
            step: Step([Op.void(10, 3)]),
            expect: [.ok(4)],
            effect: Effect(
                balances: [psp: Balance(debitsPosted: 1_000), merchant: Balance(creditsPosted: 1_000)],
                holds: []
            )
        ),
    ]

    static let expiries: [Scenario] = [
        Scenario(
            "expire_hold: at the deadline releases what remains",
            setup: [hold3WithDeadline, Step(at: 2, [Op.capture(8, 3, 30)])],
            step: Step(at: 31, [Op.expire(3)]),
            expect: [.ok(5)],
            effect: Effect(
                balances: [psp: Balance(debitsPosted: 1_030), merchant: Balance(creditsPosted: 1_030)],
                holds: []
            )
        ),
        Scenario(
            "expire_hold: releases with both accounts frozen",
            setup: [hold3WithDeadline, Step(at: 2, [Op.status(psp, .frozen), Op.status(merchant, .frozen)])],
            step: Step(at: 40, [Op.expire(3)]),
            expect: [.ok(4)],
            effect: Effect(
                balances: [psp: Balance(debitsPosted: 1_000), merchant: Balance(creditsPosted: 1_000)],
                holds: []
            )
        ),
        Scenario(
            "hold_not_due: one nanosecond before the deadline, and a hold without deadline",
            setup: [Step(at: 1, [Op.hold(9, psp, merchant, 100, timeout: 30), Op.hold(8, psp, merchant, 100)])],
            step: Step(at: Fixture.time(30, plusNanoseconds: 999_999_999), [Op.expire(3), Op.expire(4)]),
            expect: [.rejected(.holdNotDue), .rejected(.holdNotDue)]
        ),
        Scenario(
            "hold_not_found: expiry of an id never assigned, of id 0, of a post",
            step: Step([Op.expire(999), Op.expire(0), Op.expire(1)]),
            expect: Array(repeating: .rejected(.holdNotFound), count: 3)
        ),
        Scenario(
            "hold_not_found: a finished hold no longer retained; an open hold outlives its record",
            configuration: LedgerConfiguration(transactionRetentionSeconds: 10),
            setup: [
                Step(at: 1, [Op.hold(8, psp, merchant, 100), Op.hold(9, psp, merchant, 50), Op.void(7, 3)]),
                Step.timePasses(to: 100),
            ],
            step: Step(at: 100, [Op.capture(10, 3, 1), Op.void(11, 3), Op.expire(3), Op.capture(12, 4, 50)]),
            expect: [.rejected(.holdNotFound), .rejected(.holdNotFound), .rejected(.holdNotFound), .ok(6)],
            effect: Effect(
                balances: [psp: Balance(debitsPosted: 1_050), merchant: Balance(creditsPosted: 1_050)],
                holds: []
            )
        ),
    ]
}
