import TallyCore

extension ReferenceLedger {
    /// docs/LEDGER.md, *Post*: the checks in the documented order, then every leg is posted.
    mutating func post(
        _ header: TransactionHeader,
        legs: [Leg],
        fxRates: [FXRate],
        references: ExternalReferences
    ) -> OperationResult {
        if let rejection = self.headerRejection(header, references) { return rejection }
        guard legs.count >= 2 else { return .rejected(.legsTooFew) }
        guard legs.count <= 32 else { return .rejected(.legsTooMany) }
        guard fxRates.count <= 15 else { return .rejected(.fxRateInvalid, detail: 15) }

        var legAccounts: [Account] = []
        for (index, leg) in legs.enumerated() {
            guard leg.amount != 0 else { return .rejected(.amountZero, detail: index) }
            guard leg.account.rawValue != 0, let account = self.account(leg.account) else {
                return .rejected(.accountUnknown, detail: index)
            }
            guard !legAccounts.contains(where: { $0.id == leg.account }) else {
                return .rejected(.accountsMustBeDistinct, detail: index)
            }
            if let rejection = self.statusRejection(account, detail: index) { return rejection }
            legAccounts.append(account)
        }
        let assetsInOrder = ReferenceLedger.assetsInOrder(legAccounts)

        // Side sums per asset. The legs are added in one pass in leg order, so the first leg whose
        // addition overflows its asset's side sum is reported, whichever asset it is in. (The
        // document's "per asset, in order of first appearance: sum ... (legs are summed in order)"
        // also reads as asset by asset; the core sums in one pass, and the text allows that.)
        var debitSums = [UInt128](repeating: 0, count: assetsInOrder.count)
        var creditSums = [UInt128](repeating: 0, count: assetsInOrder.count)
        for (index, leg) in legs.enumerated() {
            guard let position = assetsInOrder.firstIndex(of: legAccounts[index].asset) else {
                preconditionFailure("every leg's asset is in the list")
            }
            var overflow = false
            switch leg.side {
            case .debit: (debitSums[position], overflow) = debitSums[position].addingReportingOverflow(leg.amount)
            case .credit: (creditSums[position], overflow) = creditSums[position].addingReportingOverflow(leg.amount)
            }
            if overflow { return .rejected(.amountOverflow, detail: index) }
        }
        for (position, asset) in assetsInOrder.enumerated() where debitSums[position] != creditSums[position] {
            return .rejected(.unbalanced, detail: ReferenceLedger.firstLeg(of: asset, in: legAccounts))
        }

        if let rejection = ReferenceLedger.fxRejection(fxRates, assets: assetsInOrder) { return rejection }

        for (position, asset) in assetsInOrder.enumerated() where !self.volumeFits(asset, adding: debitSums[position]) {
            return .rejected(.amountOverflow, detail: ReferenceLedger.firstLeg(of: asset, in: legAccounts))
        }
        for (index, leg) in legs.enumerated() {
            if let rejection = self.constraintRejection(
                legAccounts[index],
                side: leg.side,
                amount: leg.amount,
                detail: index
            ) {
                return rejection
            }
        }

        for leg in legs {
            self.move(leg.account, leg.side, postedUp: leg.amount)
        }
        let id = self.appendRecord(
            TransactionRecord(
                id: 0,
                kind: .post,
                type: header.type,
                key: header.key,
                legs: legs,
                fxRates: fxRates,
                references: references,
                effectiveTime: header.effectiveTime,
                recordedTime: self.recordedTime,
                actor: header.actor,
                reason: header.reason
            )
        )
        return .ok(id)
    }

    /// docs/LEDGER.md, *Reversal*: the mirror image of a post or capture.
    mutating func reverse(
        _ header: TransactionHeader,
        transaction: TransactionID,
        references: ExternalReferences
    ) -> OperationResult {
        if let rejection = self.headerRejection(header, references) { return rejection }
        // Records are never evicted here (see the type's documentation), so an assigned id is always
        // retained and `transaction_not_retained` cannot occur.
        guard let original = self.record(transaction) else { return .rejected(.transactionNotFound) }
        guard original.kind == .post || original.kind == .capture else { return .rejected(.notReversible) }
        guard !self.reversed.contains(transaction) else { return .rejected(.alreadyReversed) }

        let legs = original.legs.map { Leg(account: $0.account, side: $0.side.opposite, amount: $0.amount) }
        var legAccounts: [Account] = []
        for (index, leg) in legs.enumerated() {
            guard let account = self.account(leg.account) else {
                preconditionFailure("a recorded leg names an account that does not exist")
            }
            if let rejection = self.statusRejection(account, detail: index) { return rejection }
            legAccounts.append(account)
        }
        for asset in ReferenceLedger.assetsInOrder(legAccounts) {
            var debits: UInt128 = 0
            for (index, leg) in legs.enumerated() where leg.side == .debit && legAccounts[index].asset == asset {
                debits = ReferenceLedger.sum(debits, leg.amount)
            }
            guard self.volumeFits(asset, adding: debits) else {
                return .rejected(.amountOverflow, detail: ReferenceLedger.firstLeg(of: asset, in: legAccounts))
            }
        }
        for (index, leg) in legs.enumerated() {
            if let rejection = self.constraintRejection(
                legAccounts[index],
                side: leg.side,
                amount: leg.amount,
                detail: index
            ) {
                return rejection
            }
        }

        for leg in legs {
            self.move(leg.account, leg.side, postedUp: leg.amount)
        }
        self.reversed.insert(transaction)
        let id = self.appendRecord(
            TransactionRecord(
                id: 0,
                kind: .reverse,
                type: header.type,
                key: header.key,
                legs: legs,
                fxRates: original.fxRates,
                references: references,
                effectiveTime: header.effectiveTime,
                recordedTime: self.recordedTime,
                actor: header.actor,
                reason: header.reason,
                link: transaction
            )
        )
        return .ok(id)
    }

    /// The distinct assets of the legs, in order of first appearance.
    static func assetsInOrder(_ legAccounts: [Account]) -> [AssetCode] {
        var assets: [AssetCode] = []
        for account in legAccounts where !assets.contains(account.asset) {
            assets.append(account.asset)
        }
        return assets
    }

    /// The index of the first leg in `asset`.
    static func firstLeg(of asset: AssetCode, in legAccounts: [Account]) -> Int {
        legAccounts.firstIndex { $0.asset == asset } ?? 0
    }

    /// Step 5 of a post: the FX rates against the transaction's assets.
    static func fxRejection(_ rates: [FXRate], assets: [AssetCode]) -> OperationResult? {
        if assets.count == 1 {
            return rates.isEmpty ? nil : .rejected(.fxRateUnexpected)
        }
        for (index, rate) in rates.enumerated() {
            let valid =
                rate.numerator != 0 && rate.denominator != 0 && rate.base != rate.quote
                && assets.contains(rate.base) && assets.contains(rate.quote)
                && !rates[..<index].contains { earlier in
                    (earlier.base == rate.base && earlier.quote == rate.quote)
                        || (earlier.base == rate.quote && earlier.quote == rate.base)
                }
            if !valid { return .rejected(.fxRateInvalid, detail: index) }
        }
        // Connectivity by flooding from the first asset until nothing changes.
        var reached: [AssetCode] = [assets[0]]
        var changed = true
        while changed {
            changed = false
            for rate in rates {
                if reached.contains(rate.base) && !reached.contains(rate.quote) {
                    reached.append(rate.quote)
                    changed = true
                } else if reached.contains(rate.quote) && !reached.contains(rate.base) {
                    reached.append(rate.base)
                    changed = true
                }
            }
        }
        return reached.count == assets.count ? nil : .rejected(.fxRateMissing)
    }
}
