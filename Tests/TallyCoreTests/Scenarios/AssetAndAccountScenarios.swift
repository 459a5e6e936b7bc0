@testable import TallyCore

/// create_asset, create_account and set_account_status (docs/LEDGER.md, Assets and Accounts).
extension ScenarioTable {
    /// Codes "A0" to "A4095": exactly the most assets a ledger holds.
    static let assetsAtLimit: [Operation] = (0..<Limits.assetsMax).map { Op.asset(AssetCode("A\($0)")!) }

    static let assets: [Scenario] = [
        Scenario(
            "create_asset: a new code is created",
            step: Step([Op.asset("GBP")]),
            expect: [.ok()],
            effect: Effect(newAssets: [("GBP", 2)])
        ),
        Scenario(
            "create_asset: scale 38 is the largest valid scale, 0 the smallest",
            step: Step([Op.asset("BIG", scale: 38), Op.asset("UNIT", scale: 0)]),
            expect: [.ok(), .ok()],
            effect: Effect(newAssets: [("BIG", 38), ("UNIT", 0)])
        ),
        Scenario(
            "create_asset: a 16-character code of every allowed character class",
            step: Step([Op.asset("AZ09.-_ABCDEFGHI")]),
            expect: [.ok()],
            effect: Effect(newAssets: [("AZ09.-_ABCDEFGHI", 2)])
        ),
        Scenario(
            "create_asset: the same code and scale again is ok with the replay flag",
            step: Step([Op.asset("USD"), Op.asset("JPY", scale: 0)]),
            expect: [.okReplay, .okReplay]
        ),
        Scenario(
            "asset_code_invalid: empty, lowercase, a character outside the set, a zero byte inside",
            step: Step([
                Op.asset(rawAssetCode([])),
                Op.asset(rawAssetCode(Array("usd".utf8))),
                Op.asset(rawAssetCode(Array("US$".utf8))),
                Op.asset(rawAssetCode([UInt8(ascii: "A"), 0, UInt8(ascii: "B")])),
            ]),
            expect: Array(repeating: .rejected(.assetCodeInvalid), count: 4)
        ),
        Scenario(
            "order: asset_code_invalid wins over asset_scale_invalid",
            step: Step([Op.asset(rawAssetCode([]), scale: 39)]),
            expect: [.rejected(.assetCodeInvalid)]
        ),
        Scenario(
            "asset_scale_invalid: scale 39",
            step: Step([Op.asset("GBP", scale: 39)]),
            expect: [.rejected(.assetScaleInvalid)]
        ),
        Scenario(
            "order: asset_scale_invalid wins over asset_exists_with_different_scale",
            step: Step([Op.asset("USD", scale: 39)]),
            expect: [.rejected(.assetScaleInvalid)]
        ),
        Scenario(
            "asset_exists_with_different_scale: USD again with scale 3",
            step: Step([Op.asset("USD", scale: 3)]),
            expect: [.rejected(.assetExistsWithDifferentScale)]
        ),
        Scenario(
            "assets_limit_reached: the 4,097th asset",
            usesFixture: false,
            setup: [Step(at: 0, assetsAtLimit)],
            step: Step([Op.asset("ONEMORE")]),
            expect: [.rejected(.assetsLimitReached)]
        ),
        Scenario(
            "order: at the asset limit, an existing code still replays or conflicts before assets_limit_reached",
            usesFixture: false,
            setup: [Step(at: 0, assetsAtLimit)],
            step: Step([Op.asset("A0"), Op.asset("A4095", scale: 3), Op.asset("ONEMORE")]),
            expect: [.okReplay, .rejected(.assetExistsWithDifferentScale), .rejected(.assetsLimitReached)]
        ),
    ]

    static let accounts: [Scenario] = [
        Scenario(
            "create_account: a built-in kind takes its own normal side; a new merchant adds one bucket",
            step: Step([Op.account(30, "USD", .merchantPayable, merchant: 555)]),
            expect: [.ok()],
            effect: Effect(
                newAccounts: [accountDefinition(30, "USD", .merchantPayable, side: .credit, merchant: 555)],
                newAggregateBuckets: 1
            )
        ),
        Scenario(
            "create_account: a built-in kind given its own normal side; existing groups add no bucket",
            step: Step([Op.account(31, "USD", .merchantPayable, side: .credit, merchant: 100)]),
            expect: [.ok()],
            effect: Effect(newAccounts: [accountDefinition(31, "USD", .merchantPayable, side: .credit, merchant: 100)])
        ),
        Scenario(
            "create_account: custom kinds 1000 and 65535 with their stated normal side",
            step: Step([
                Op.account(32, "USD", AccountKind(rawValue: 1_000), side: .credit),
                Op.account(33, "EUR", AccountKind(rawValue: 65_535), side: .debit, merchant: 9, partner: 9),
            ]),
            expect: [.ok(), .ok()],
            effect: Effect(
                newAccounts: [
                    accountDefinition(32, "USD", AccountKind(rawValue: 1_000), side: .credit),
                    accountDefinition(33, "EUR", AccountKind(rawValue: 65_535), side: .debit, merchant: 9, partner: 9),
                ],
                newAggregateBuckets: 6
            )
        ),
        Scenario(
            "create_account: one constraint flag is valid",
            step: Step([Op.account(34, "USD", .bankCash, partner: 9, flags: .creditsMustNotExceedDebits)]),
            expect: [.ok()],
            effect: Effect(
                newAccounts: [
                    accountDefinition(
                        34,
                        "USD",
                        .bankCash,
                        side: .debit,
                        partner: 9,
                        flags: .creditsMustNotExceedDebits
                    )
                ],
                newAggregateBuckets: 1
            )
        ),
        Scenario(
            "create_account: identical fields again are ok with the replay flag, whatever the status",
            step: Step([
                Op.account(Fixture.psp, "USD", .pspReceivable, partner: 7),
                Op.account(
                    Fixture.capped,
                    "USD",
                    .merchantPayable,
                    side: .credit,
                    merchant: 101,
                    flags: .debitsMustNotExceedCredits
                ),
                Op.account(Fixture.frozen, "USD", .merchantPayable),
                Op.account(Fixture.closed, "USD", .merchantPayable),
            ]),
            expect: [.okReplay, .okReplay, .okReplay, .okReplay]
        ),
        Scenario(
            "account_id_invalid: id 0",
            step: Step([Op.account(0, "USD", .merchantPayable)]),
            expect: [.rejected(.accountIDInvalid)]
        ),
        Scenario(
            "order: account_id_invalid wins over account_kind_invalid",
            step: Step([Op.account(0, "USD", AccountKind(rawValue: 0))]),
            expect: [.rejected(.accountIDInvalid)]
        ),
        Scenario(
            "account_kind_invalid: kinds 0, 11 and 999",
            step: Step([
                Op.account(40, "USD", AccountKind(rawValue: 0), side: .debit),
                Op.account(41, "USD", AccountKind(rawValue: 11), side: .debit),
                Op.account(42, "USD", AccountKind(rawValue: 999), side: .debit),
            ]),
            expect: Array(repeating: .rejected(.accountKindInvalid), count: 3)
        ),
        Scenario(
            "order: account_kind_invalid wins over normal side and asset checks",
            step: Step([Op.account(40, "GBP", AccountKind(rawValue: 11))]),
            expect: [.rejected(.accountKindInvalid)]
        ),
        Scenario(
            "normal_side_mismatch: a built-in kind given the other side",
            step: Step([
                Op.account(40, "USD", .merchantPayable, side: .debit),
                Op.account(41, "USD", .pspReceivable, side: .credit),
            ]),
            expect: [.rejected(.normalSideMismatch), .rejected(.normalSideMismatch)]
        ),
        Scenario(
            "order: normal_side_mismatch wins over account_flags_invalid and asset_unknown",
            step: Step([Op.account(40, "GBP", .merchantPayable, side: .debit, flags: AccountFlags(rawValue: 3))]),
            expect: [.rejected(.normalSideMismatch)]
        ),
        Scenario(
            "normal_side_required: a custom kind without a normal side",
            step: Step([Op.account(40, "USD", AccountKind(rawValue: 1_000))]),
            expect: [.rejected(.normalSideRequired)]
        ),
        Scenario(
            "order: normal_side_required wins over account_flags_invalid",
            step: Step([Op.account(40, "USD", AccountKind(rawValue: 1_000), flags: AccountFlags(rawValue: 4))]),
            expect: [.rejected(.normalSideRequired)]
        ),
        Scenario(
            "account_flags_invalid: an unknown bit, and both constraints at once",
            step: Step([
                Op.account(40, "USD", .merchantPayable, flags: AccountFlags(rawValue: 4)),
                Op.account(41, "USD", .merchantPayable, flags: AccountFlags(rawValue: 0x8000)),
                Op.account(
                    42,
                    "USD",
                    .merchantPayable,
                    flags: [.debitsMustNotExceedCredits, .creditsMustNotExceedDebits]
                ),
            ]),
            expect: Array(repeating: .rejected(.accountFlagsInvalid), count: 3)
        ),
        Scenario(
            "order: account_flags_invalid wins over asset_unknown",
            step: Step([Op.account(40, "GBP", .merchantPayable, flags: AccountFlags(rawValue: 3))]),
            expect: [.rejected(.accountFlagsInvalid)]
        ),
        Scenario(
            "asset_unknown: an account in an asset never created",
            step: Step([Op.account(40, "GBP", .merchantPayable)]),
            expect: [.rejected(.assetUnknown)]
        ),
        Scenario(
            "order: asset_unknown wins over account_exists_with_different_fields",
            step: Step([Op.account(Fixture.psp, "GBP", .pspReceivable, partner: 7)]),
            expect: [.rejected(.assetUnknown)]
        ),
        Scenario(
            "account_exists_with_different_fields: asset, kind, normal side, merchant, partner, flags",
            setup: [Step(at: 1, [Op.account(40, "USD", AccountKind(rawValue: 1_000), side: .debit)])],
            step: Step([
                Op.account(Fixture.psp, "EUR", .pspReceivable, partner: 7),
                Op.account(Fixture.psp, "USD", .bankCash, partner: 7),
                Op.account(40, "USD", AccountKind(rawValue: 1_000), side: .credit),
                Op.account(Fixture.psp, "USD", .pspReceivable, merchant: 1, partner: 7),
                Op.account(Fixture.psp, "USD", .pspReceivable, partner: 8),
                Op.account(Fixture.psp, "USD", .pspReceivable, partner: 7, flags: .creditsMustNotExceedDebits),
            ]),
            expect: Array(repeating: .rejected(.accountExistsWithDifferentFields), count: 6)
        ),
        Scenario(
            "accounts_limit_reached: the third account with accountsMax 2",
            configuration: LedgerConfiguration(accountsMax: 2),
            usesFixture: false,
            setup: [
                Step(at: 0, [Op.asset("USD"), Op.account(1, "USD", .bankCash), Op.account(2, "USD", .feeRevenue)])
            ],
            step: Step([Op.account(3, "USD", .bankCash)]),
            expect: [.rejected(.accountsLimitReached)]
        ),
        Scenario(
            "order: at the account limit, an existing id still replays or conflicts before accounts_limit_reached",
            configuration: LedgerConfiguration(accountsMax: 2),
            usesFixture: false,
            setup: [
                Step(at: 0, [Op.asset("USD"), Op.account(1, "USD", .bankCash), Op.account(2, "USD", .feeRevenue)])
            ],
            step: Step([
                Op.account(1, "USD", .bankCash),
                Op.account(2, "USD", .merchantPayable),
                Op.account(3, "USD", .bankCash),
            ]),
            expect: [.okReplay, .rejected(.accountExistsWithDifferentFields), .rejected(.accountsLimitReached)]
        ),
        Scenario(
            "accounts_limit_reached: accountsMax 0 refuses the first account",
            configuration: LedgerConfiguration(accountsMax: 0),
            usesFixture: false,
            setup: [Step(at: 0, [Op.asset("USD")])],
            step: Step([Op.account(1, "USD", .bankCash)]),
            expect: [.rejected(.accountsLimitReached)]
        ),
    ]

    static let statuses: [Scenario] = [
        Scenario(
            "set_account_status: open → frozen, with a balance",
            step: Step([Op.status(Fixture.psp, .frozen, actor: 1, reason: 2)]),
            expect: [.ok()],
            effect: Effect(statuses: [Fixture.psp: .frozen])
        ),
        Scenario(
            "set_account_status: frozen → open",
            step: Step([Op.status(Fixture.frozen, .open)]),
            expect: [.ok()],
            effect: Effect(statuses: [Fixture.frozen: .open])
        ),
        Scenario(
            "set_account_status: the current status again is ok with the replay flag, closed included",
            step: Step([
                Op.status(Fixture.psp, .open),
                Op.status(Fixture.frozen, .frozen),
                Op.status(Fixture.closed, .closed),
            ]),
            expect: [.okReplay, .okReplay, .okReplay]
        ),
        Scenario(
            "account_unknown: status of an account that does not exist, or of id 0",
            step: Step([Op.status(99, .frozen), Op.status(0, .open)]),
            expect: [.rejected(.accountUnknown), .rejected(.accountUnknown)]
        ),
        Scenario(
            "account_closed: closing is final",
            step: Step([Op.status(Fixture.closed, .open), Op.status(Fixture.closed, .frozen)]),
            expect: [.rejected(.accountClosed), .rejected(.accountClosed)]
        ),
        Scenario(
            "account_not_empty: a posted balance",
            step: Step([Op.status(Fixture.psp, .closed), Op.status(Fixture.capped, .closed)]),
            expect: [.rejected(.accountNotEmpty), .rejected(.accountNotEmpty)]
        ),
        Scenario(
            "account_not_empty: only pending amounts (either side), even from a frozen account",
            setup: [
                Step(at: 1, [Op.hold(10, Fixture.fees, Fixture.fxUSD, 100)]),
                Step(at: 2, [Op.status(Fixture.fees, .frozen)]),
            ],
            step: Step([Op.status(Fixture.fees, .closed), Op.status(Fixture.fxUSD, .closed)]),
            expect: [.rejected(.accountNotEmpty), .rejected(.accountNotEmpty)]
        ),
        Scenario(
            "set_account_status: an account with equal posted debits and credits closes, also from frozen",
            setup: [
                Step(
                    at: 1,
                    [
                        Op.post(10, [.debit(Fixture.fees, 100), .credit(Fixture.fxUSD, 100)]),
                        Op.post(11, [.debit(Fixture.fxUSD, 100), .credit(Fixture.fees, 100)]),
                        Op.status(Fixture.fxUSD, .frozen),
                    ]
                )
            ],
            step: Step([Op.status(Fixture.fees, .closed), Op.status(Fixture.fxUSD, .closed)]),
            expect: [.ok(), .ok()],
            effect: Effect(statuses: [Fixture.fees: .closed, Fixture.fxUSD: .closed])
        ),
    ]
}
