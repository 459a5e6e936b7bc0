extension Ledger {
    /// Applies a posted transaction. The checks run in the order docs/LEDGER.md lists; the first
    /// that fails decides the result.
    mutating func applyPost(
        _ header: TransactionHeader,
        legs legSlice: OperationBatch.Slice,
        fxRates rateSlice: OperationBatch.Slice,
        references: OperationBatch.ReferenceSlices,
        in batch: OperationBatch
    ) -> OperationResult {
        if let rejection = self.checkHeader(header, references: references) {
            return rejection
        }
        let legs = batch.legs[legSlice.range]
        if legs.count < Limits.legsPerTransactionMin {
            return .rejected(.legsTooFew)
        }
        if legs.count > Limits.legsPerTransactionMax {
            return .rejected(.legsTooMany)
        }
        if rateSlice.count > Limits.fxRatesPerTransactionMax {
            return .rejected(.fxRateInvalid, detail: Limits.fxRatesPerTransactionMax)
        }
        if let rejection = self.resolveNewLegs(legs) {
            return rejection
        }
        if let rejection = self.sumLegsByAsset(legs) {
            return rejection
        }
        if let rejection = self.checkFXRates(batch.fxRates[rateSlice.range]) {
            return rejection
        }
        if let rejection = self.checkVolumesAndConstraints(legs) {
            return rejection
        }

        let id = self.nextTransactionID()
        var index = 0
        for leg in legs {
            self.move(self.scratchAccounts[index], leg.side, posted: leg.amount)
            index += 1
        }
        self.scratchRecord.removeAll(keepingCapacity: true)
        self.scratchRecord.appendRecordHeader(
            kind: .post,
            header: header,
            recordedTime: self.now
        )
        self.scratchRecord.appendLegs(legs, accounts: self.scratchAccounts)
        self.scratchRecord.appendRates(batch.fxRates[rateSlice.range])
        self.scratchRecord.appendReferences(references, from: batch.referenceBytes)
        self.storeScratchRecord(id)
        self.assertBalanced()
        return .ok(id)
    }

    /// Resolves the accounts of new legs into ``scratchAccounts``, checking each leg in order:
    /// amount non-zero, account known, account not already in an earlier leg, account open.
    mutating func resolveNewLegs(_ legs: ArraySlice<Leg>) -> OperationResult? {
        self.scratchAccounts.removeAll(keepingCapacity: true)
        var index = 0
        for leg in legs {
            if leg.amount == 0 {
                return .rejected(.amountZero, detail: index)
            }
            guard leg.account.rawValue != 0, let account = self.accounts.find(leg.account) else {
                return .rejected(.accountUnknown, detail: index)
            }
            if self.scratchAccounts.contains(account) {
                return .rejected(.accountsMustBeDistinct, detail: index)
            }
            if let rejection = self.checkOpen(account, detail: index) {
                return rejection
            }
            self.scratchAccounts.append(account)
            index += 1
        }
        return nil
    }

    /// Sums the legs per asset into ``scratchAssets`` (assets in order of first appearance) and
    /// checks that every asset balances. ``scratchAccounts`` must hold the legs' accounts.
    mutating func sumLegsByAsset(_ legs: ArraySlice<Leg>) -> OperationResult? {
        self.scratchAssets.removeAll(keepingCapacity: true)
        var index = 0
        for leg in legs {
            let asset = self.accounts.records[self.scratchAccounts[index]].asset
            var slot = 0
            while slot < self.scratchAssets.count && self.scratchAssets[slot].asset != asset {
                slot += 1
            }
            if slot == self.scratchAssets.count {
                self.scratchAssets.append(AssetSum(asset: asset, firstLeg: index, debits: 0, credits: 0))
            }
            switch leg.side {
            case .debit:
                let (sum, overflow) = self.scratchAssets[slot].debits.addingReportingOverflow(leg.amount)
                if overflow {
                    return .rejected(.amountOverflow, detail: index)
                }
                self.scratchAssets[slot].debits = sum
            case .credit:
                let (sum, overflow) = self.scratchAssets[slot].credits.addingReportingOverflow(leg.amount)
                if overflow {
                    return .rejected(.amountOverflow, detail: index)
                }
                self.scratchAssets[slot].credits = sum
            }
            index += 1
        }
        for sum in self.scratchAssets where sum.debits != sum.credits {
            return .rejected(.unbalanced, detail: sum.firstLeg)
        }
        return nil
    }

    /// Checks the FX rates against the assets in ``scratchAssets``: none for one asset; for
    /// several, every rate well-formed and the rates connecting all the assets.
    func checkFXRates(_ rates: ArraySlice<FXRate>) -> OperationResult? {
        let assetCount = self.scratchAssets.count
        if assetCount == 1 {
            return rates.isEmpty ? nil : .rejected(.fxRateUnexpected)
        }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: assetCount) { parent in
            for slot in 0..<assetCount {
                parent[slot] = slot
            }
            func root(_ slot: Int) -> Int {
                var slot = slot
                while parent[slot] != slot {
                    slot = parent[slot]
                }
                return slot
            }
            func slotOf(_ code: AssetCode) -> Int? {
                guard let asset = self.assets.index(of: code) else { return nil }
                return self.scratchAssets.firstIndex(where: { $0.asset == asset })
            }
            var components = assetCount
            var index = 0
            for rate in rates {
                guard rate.numerator != 0, rate.denominator != 0,
                    let base = slotOf(rate.base), let quote = slotOf(rate.quote), base != quote
                else {
                    return .rejected(.fxRateInvalid, detail: index)
                }
                let repeatsPair = rates.prefix(index).contains {
                    ($0.base == rate.base && $0.quote == rate.quote) || ($0.base == rate.quote && $0.quote == rate.base)
                }
                if repeatsPair {
                    return .rejected(.fxRateInvalid, detail: index)
                }
                let (baseRoot, quoteRoot) = (root(base), root(quote))
                if baseRoot != quoteRoot {
                    parent[baseRoot] = quoteRoot
                    components -= 1
                }
                index += 1
            }
            return components == 1 ? nil : .rejected(.fxRateMissing)
        }
    }

    /// Checks, for legs resolved into ``scratchAccounts`` and summed into ``scratchAssets``, that no
    /// asset's volume overflows and then that no leg breaks its account's balance constraint.
    func checkVolumesAndConstraints(_ legs: ArraySlice<Leg>) -> OperationResult? {
        for sum in self.scratchAssets where !self.assets.canAddVolume(sum.debits, asset: sum.asset) {
            return .rejected(.amountOverflow, detail: sum.firstLeg)
        }
        var index = 0
        for leg in legs {
            if let rejection = self.checkConstraint(
                self.scratchAccounts[index],
                side: leg.side,
                amount: leg.amount,
                detail: index
            ) {
                return rejection
            }
            index += 1
        }
        return nil
    }

    /// In debug builds, checks that every asset's debits equal its credits, posted and pending.
    func assertBalanced() {
        assert(
            self.assets.totals.allSatisfy {
                $0.debitsPosted == $0.creditsPosted && $0.debitsPending == $0.creditsPending
            },
            "double entry broken: an asset's debits differ from its credits"
        )
    }
}
