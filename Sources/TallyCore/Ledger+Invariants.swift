extension Ledger {
    /// Checks every invariant of the state by recomputing it from scratch; returns a description of
    /// each violation (empty when the state is sound). Expensive: O(accounts + holds + keys). Tests
    /// call it after every step of random workloads; the engine may call it after recovery.
    ///
    /// 1. Per asset, debits equal credits, posted and pending, and the asset totals equal the sums
    ///    over its accounts.
    /// 2. Every aggregate bucket equals the sum over the accounts that feed it.
    /// 3. No account breaks its balance constraint; closed accounts are settled to zero.
    /// 4. Every account's pending debits and credits equal what its open holds reserve, and every
    ///    open hold has something left.
    /// 5. Every retained key is found through the index, and the log counts add up.
    public func checkInvariants() -> [String] {
        var violations: [String] = []
        func add(_ sum: inout UInt128, _ value: UInt128, _ what: @autoclosure () -> String) {
            let (result, overflow) = sum.addingReportingOverflow(value)
            if overflow {
                violations.append("overflow summing \(what())")
            }
            sum = result
        }
        func add(_ total: inout Balance, _ balance: Balance, _ what: String) {
            add(&total.debitsPosted, balance.debitsPosted, what)
            add(&total.creditsPosted, balance.creditsPosted, what)
            add(&total.debitsPending, balance.debitsPending, what)
            add(&total.creditsPending, balance.creditsPending, what)
        }

        var assetSums = [Balance](repeating: .zero, count: self.assets.count)
        var bucketSums = [Balance](repeating: .zero, count: self.aggregates.count)
        for (index, record) in self.accounts.records.enumerated() {
            let balance = self.accounts.balances[index]
            add(&assetSums[Int(record.asset)], balance, "asset \(record.asset)")
            for bucket in [record.totalBucket, record.merchantBucket, record.partnerBucket] {
                add(&bucketSums[Int(bucket)], balance, "bucket \(bucket)")
            }
            if record.flags.contains(.debitsMustNotExceedCredits),
                balance.debitsPosted + balance.debitsPending > balance.creditsPosted
            {
                violations.append("account \(record.id): debits exceed credits despite its constraint")
            }
            if record.flags.contains(.creditsMustNotExceedDebits),
                balance.creditsPosted + balance.creditsPending > balance.debitsPosted
            {
                violations.append("account \(record.id): credits exceed debits despite its constraint")
            }
            if record.status == .closed && !balance.isSettledToZero {
                violations.append("account \(record.id): closed but not settled to zero")
            }
        }
        for (index, totals) in self.assets.totals.enumerated() {
            let code = self.assets.codes[index]
            if totals.debitsPosted != totals.creditsPosted {
                violations.append(
                    "asset \(code): posted debits \(totals.debitsPosted) != credits \(totals.creditsPosted)"
                )
            }
            if totals.debitsPending != totals.creditsPending {
                violations.append(
                    "asset \(code): pending debits \(totals.debitsPending) != credits \(totals.creditsPending)"
                )
            }
            if totals != assetSums[index] {
                violations.append("asset \(code): totals differ from the sum over its accounts")
            }
        }
        for (index, sum) in bucketSums.enumerated() where sum != self.aggregates.balances[index] {
            violations.append("aggregate bucket \(index) \(self.aggregates.keys[index]) differs from its accounts")
        }

        var pendingDebits = [UInt128](repeating: 0, count: self.accounts.count)
        var pendingCredits = [UInt128](repeating: 0, count: self.accounts.count)
        for (id, hold) in self.holds.open {
            if hold.captured >= hold.amount {
                violations.append("hold \(id): open with nothing left")
            }
            if hold.debit == hold.credit {
                violations.append("hold \(id): debits and credits one account")
            }
            add(&pendingDebits[Int(hold.debit)], hold.amount &- hold.captured, "pending of hold \(id)")
            add(&pendingCredits[Int(hold.credit)], hold.amount &- hold.captured, "pending of hold \(id)")
        }
        for (index, balance) in self.accounts.balances.enumerated() {
            if balance.debitsPending != pendingDebits[index] || balance.creditsPending != pendingCredits[index] {
                violations.append("account \(self.accounts.records[index].id): pending differs from its open holds")
            }
        }

        var keyCount = 0
        self.keys.forEachEntry { entry in
            keyCount += 1
            if self.keys.find(IdempotencyKey(entry.key))?.key != entry.key {
                violations.append("idempotency key \(IdempotencyKey(entry.key)) not found through the index")
            }
        }
        if keyCount != self.keys.count {
            violations.append("idempotency log holds \(keyCount) entries but counts \(self.keys.count)")
        }
        if self.transactions.count > Int(self.lastTransactionID) {
            violations.append("more retained transactions than were ever applied")
        }
        return violations
    }
}
