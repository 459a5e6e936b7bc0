import Testing

@testable import TallyCore

/// Idempotency keys and atomic chains (docs/LEDGER.md, Idempotency; Batches and atomic chains).
extension ScenarioTable {
    /// psp pays merchant `amount`: always applies.
    static func pay(_ key: IdempotencyKey, _ amount: UInt128 = 10) -> Operation {
        Op.post(key, [.debit(psp, amount), .credit(merchant, amount)])
    }

    /// Debits the capped account 5,000 more than it has: exceeds_credits at leg 0.
    static func overdraw(_ key: IdempotencyKey) -> Operation {
        Op.post(key, [.debit(capped, 5_000), .credit(psp, 5_000)])
    }

    static let overdrawn = OperationResult.rejected(.exceedsCredits, detail: 0)

    static let idempotency: [Scenario] = [
        Scenario(
            "idempotency_key_invalid: key 0 on every keyed kind, never remembered",
            setup: [hold3],
            step: Step([
                pay(0),
                Op.hold(0, psp, merchant, 5),
                Op.capture(0, 3, 5),
                Op.increase(0, 3, 5),
                Op.void(0, 3),
                Op.reverse(0, 1),
            ]),
            expect: Array(repeating: .rejected(.idempotencyKeyInvalid), count: 6),
            check: { ledger in
                #expect(ledger.idempotencyRecord(0) == nil)
            }
        ),
        Scenario(
            "replay: an ok post returns its transaction id and changes nothing",
            setup: [Step(at: 1, [pay(10)])],
            step: Step([pay(10)]),
            expect: [OperationResult.ok(3).replayed]
        ),
        Scenario(
            "replay: every keyed kind returns its transaction id",
            setup: [
                Step(
                    at: 1,
                    [
                        Op.hold(10, psp, merchant, 100),
                        Op.capture(11, 3, 10),
                        Op.increase(12, 3, 5),
                        Op.hold(13, psp, merchant, 7),
                        Op.void(14, 6),
                        Op.reverse(15, 1),
                    ]
                )
            ],
            step: Step([
                Op.hold(10, psp, merchant, 100),
                Op.capture(11, 3, 10),
                Op.increase(12, 3, 5),
                Op.hold(13, psp, merchant, 7),
                Op.void(14, 6),
                Op.reverse(15, 1),
            ]),
            expect: (3...8).map { OperationResult.ok(TransactionID($0)).replayed }
        ),
        Scenario(
            "replay: a rejection returns its code and detail",
            setup: [
                Step(
                    at: 1,
                    [Op.post(10, [.debit(psp, 5), .credit(99, 5)])],
                    expect: [.rejected(.accountUnknown, detail: 1)]
                )
            ],
            step: Step([Op.post(10, [.debit(psp, 5), .credit(99, 5)])]),
            expect: [OperationResult.rejected(.accountUnknown, detail: 1).replayed]
        ),
        Scenario(
            "replay: a remembered header rejection replays before the header is checked again",
            setup: [
                Step(
                    at: 1,
                    [Op.post(10, [], type: TransactionType(rawValue: 0))],
                    expect: [.rejected(.transactionTypeInvalid)]
                )
            ],
            step: Step([Op.post(10, [], type: TransactionType(rawValue: 0))]),
            expect: [OperationResult.rejected(.transactionTypeInvalid).replayed]
        ),
        Scenario(
            "retrying a rejected key returns the original rejection even after the balances would allow it",
            setup: [
                Step(
                    at: 1,
                    [Op.post(10, [.credit(psp, 1_500), .debit(capped, 1_500)])],
                    expect: [.rejected(.exceedsCredits, detail: 1)]
                ),
                Step(at: 2, [Op.post(11, [.debit(psp, 1_000), .credit(capped, 1_000)])]),
            ],
            step: Step([Op.post(10, [.credit(psp, 1_500), .debit(capped, 1_500)])]),
            expect: [OperationResult.rejected(.exceedsCredits, detail: 1).replayed]
        ),
        Scenario(
            "idempotency_conflict: the same key with another amount; the original result stays",
            setup: [Step(at: 1, [pay(10)])],
            step: Step([pay(10, 11)]),
            expect: [.rejected(.idempotencyConflict)]
        ),
        Scenario(
            "idempotency_conflict: the same key for another kind of operation",
            setup: [Step(at: 1, [pay(10)])],
            step: Step([Op.hold(10, psp, merchant, 10)]),
            expect: [.rejected(.idempotencyConflict)]
        ),
        Scenario(
            "idempotency_conflict: against a remembered rejection",
            setup: [Step(at: 1, [Op.post(10, [.debit(psp, 1)])], expect: [.rejected(.legsTooFew)])],
            step: Step([pay(10)]),
            expect: [.rejected(.idempotencyConflict)]
        ),
        Scenario(
            "order: idempotency_conflict wins over every check of the new content",
            setup: [Step(at: 1, [pay(10)])],
            step: Step([Op.post(10, [], type: TransactionType(rawValue: 0))]),
            expect: [.rejected(.idempotencyConflict)]
        ),
        Scenario(
            "replay and conflict within one batch",
            step: Step([pay(10), pay(10), pay(10, 11)]),
            expect: [.ok(3), OperationResult.ok(3).replayed, .rejected(.idempotencyConflict)],
            effect: Effect(balances: [psp: Balance(debitsPosted: 1_010), merchant: Balance(creditsPosted: 1_010)])
        ),
        Scenario(
            "the linked flag is not content: an operation sent alone replays inside a chain",
            setup: [Step(at: 1, [pay(10)])],
            step: Step([pay(10), pay(11)], linked: [0]),
            expect: [OperationResult.ok(3).replayed, .ok(4)],
            effect: Effect(balances: [psp: Balance(debitsPosted: 1_020), merchant: Balance(creditsPosted: 1_020)])
        ),
    ]

    static let chains: [Scenario] = [
        Scenario(
            "chain: every member applies; a capture acts on a hold placed earlier in the chain",
            step: Step(
                [
                    pay(10), Op.hold(11, psp, merchant, 50), Op.capture(12, 4, 30),
                    Op.post(13, [.debit(fees, 1), .credit(Fixture.fxUSD, 1)]),
                ],
                linked: [0, 1, 2]
            ),
            expect: [.ok(3), .ok(4), .ok(5), .ok(6)],
            effect: Effect(
                balances: [
                    psp: Balance(debitsPosted: 1_040, debitsPending: 20),
                    merchant: Balance(creditsPosted: 1_040, creditsPending: 20),
                    fees: Balance(debitsPosted: 1),
                    Fixture.fxUSD: Balance(creditsPosted: 1),
                ],
                holds: [openHold(4, psp, merchant, 50, captured: 30)]
            )
        ),
        Scenario(
            "linked_operation_failed: a middle member fails with its own code, all the others linked_operation_failed",
            step: Step([pay(10), overdraw(11), pay(12)], linked: [0, 1]),
            expect: [.linkedFailed, overdrawn, .linkedFailed]
        ),
        Scenario(
            "linked_operation_failed: the first member fails",
            step: Step([overdraw(10), pay(11)], linked: [0]),
            expect: [overdrawn, .linkedFailed]
        ),
        Scenario(
            "linked_operation_failed: the last member fails after the others created, moved, held, captured, reversed",
            setup: [hold3],
            step: Step(
                [
                    Op.asset("GBP"),
                    Op.account(50, "GBP", .bankCash),
                    Op.account(51, "GBP", .merchantPayable, merchant: 7),
                    Op.post(10, [.debit(50, 5), .credit(51, 5)]),
                    Op.hold(11, psp, merchant, 10, timeout: 5),
                    Op.capture(12, 3, 40),
                    Op.increase(13, 3, 5),
                    Op.reverse(14, 1),
                    Op.status(fees, .frozen),
                    Op.void(15, 3),
                    Op.post(16, [.debit(psp, 10), .credit(merchant, 9)]),
                ],
                linked: Set(0..<10)
            ),
            expect: Array(repeating: .linkedFailed, count: 10) + [.rejected(.unbalanced, detail: 0)],
            check: { ledger in
                #expect(ledger.asset("GBP") == nil)
                #expect(ledger.account(50) == nil && ledger.account(51) == nil)
                #expect(ledger.aggregateBalance(kind: .bankCash, asset: "GBP", .total) == nil)
                #expect(ledger.transaction(4) == .notFound)
            }
        ),
        Scenario(
            "chain: an asset and accounts created, then a post between them",
            step: Step(
                [
                    Op.asset("GBP"),
                    Op.account(50, "GBP", .bankCash),
                    Op.account(51, "GBP", .merchantPayable, merchant: 7),
                    Op.post(10, [.debit(50, 5), .credit(51, 5)]),
                ],
                linked: [0, 1, 2]
            ),
            expect: [.ok(), .ok(), .ok(), .ok(3)],
            effect: Effect(
                balances: [50: Balance(debitsPosted: 5), 51: Balance(creditsPosted: 5)],
                newAssets: [("GBP", 2)],
                newAccounts: [
                    accountDefinition(50, "GBP", .bankCash, side: .debit),
                    accountDefinition(51, "GBP", .merchantPayable, side: .credit, merchant: 7),
                ],
                newAggregateBuckets: 6
            )
        ),
        Scenario(
            "chain: a member replaying an ok from before still reports it; the old key keeps its ok",
            setup: [Step(at: 1, [pay(10)])],
            step: Step([pay(10), overdraw(11)], linked: [0]),
            expect: [OperationResult.ok(3).replayed, overdrawn]
        ),
        Scenario(
            "chain: a member failing with a replayed rejection",
            setup: [Step(at: 1, [overdraw(10)], expect: [overdrawn])],
            step: Step([pay(11), overdraw(10)], linked: [0]),
            expect: [.linkedFailed, overdrawn.replayed]
        ),
        Scenario(
            "chain: key 0 fails the chain with idempotency_key_invalid",
            step: Step([pay(10), pay(0)], linked: [0]),
            expect: [.linkedFailed, .rejected(.idempotencyKeyInvalid)]
        ),
        Scenario(
            "chain: one key twice with the same content, the second member replays the first",
            step: Step([pay(10), pay(10)], linked: [0]),
            expect: [.ok(3), OperationResult.ok(3).replayed],
            effect: Effect(balances: [psp: Balance(debitsPosted: 1_010), merchant: Balance(creditsPosted: 1_010)])
        ),
        Scenario(
            "chain: one key twice with different content; the conflict fails the chain, the key keeps the first member",
            step: Step([pay(10), pay(10, 11)], linked: [0]),
            expect: [.linkedFailed, .rejected(.idempotencyConflict)]
        ),
        Scenario(
            "chain: one key twice and a later failure; the key remembers linked_operation_failed once",
            step: Step([pay(10), pay(10), overdraw(11)], linked: [0, 1]),
            expect: [.linkedFailed, .linkedFailed, overdrawn]
        ),
        Scenario(
            "chain: an expiry inside a failed chain is undone",
            setup: [hold3WithDeadline],
            step: Step(at: 40, [Op.expire(3), overdraw(10)], linked: [0]),
            expect: [.linkedFailed, overdrawn]
        ),
        Scenario(
            "chain: two chains and independent operations; one chain fails, the rest stands",
            step: Step([pay(10), pay(11), overdraw(12), pay(13), overdraw(14), pay(15)], linked: [0, 3]),
            expect: [.ok(3), .ok(4), overdrawn, .linkedFailed, overdrawn, .ok(5)],
            effect: Effect(balances: [psp: Balance(debitsPosted: 1_030), merchant: Balance(creditsPosted: 1_030)])
        ),
        Scenario(
            "linked_chain_open: the batch ends inside a chain; what came before still applies",
            step: Step([pay(10), pay(11), pay(12)], linked: [1, 2]),
            expect: [.ok(3), .rejected(.linkedChainOpen), .rejected(.linkedChainOpen)],
            effect: Effect(balances: [psp: Balance(debitsPosted: 1_010), merchant: Balance(creditsPosted: 1_010)])
        ),
        Scenario(
            "linked_chain_open: a complete chain before an open one applies; the open one would have failed",
            step: Step([pay(10), pay(11), overdraw(12)], linked: [0, 2]),
            expect: [.ok(3), .ok(4), .rejected(.linkedChainOpen)],
            effect: Effect(balances: [psp: Balance(debitsPosted: 1_020), merchant: Balance(creditsPosted: 1_020)])
        ),
        Scenario(
            "linked_chain_open: an open chain of operations without keys creates nothing",
            step: Step([Op.asset("GBP"), Op.account(50, "GBP", .bankCash)], linked: [0, 1]),
            expect: [.rejected(.linkedChainOpen), .rejected(.linkedChainOpen)]
        ),
    ]
}
