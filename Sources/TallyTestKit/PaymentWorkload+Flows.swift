import TallyCore

// The flows a workload starts, drawn from the configured mix. Each appends one operation (or an
// atomic chain of two) to the batch and one ``PaymentWorkload/Step`` per operation, saying what
// it spends now, what it earns once acknowledged, and what follows it. A flow returns false when
// it has nothing to act on (no balance to pay out, no capture to refund); the caller then sends a
// card capture instead.

extension PaymentWorkload {
    mutating func appendFreshFlow(into batch: inout OperationBatch, now: UInt64, room: Int) {
        let emitted: Bool
        switch self.random.pick(self.flowCumulative) {
        case 0: emitted = self.appendImmediateCapture(into: &batch, now: now, crypto: false)
        case 1: emitted = self.appendImmediateCapture(into: &batch, now: now, crypto: true)
        case 2: emitted = self.appendAuthorisation(into: &batch, now: now)
        case 3: emitted = self.appendSettlement(into: &batch, now: now)
        case 4: emitted = self.appendPayout(into: &batch, now: now)
        case 5: emitted = self.appendRefund(into: &batch, now: now)
        case 6: emitted = self.appendChargeback(into: &batch, now: now, room: room)
        case 7: emitted = self.appendReserveHold(into: &batch, now: now)
        case 8: emitted = self.appendSuspenseDeposit(into: &batch, now: now)
        case 9: emitted = self.appendReversal(into: &batch, now: now)
        case 10: emitted = self.appendAdjustment(into: &batch, now: now)
        default: preconditionFailure("flow mix has 11 entries")
        }
        if !emitted {
            self.statistics.fallbacks += 1
            let captured = self.appendImmediateCapture(into: &batch, now: now, crypto: false)
            precondition(captured, "a card capture can always be sent")
        }
    }

    // MARK: - Captures

    /// Card capture or crypto capture with fee: debit PSP receivable, credit merchant payable and
    /// fee revenue (three legs).
    mutating func appendImmediateCapture(into batch: inout OperationBatch, now: UInt64, crypto: Bool) -> Bool {
        let merchant = self.pickMerchant()
        guard let asset = crypto ? self.pickCryptoAsset() : self.pickCardAsset(merchant) else {
            return false
        }
        let psp = self.pickPSP(merchant)
        let gross = self.paymentAmount(asset)
        let fee = self.fee(gross, asset)
        let receivable = self.layout.pspReceivable(psp, asset)
        let payable = self.layout.merchantPayable(merchant, asset)
        let payment = self.nextPayment()
        self.writeCardReferences(payment: payment, psp: psp, kind: "ch_")

        self.legs.removeAll(keepingCapacity: true)
        self.rates.removeAll(keepingCapacity: true)
        self.legs.append(.debit(receivable.id, gross))
        self.legs.append(.credit(payable.id, gross - fee))
        if fee > 0 {
            self.legs.append(.credit(self.layout.house(.feeRevenue, asset).id, fee))
        }
        var step = Step(flow: crypto ? .cryptoCapture : .cardCapture)
        step.gain0 = Effect(slot: payable.slot, amount: gross - fee)
        step.gain1 = Effect(slot: receivable.slot, amount: gross)
        step.recordsCapture = true
        step.capture = CaptureRecord(
            transaction: 0,
            time: self.batchTime,
            payment: payment,
            gross: gross,
            net: gross - fee,
            merchant: Int32(merchant),
            psp: Int16(psp),
            asset: Int16(asset),
            isConsumed: false
        )
        self.emitPost(self.header(.capture, now), step, into: &batch)
        return true
    }

    // MARK: - Authorisations

    /// A card authorisation: a hold from the PSP receivable to the merchant payable with a timeout,
    /// and a plan for what follows (see ``AuthorisationMix``).
    mutating func appendAuthorisation(into batch: inout OperationBatch, now: UInt64) -> Bool {
        let merchant = self.pickMerchant()
        guard let asset = self.pickCardAsset(merchant) else { return false }
        let psp = self.pickPSP(merchant)
        let amount = self.paymentAmount(asset)
        let timeout = self.random.seconds(self.configuration.holdTimeoutSeconds)
        let deadline = self.batchTime + timeout * Timestamp.nanosecondsPerSecond
        let payment = self.nextPayment()
        self.writeCardReferences(payment: payment, psp: psp, kind: "ch_")

        var followUp = FollowUp(
            due: 0,
            deadline: deadline,
            transaction: 0,
            amount: amount,
            payment: payment,
            merchant: Int32(merchant),
            partner: Int16(psp),
            asset: Int16(asset),
            stage: .capture,
            capturesLeft: 1,
            voidsAtEnd: false
        )
        var step = Step(flow: .authorisationHold)
        step.queue = .authorisations
        step.takesTransactionID = true
        switch self.random.pick(self.authorisationCumulative) {
        case 0:
            break
        case 1:
            followUp.capturesLeft = UInt8(2 + self.random.below(2))
            followUp.voidsAtEnd = self.random.chance(0.25)
        case 2:
            followUp.stage = .increase
        case 3:
            followUp.stage = .void
        case 4:
            // Left to expire; now and then the merchant still tries to capture it too late.
            if self.random.chance(self.configuration.lateCaptureRate) {
                followUp.stage = .lateCapture
                followUp.due = deadline + self.random.uniform(60...86_400) * Timestamp.nanosecondsPerSecond
            } else {
                step.queue = .none
            }
        default:
            preconditionFailure("authorisation mix has 5 entries")
        }
        if followUp.stage != .lateCapture {
            followUp.due = self.dueBefore(deadline)
        }
        step.followUp = followUp

        let terms = HoldTerms(
            debit: self.layout.pspReceivable(psp, asset).id,
            credit: self.layout.merchantPayable(merchant, asset).id,
            amount: amount,
            timeoutSeconds: UInt32(timeout)
        )
        batch.appendHold(
            self.header(.capture, now),
            terms,
            paymentID: self.paymentID,
            providerReference: self.providerReference
        )
        self.steps.append(step)
        self.maybeRetry(batch)
        return true
    }

    // MARK: - Settlements

    /// A PSP paying 40-90% of what it owes in one asset (PSPs settle per currency, so every asset
    /// is as likely): into a bank account of the same asset (less, half the time, the
    /// PSP's own fee), or converted into the settlement currency in one post with an exact rate:
    /// debit bank cash and credit the FX position in the settlement currency, debit the FX
    /// position and credit the PSP receivable in the original one.
    mutating func appendSettlement(into batch: inout OperationBatch, now: UInt64) -> Bool {
        var psp = 0
        var asset = 0
        var owed: UInt128 = 0
        var found = false
        for _ in 0..<4 {
            psp = self.random.index(self.configuration.psps)
            asset = self.random.index(self.configuration.assets.count)
            owed = self.headroom[self.layout.pspReceivable(psp, asset).slot]
            if owed >= 50 * self.configuration.assets[asset].paymentMinimum {
                found = true
                break
            }
        }
        guard found else { return false }
        let gross = self.random.percent(of: owed, 40...90)
        let bank = psp % self.configuration.banks
        let receivable = self.layout.pspReceivable(psp, asset)
        let payment = self.nextPayment()
        PaymentWorkload.writeReference(&self.paymentID, "stl_", payment, digits: 12)
        PaymentWorkload.writeReference(
            &self.providerReference,
            "psp",
            partner: psp + 1,
            infix: "po_",
            PaymentWorkload.mix(payment ^ self.keySalt),
            digits: 16
        )
        self.legs.removeAll(keepingCapacity: true)
        self.rates.removeAll(keepingCapacity: true)

        let quote = self.configuration.settlementAssetIndex
        if quote != asset && self.random.chance(self.configuration.mix.fxSettlementRate) {
            let rate = self.fxRate(base: asset, quote: quote)
            let converted = PaymentWorkload.convert(gross, rate)
            if converted > 0 {
                let cash = self.layout.bankCash(bank, quote)
                self.legs.append(.debit(cash.id, converted))
                self.legs.append(.credit(self.layout.house(.fxPosition, quote).id, converted))
                self.legs.append(.debit(self.layout.house(.fxPosition, asset).id, gross))
                self.legs.append(.credit(receivable.id, gross))
                self.rates.append(rate)
                var step = Step(flow: .fxSettlement)
                step.spend0 = self.spend(receivable.slot, gross)
                step.gain0 = Effect(slot: cash.slot, amount: converted)
                self.emitPost(self.header(.settlement, now), step, into: &batch)
                return true
            }
        }
        let cash = self.layout.bankCash(bank, asset)
        var pspFee = self.random.chance(0.5) ? gross * 20 / 10_000 : 0
        if pspFee >= gross {
            pspFee = 0
        }
        self.legs.append(.debit(cash.id, gross - pspFee))
        if pspFee > 0 {
            self.legs.append(.debit(self.layout.house(.feeRevenue, asset).id, pspFee))
        }
        self.legs.append(.credit(receivable.id, gross))
        var step = Step(flow: .settlement)
        step.spend0 = self.spend(receivable.slot, gross)
        step.gain0 = Effect(slot: cash.slot, amount: gross - pspFee)
        self.emitPost(self.header(.settlement, now), step, into: &batch)
        return true
    }

    // MARK: - Payouts

    /// Paying a merchant out: debit merchant payable, credit bank cash, for at most what both the
    /// merchant and the bank account have available.
    mutating func appendPayout(into batch: inout OperationBatch, now: UInt64) -> Bool {
        for _ in 0..<3 {
            let merchant = self.pickMerchant()
            let assetCount = self.configuration.assets.count
            let firstAsset = self.random.chance(0.7) ? self.homeAsset(merchant) : self.random.index(assetCount)
            for assetOffset in 0..<assetCount {
                let asset = (firstAsset + assetOffset) % assetCount
                let minimum = 10 * self.configuration.assets[asset].paymentMinimum
                let payable = self.layout.merchantPayable(merchant, asset)
                let available = self.headroom[payable.slot]
                guard available >= minimum else { continue }
                let banks = self.configuration.banks
                for bankOffset in 0..<banks {
                    let bank = (merchant + bankOffset) % banks
                    let cash = self.layout.bankCash(bank, asset)
                    guard self.headroom[cash.slot] >= minimum else { continue }
                    let amount = min(self.random.percent(of: available, 50...100), self.headroom[cash.slot])
                    guard amount >= minimum else { continue }
                    let payment = self.nextPayment()
                    PaymentWorkload.writeReference(&self.paymentID, "po_", payment, digits: 12)
                    PaymentWorkload.writeReference(
                        &self.providerReference,
                        "bank",
                        partner: bank + 1,
                        infix: "tr_",
                        PaymentWorkload.mix(payment ^ self.keySalt),
                        digits: 16
                    )
                    self.legs.removeAll(keepingCapacity: true)
                    self.rates.removeAll(keepingCapacity: true)
                    self.legs.append(.debit(payable.id, amount))
                    self.legs.append(.credit(cash.id, amount))
                    var step = Step(flow: .payout)
                    step.spend0 = self.spend(payable.slot, amount)
                    step.spend1 = self.spend(cash.slot, amount)
                    self.emitPost(self.header(.payout, now), step, into: &batch)
                    return true
                }
            }
        }
        return false
    }

    // MARK: - Refunds and chargebacks

    /// A refund of a recent capture, in full or in part: debit merchant payable and credit the PSP
    /// receivable, or credit the refund liability and settle it with the PSP later.
    mutating func appendRefund(into batch: inout OperationBatch, now: UInt64) -> Bool {
        guard let index = self.pickRecentCapture(where: { _ in true }) else { return false }
        let capture = self.recentCaptures[index]
        let merchant = Int(capture.merchant)
        let asset = Int(capture.asset)
        let psp = Int(capture.psp)
        var amount = self.random.chance(0.7) ? capture.gross : self.random.percent(of: capture.gross, 10...90)
        amount = max(amount, 1)
        let payable = self.layout.merchantPayable(merchant, asset)
        guard self.headroom[payable.slot] >= amount else { return false }
        self.recentCaptures[index].isConsumed = true
        self.writeCardReferences(payment: capture.payment, psp: psp, kind: "re_")
        self.legs.removeAll(keepingCapacity: true)
        self.rates.removeAll(keepingCapacity: true)
        var step = Step(flow: .refund)
        step.spend0 = self.spend(payable.slot, amount)
        self.legs.append(.debit(payable.id, amount))
        if self.random.chance(0.35) {
            let liability = self.layout.house(.refundLiability, asset)
            self.legs.append(.credit(liability.id, amount))
            step.gain0 = Effect(slot: liability.slot, amount: amount)
            step.queue = .refundSettlements
            step.followUp = FollowUp(
                due: self.batchTime
                    + self.random.seconds(self.configuration.refundSettlementDelaySeconds)
                    * Timestamp.nanosecondsPerSecond,
                deadline: 0,
                transaction: 0,
                amount: amount,
                payment: capture.payment,
                merchant: capture.merchant,
                partner: capture.psp,
                asset: capture.asset,
                stage: .refundSettlement,
                capturesLeft: 0,
                voidsAtEnd: false
            )
        } else {
            let receivable = self.layout.pspReceivable(psp, asset)
            self.legs.append(.credit(receivable.id, amount))
            step.spend1 = self.spend(receivable.slot, amount)
        }
        self.emitPost(self.header(.refund, now), step, into: &batch)
        return true
    }

    /// A chargeback on a recent card capture: the merchant bears it (debit merchant payable for
    /// the amount and the chargeback fee), or the platform's chargeback reserve does, topped up
    /// from fee revenue in the same atomic chain when it runs short. Credit the PSP receivable.
    mutating func appendChargeback(into batch: inout OperationBatch, now: UInt64, room: Int) -> Bool {
        let assets = self.configuration.assets
        guard
            let index = self.pickRecentCapture(where: { !assets[Int($0.asset)].isCrypto })
        else { return false }
        let capture = self.recentCaptures[index]
        let merchant = Int(capture.merchant)
        let asset = Int(capture.asset)
        let psp = Int(capture.psp)
        let amount = capture.gross
        let chargebackFee = assets[asset].chargebackFee
        let payable = self.layout.merchantPayable(merchant, asset)
        let receivable = self.layout.pspReceivable(psp, asset)
        let reserve = self.layout.house(.chargebackReserve, asset)
        let revenue = self.layout.house(.feeRevenue, asset)
        let merchantPays = self.random.chance(0.8) && self.headroom[payable.slot] >= amount + chargebackFee
        let reserveCovers = self.headroom[reserve.slot] >= amount
        guard merchantPays || reserveCovers || room >= 2 else { return false }
        self.recentCaptures[index].isConsumed = true
        self.writeCardReferences(payment: capture.payment, psp: psp, kind: "cb_")
        self.rates.removeAll(keepingCapacity: true)

        if merchantPays {
            self.legs.removeAll(keepingCapacity: true)
            self.legs.append(.debit(payable.id, amount + chargebackFee))
            self.legs.append(.credit(receivable.id, amount))
            if chargebackFee > 0 {
                self.legs.append(.credit(revenue.id, chargebackFee))
            }
            var step = Step(flow: .chargeback)
            step.spend0 = self.spend(payable.slot, amount + chargebackFee)
            step.spend1 = self.spend(receivable.slot, amount)
            self.emitPost(self.header(.chargeback, now), step, into: &batch)
            return true
        }

        var chargebackStep = Step(flow: .chargeback)
        if !reserveCovers {
            // Top the reserve up first, in the same chain: if the chargeback fails, so does the
            // top-up, and the other way round. Its income is counted net of the chargeback.
            let topUp = max(amount * UInt128(2 + self.random.below(4)), assets[asset].major(1_000))
            self.legs.removeAll(keepingCapacity: true)
            self.legs.append(.debit(revenue.id, topUp))
            self.legs.append(.credit(reserve.id, topUp))
            var step = Step(flow: .chargebackReserveTopUp)
            step.gain0 = Effect(slot: reserve.slot, amount: topUp - amount)
            self.emitPost(self.header(.chargeback, now), step, into: &batch, linked: true)
        } else {
            chargebackStep.spend0 = self.spend(reserve.slot, amount)
        }
        self.legs.removeAll(keepingCapacity: true)
        self.legs.append(.debit(reserve.id, amount))
        self.legs.append(.credit(receivable.id, amount))
        chargebackStep.spend1 = self.spend(receivable.slot, amount)
        self.emitPost(self.header(.chargeback, now), chargebackStep, into: &batch, retry: reserveCovers)
        return true
    }

    // MARK: - Rolling reserves

    /// A rolling reserve: part of a merchant's available balance held from the merchant payable to
    /// the rolling reserve, to be released (voided) or retained (captured) after the reserve
    /// period.
    mutating func appendReserveHold(into batch: inout OperationBatch, now: UInt64) -> Bool {
        let merchant = self.pickMerchant()
        let asset = self.homeAsset(merchant)
        let payable = self.layout.merchantPayable(merchant, asset)
        let available = self.headroom[payable.slot]
        guard available >= 20 * self.configuration.assets[asset].paymentMinimum else { return false }
        let amount = self.random.percent(of: available, 5...15)
        let period = self.random.seconds(self.configuration.reservePeriodSeconds)
        // The deadline leaves room for the release to run late behind other follow-ups; a
        // reserve whose follow-up was dropped is released by its expiry.
        let timeout = 2 * UInt64(self.configuration.reservePeriodSeconds.upperBound)
        let payment = self.nextPayment()
        PaymentWorkload.writeReference(&self.paymentID, "rsv_", payment, digits: 12)
        self.providerReference.removeAll(keepingCapacity: true)

        var step = Step(flow: .reserveHold)
        step.spend0 = self.spend(payable.slot, amount)
        step.queue = .reserves
        step.takesTransactionID = true
        step.followUp = FollowUp(
            due: self.batchTime + period * Timestamp.nanosecondsPerSecond,
            deadline: self.batchTime + timeout * Timestamp.nanosecondsPerSecond,
            transaction: 0,
            amount: amount,
            payment: payment,
            merchant: Int32(merchant),
            partner: 0,
            asset: Int16(asset),
            stage: self.random.chance(0.85) ? .reserveRelease : .reserveRetain,
            capturesLeft: 0,
            voidsAtEnd: false
        )
        let terms = HoldTerms(
            debit: payable.id,
            credit: self.layout.rollingReserve(merchant, asset).id,
            amount: amount,
            timeoutSeconds: UInt32(timeout)
        )
        batch.appendHold(
            self.header(.reserveHold, now),
            terms,
            paymentID: self.paymentID,
            providerReference: self.providerReference
        )
        self.steps.append(step)
        self.maybeRetry(batch)
        return true
    }

    // MARK: - Exceptions and corrections

    /// Money arriving in the wrong currency for its merchant (a GBP transfer for a USD merchant):
    /// debit bank cash and credit suspense in that currency, an exception to be resolved later.
    mutating func appendSuspenseDeposit(into batch: inout OperationBatch, now: UInt64) -> Bool {
        let assetCount = self.configuration.assets.count
        guard assetCount >= 2 else { return false }
        let merchant = self.pickMerchant()
        let home = self.homeAsset(merchant)
        var wrong = home
        if self.fiatAssets.count >= 2 {
            while wrong == home {
                wrong = self.fiatAssets[self.random.pick(self.fiatCumulative)]
            }
        } else {
            wrong = (home + 1 + self.random.index(assetCount - 1)) % assetCount
        }
        let bank = merchant % self.configuration.banks
        let cash = self.layout.bankCash(bank, wrong)
        let amount = self.paymentAmount(wrong)
        let payment = self.nextPayment()
        PaymentWorkload.writeReference(&self.paymentID, "dep_", payment, digits: 12)
        PaymentWorkload.writeReference(
            &self.providerReference,
            "bank",
            partner: bank + 1,
            infix: "in_",
            PaymentWorkload.mix(payment ^ self.keySalt),
            digits: 16
        )
        self.legs.removeAll(keepingCapacity: true)
        self.rates.removeAll(keepingCapacity: true)
        self.legs.append(.debit(cash.id, amount))
        self.legs.append(.credit(self.layout.house(.suspense, wrong).id, amount))
        var step = Step(flow: .suspenseDeposit)
        step.gain0 = Effect(slot: cash.slot, amount: amount)
        if self.random.chance(self.configuration.suspenseResolutionRate) {
            step.queue = .resolutions
            step.followUp = FollowUp(
                due: self.batchTime
                    + self.random.seconds(self.configuration.resolutionDelaySeconds) * Timestamp.nanosecondsPerSecond,
                deadline: 0,
                transaction: 0,
                amount: amount,
                payment: payment,
                merchant: Int32(merchant),
                partner: Int16(bank),
                asset: Int16(wrong),
                stage: .suspenseResolution,
                capturesLeft: 0,
                voidsAtEnd: false
            )
        }
        self.emitPost(self.header(.exception, now), step, into: &batch)
        return true
    }

    /// The reversal of a recent capture (younger than the reversal window, so still retained):
    /// the mirror image of the original, debiting the merchant what it was credited.
    mutating func appendReversal(into batch: inout OperationBatch, now: UInt64) -> Bool {
        let window = UInt64(self.configuration.reversalWindowSeconds) * Timestamp.nanosecondsPerSecond
        let oldest = self.batchTime > window ? self.batchTime - window : 0
        guard let index = self.pickRecentCapture(where: { $0.time >= oldest }) else { return false }
        let capture = self.recentCaptures[index]
        let asset = Int(capture.asset)
        let psp = Int(capture.psp)
        let payable = self.layout.merchantPayable(Int(capture.merchant), asset)
        guard self.headroom[payable.slot] >= capture.net else { return false }
        self.recentCaptures[index].isConsumed = true
        self.writeCardReferences(payment: capture.payment, psp: psp, kind: "rv_")
        var step = Step(flow: .reversal)
        step.spend0 = self.spend(payable.slot, capture.net)
        step.spend1 = self.spend(self.layout.pspReceivable(psp, asset).slot, capture.gross)
        let header = self.header(.capture, now)
        batch.append(.reverse(header, transaction: capture.transaction, references: self.references))
        self.steps.append(step)
        self.maybeRetry(batch)
        return true
    }

    /// A manual adjustment by an operator, with a reason code: a goodwill credit or fee correction
    /// to a merchant (debit fee revenue, credit merchant payable), or an FX rounding correction
    /// (debit the FX position, credit fee revenue).
    mutating func appendAdjustment(into batch: inout OperationBatch, now: UInt64) -> Bool {
        let merchant = self.pickMerchant()
        let asset = self.homeAsset(merchant)
        let amount = self.configuration.assets[asset].paymentMinimum * UInt128(self.random.uniform(1...50))
        let actor = PaymentWorkload.operatorBase + self.random.uniform(1...25)
        let payment = self.nextPayment()
        PaymentWorkload.writeReference(&self.paymentID, "adj_", payment, digits: 12)
        PaymentWorkload.writeReference(&self.providerReference, "case_", PaymentWorkload.mix(payment), digits: 10)
        self.legs.removeAll(keepingCapacity: true)
        self.rates.removeAll(keepingCapacity: true)
        var step = Step(flow: .adjustment)
        let reason: UInt32
        if self.random.chance(0.7) {
            let payable = self.layout.merchantPayable(merchant, asset)
            self.legs.append(.debit(self.layout.house(.feeRevenue, asset).id, amount))
            self.legs.append(.credit(payable.id, amount))
            step.gain0 = Effect(slot: payable.slot, amount: amount)
            reason = UInt32(1 + self.random.below(3))  // goodwill, fee correction, pricing error
        } else {
            self.legs.append(.debit(self.layout.house(.fxPosition, asset).id, amount))
            self.legs.append(.credit(self.layout.house(.feeRevenue, asset).id, amount))
            reason = 4  // FX rounding
        }
        self.emitPost(self.header(.adjustment, now, actor: actor, reason: reason), step, into: &batch)
        return true
    }

    /// Operator ids (actors of adjustments and suspense resolutions) start above this.
    static let operatorBase: UInt64 = 7_000_000
}
