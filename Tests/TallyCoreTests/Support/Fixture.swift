import Testing

@testable import TallyCore

/// The small chart of accounts most scenarios start from, applied in one batch at ``start``.
///
/// Assets USD and EUR (scale 2) and JPY (scale 0). Two funding posts make the constrained accounts
/// usable: transaction 1 debits `psp` and credits `capped` 1,000; transaction 2 debits `bank` and
/// credits `merchant` 1,000. So the next transaction a scenario creates is 3.
enum Fixture {
    /// Engine seconds of the fixture batch; scenario times are offsets from it.
    static let start: UInt64 = 1_000_000

    /// psp_receivable USD (debit-normal), partner 7.
    static let psp: AccountID = 1
    /// merchant_payable USD (credit-normal), merchant 100.
    static let merchant: AccountID = 2
    /// merchant_payable USD, merchant 101, `debits_must_not_exceed_credits`; 1,000 credits posted.
    static let capped: AccountID = 3
    /// bank_cash USD, `credits_must_not_exceed_debits`; 1,000 debits posted.
    static let bank: AccountID = 4
    /// fee_revenue USD, no balance.
    static let fees: AccountID = 5
    /// merchant_payable USD, frozen, no balance.
    static let frozen: AccountID = 6
    /// merchant_payable USD, closed, no balance.
    static let closed: AccountID = 7
    /// psp_receivable EUR and merchant_payable EUR.
    static let pspEUR: AccountID = 11
    static let merchantEUR: AccountID = 12
    /// fx_gain_loss USD and EUR: the FX accounts multi-asset posts go through.
    static let fxUSD: AccountID = 13
    static let fxEUR: AccountID = 14
    /// bank_cash JPY and merchant_payable JPY.
    static let bankJPY: AccountID = 21
    static let merchantJPY: AccountID = 22

    static let fundingKeys: [IdempotencyKey] = [0xF1, 0xF2]

    static var operations: [Operation] {
        [
            Op.asset("USD"),
            Op.asset("EUR"),
            Op.asset("JPY", scale: 0),
            Op.account(psp, "USD", .pspReceivable, partner: 7),
            Op.account(merchant, "USD", .merchantPayable, merchant: 100),
            Op.account(capped, "USD", .merchantPayable, merchant: 101, flags: .debitsMustNotExceedCredits),
            Op.account(bank, "USD", .bankCash, flags: .creditsMustNotExceedDebits),
            Op.account(fees, "USD", .feeRevenue),
            Op.account(frozen, "USD", .merchantPayable),
            Op.account(closed, "USD", .merchantPayable),
            Op.account(pspEUR, "EUR", .pspReceivable),
            Op.account(merchantEUR, "EUR", .merchantPayable),
            Op.account(fxUSD, "USD", .fxGainLoss),
            Op.account(fxEUR, "EUR", .fxGainLoss),
            Op.account(bankJPY, "JPY", .bankCash),
            Op.account(merchantJPY, "JPY", .merchantPayable),
            Op.status(frozen, .frozen),
            Op.status(closed, .closed),
            Op.post(fundingKeys[0], [.debit(psp, 1_000), .credit(capped, 1_000)]),
            Op.post(fundingKeys[1], [.debit(bank, 1_000), .credit(merchant, 1_000)], type: .settlement),
        ]
    }

    /// The balances the fixture leaves; every other account is zero.
    static let balances: [AccountID: Balance] = [
        psp: Balance(debitsPosted: 1_000),
        merchant: Balance(creditsPosted: 1_000),
        capped: Balance(creditsPosted: 1_000),
        bank: Balance(debitsPosted: 1_000),
    ]

    /// A ledger holding the fixture.
    static func ledger(_ configuration: LedgerConfiguration = LedgerConfiguration()) -> Ledger {
        var ledger = Ledger(configuration: configuration)
        apply(to: &ledger)
        return ledger
    }

    static func apply(to ledger: inout Ledger) {
        let results = ledger.apply(OperationBatch(operations), at: time(0))
        #expect(results.allSatisfy { $0.code == .ok }, "fixture: \(results)")
        #expect(ledger.lastTransaction == 2)
    }

    /// Engine time `seconds` after the fixture.
    static func time(_ seconds: UInt64) -> Timestamp {
        Timestamp(secondsSinceEpoch: start + seconds)
    }

    /// Engine time `seconds` plus `nanoseconds` after the fixture.
    static func time(_ seconds: UInt64, plusNanoseconds nanoseconds: UInt64) -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: (start + seconds) * Timestamp.nanosecondsPerSecond + nanoseconds)
    }
}

extension Ledger {
    /// Applies operations, each linked to the next when its index is in `linked`.
    @discardableResult
    mutating func apply(_ operations: [Operation], linked: Set<Int> = [], at time: Timestamp) -> [OperationResult] {
        var batch = OperationBatch()
        for (index, operation) in operations.enumerated() {
            batch.append(operation, linked: linked.contains(index))
        }
        return self.apply(batch, at: time)
    }

    /// Balances of every account, by id.
    var balancesByAccount: [AccountID: Balance] {
        Dictionary(uniqueKeysWithValues: self.allAccounts.map { ($0.id, $0.balance) })
    }
}
