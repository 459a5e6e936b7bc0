@testable import TallyCore

/// What a client can observe of a ledger's state, for "nothing changed" and "exactly this
/// changed" comparisons: every asset with its totals, every account with status and balance,
/// every open hold, and the counters of transactions, reversals and aggregate buckets.
///
/// It leaves out the idempotency keys on purpose: a rejected keyed operation remembers its
/// rejection, so keys are checked separately, key by key.
struct LedgerSnapshot: Equatable, CustomStringConvertible {
    var assets: [AssetInfo]
    var accounts: [AccountInfo]
    var holds: [HoldInfo]
    var lastTransaction: TransactionID
    var retainedTransactions: Int
    var reversedTransactions: Int
    var aggregateBuckets: Int

    init(_ ledger: Ledger) {
        self.assets = ledger.allAssets
        self.accounts = ledger.allAccounts
        self.holds = ledger.openHolds
        self.lastTransaction = ledger.lastTransaction
        let statistics = ledger.statistics
        self.retainedTransactions = statistics.retainedTransactions
        self.reversedTransactions = statistics.reversedTransactions
        self.aggregateBuckets = statistics.aggregateBuckets
    }

    /// Recomputes every asset's totals from the accounts, so that an expected snapshot built by
    /// editing account balances stays consistent.
    mutating func recomputeAssetTotals() {
        for index in self.assets.indices {
            var totals = Balance.zero
            for account in self.accounts where account.asset == self.assets[index].code {
                totals.debitsPosted &+= account.balance.debitsPosted
                totals.creditsPosted &+= account.balance.creditsPosted
                totals.debitsPending &+= account.balance.debitsPending
                totals.creditsPending &+= account.balance.creditsPending
            }
            self.assets[index].totals = totals
        }
    }

    var description: String {
        var lines = ["last transaction \(self.lastTransaction), retained \(self.retainedTransactions)"]
        lines += self.assets.map { "asset \($0.code) scale \($0.scale) \(describe($0.totals))" }
        lines += self.accounts.map { "account \($0.id) \($0.status) \(describe($0.balance))" }
        lines += self.holds.map { "hold \($0.id) \($0.amount) captured \($0.captured) deadline \($0.deadline)" }
        return lines.joined(separator: "\n")
    }
}

/// A balance in one short line: posted and pending debits, then credits.
func describe(_ balance: Balance) -> String {
    "D \(balance.debitsPosted)+\(balance.debitsPending)p / C \(balance.creditsPosted)+\(balance.creditsPending)p"
}
