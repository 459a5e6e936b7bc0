extension Ledger {
    /// Applies a posted transaction. The checks run in the order docs/LEDGER.md lists; the first
    /// that fails decides the result.
    mutating func applyPost(
        _ header: TransactionHeader,
        legs legSlice: OperationBatch.Slice,
        fxRates rateSlice: OperationBatch.Slice,
        references: OperationBatch.ReferenceSlices,
        in batch: BatchView
    ) -> OperationResult {
        if let rejection = self.checkHeader(header, references: references) {
            return rejection
        }
        if legSlice.count < Limits.legsPerTransactionMin {
            return .rejected(.legsTooFew)
        }
        if legSlice.count > Limits.legsPerTransactionMax {
            return .rejected(.legsTooMany)
        }
        if rateSlice.count > Limits.fxRatesPerTransactionMax {
            return .rejected(.fxRateInvalid, detail: Limits.fxRatesPerTransactionMax)
        }
        let legs = batch.legs(legSlice)
        let rates = batch.fxRates(rateSlice)
        return LegScratch.with(legCount: legs.count) { scratch in
            self.applyPost(header, legs: legs, rates: rates, references: references, in: batch, &scratch)
        }
    }

    private mutating func applyPost(
        _ header: TransactionHeader,
        legs: UnsafeBufferPointer<Leg>,
        rates: UnsafeBufferPointer<FXRate>,
        references: OperationBatch.ReferenceSlices,
        in batch: BatchView,
        _ scratch: inout LegScratch
    ) -> OperationResult {
        if let rejection = self.resolveNewLegs(legs, &scratch) {
            return rejection
        }
        if let rejection = self.sumLegsByAsset(legs, &scratch) {
            return rejection
        }
        if let rejection = self.checkFXRates(rates, scratch) {
            return rejection
        }
        if let rejection = self.checkVolumesAndConstraints(legs, scratch) {
            return rejection
        }

        let id = self.nextTransactionID()
        for index in 0..<legs.count {
            self.move(scratch.account(index), legs[index].side, posted: legs[index].amount)
        }
        let now = self.now
        let accounts = scratch.accounts
        self.storeRecord(id, bytesMax: RecordWriter.bytesMax(legs: legs.count, rates: rates.count)) { writer in
            writer.header(kind: .post, header: header, recordedTime: now)
            writer.legs(legs, accounts: accounts)
            writer.rates(rates)
            writer.references(references, in: batch)
        }
        self.assertBalanced()
        return .ok(id)
    }

    /// Resolves the accounts of new legs into `scratch`, checking each leg in order: amount
    /// non-zero, account known, account not already in an earlier leg, account open.
    mutating func resolveNewLegs(_ legs: UnsafeBufferPointer<Leg>, _ scratch: inout LegScratch) -> OperationResult? {
        for index in 0..<legs.count {
            let leg = legs[index]
            if leg.amount == 0 {
                return .rejected(.amountZero, detail: index)
            }
            guard leg.account.rawValue != 0, let account = self.accounts.find(leg.account) else {
                return .rejected(.accountUnknown, detail: index)
            }
            if scratch.containsAccount(account) {
                return .rejected(.accountsMustBeDistinct, detail: index)
            }
            if let rejection = self.checkOpen(account, detail: index) {
                return rejection
            }
            scratch.appendAccount(account)
        }
        return nil
    }

    /// Sums the legs per asset into `scratch` (assets in order of first appearance) and checks that
    /// every asset balances. `scratch` must hold the legs' accounts.
    mutating func sumLegsByAsset(_ legs: UnsafeBufferPointer<Leg>, _ scratch: inout LegScratch) -> OperationResult? {
        for index in 0..<legs.count {
            let asset = self.accounts.records[scratch.account(index)].asset
            if !scratch.add(legs[index].amount, side: legs[index].side, asset: asset, firstLeg: index) {
                return .rejected(.amountOverflow, detail: index)
            }
        }
        for slot in 0..<scratch.sumCount {
            let sum = scratch.sum(slot)
            if sum.debits != sum.credits {
                return .rejected(.unbalanced, detail: Int(sum.firstLeg))
            }
        }
        return nil
    }

    /// Checks the FX rates against the assets summed in `scratch`: none for one asset; for several,
    /// every rate well-formed and the rates connecting all the assets.
    mutating func checkFXRates(_ rates: UnsafeBufferPointer<FXRate>, _ scratch: LegScratch) -> OperationResult? {
        let assetCount = scratch.sumCount
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
                self.assets.index(of: code).flatMap { scratch.slot(of: $0) }
            }
            var components = assetCount
            for index in 0..<rates.count {
                let rate = rates[index]
                guard rate.numerator != 0, rate.denominator != 0,
                    let base = slotOf(rate.base), let quote = slotOf(rate.quote), base != quote
                else {
                    return .rejected(.fxRateInvalid, detail: index)
                }
                let repeatsPair = UnsafeBufferPointer(rebasing: rates[..<index]).contains {
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
            }
            return components == 1 ? nil : .rejected(.fxRateMissing)
        }
    }

    /// Checks, for legs resolved and summed in `scratch`, that no asset's volume overflows and then
    /// that no leg breaks its account's balance constraint.
    mutating func checkVolumesAndConstraints(
        _ legs: UnsafeBufferPointer<Leg>,
        _ scratch: LegScratch
    ) -> OperationResult? {
        for slot in 0..<scratch.sumCount {
            let sum = scratch.sum(slot)
            if !self.assets.canAddVolume(sum.debits, asset: sum.asset) {
                return .rejected(.amountOverflow, detail: Int(sum.firstLeg))
            }
        }
        for index in 0..<legs.count {
            let leg = legs[index]
            if let rejection = self.checkConstraint(
                scratch.account(index),
                side: leg.side,
                amount: leg.amount,
                detail: index
            ) {
                return rejection
            }
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
