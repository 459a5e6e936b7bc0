import TallyCore

// Follow-ups: the later steps of flows, taken from their queues (min-heaps by due time) once due.
// When many are due at once they take the batch's slots in order, so a step may run a little
// after its due time; a hold step that would run at or after the hold's deadline is given up (the
// engine expires the hold instead) rather than sent to be rejected.

extension PaymentWorkload {
    /// Appends the first due follow-up, if any; returns false when none is due.
    mutating func appendDueFollowUp(into batch: inout OperationBatch, now: UInt64, room: Int) -> Bool {
        while let head = self.authorisations.first, head.due <= now {
            let item = self.authorisations.popFirst()!
            if self.appendAuthorisationStep(item, into: &batch, now: now, room: room) {
                return true
            }
        }
        while let head = self.reserves.first, head.due <= now {
            let item = self.reserves.popFirst()!
            if self.appendReserveStep(item, into: &batch, now: now) {
                return true
            }
        }
        while let head = self.refundSettlements.first, head.due <= now {
            let item = self.refundSettlements.popFirst()!
            if self.appendRefundSettlement(item, into: &batch, now: now) {
                return true
            }
        }
        while let head = self.resolutions.first, head.due <= now {
            let item = self.resolutions.popFirst()!
            if self.appendResolution(item, into: &batch, now: now) {
                return true
            }
        }
        return false
    }

    // MARK: - Authorisations

    /// The next step of a card authorisation: an increase, a partial or finishing capture (with
    /// its fee linked to it), a void, or a capture after the deadline.
    private mutating func appendAuthorisationStep(
        _ item: FollowUp,
        into batch: inout OperationBatch,
        now: UInt64,
        room: Int
    ) -> Bool {
        if item.stage != .lateCapture && item.deadline <= self.batchTime {
            self.statistics.followUpsAbandoned += 1
            return false
        }
        self.writeCardReferences(payment: item.payment, psp: Int(item.partner), kind: "ch_")
        switch item.stage {
        case .increase:
            let extra = max(1, self.random.percent(of: item.amount, 5...40))
            var step = Step(flow: .authorisationIncrease)
            var next = item
            next.amount += extra
            next.stage = .capture
            next.due = self.dueBefore(item.deadline)
            step.queue = .authorisations
            step.followUp = next
            let header = self.header(.capture, now)
            batch.append(
                .increaseHold(header, IncreaseTerms(hold: item.transaction, amount: extra), references: self.references)
            )
            self.steps.append(step)
            self.maybeRetry(batch)
        case .void:
            self.appendAuthorisationVoid(item, into: &batch, now: now)
        case .capture:
            if item.capturesLeft <= 1 && item.voidsAtEnd {
                self.appendAuthorisationVoid(item, into: &batch, now: now)
            } else if item.capturesLeft > 1 && item.amount >= 2 {
                var part = self.random.percent(of: item.amount, 20...60)
                if part == 0 || part >= item.amount {
                    part = item.amount / 2
                }
                var next = item
                next.amount -= part
                next.capturesLeft -= 1
                next.due = self.dueBefore(item.deadline)
                self.appendHoldCapture(
                    item,
                    amount: part,
                    isFinal: false,
                    flow: .authorisationPartialCapture,
                    next: next,
                    into: &batch,
                    now: now,
                    room: room
                )
            } else if self.random.chance(0.5) {
                // Capturing exactly what remains finishes the hold.
                self.appendHoldCapture(
                    item,
                    amount: item.amount,
                    isFinal: false,
                    flow: .authorisationCapture,
                    next: nil,
                    into: &batch,
                    now: now,
                    room: room
                )
            } else {
                // Marked final: the rest of the hold is released.
                self.appendHoldCapture(
                    item,
                    amount: max(1, self.random.percent(of: item.amount, 60...100)),
                    isFinal: true,
                    flow: .authorisationCapture,
                    next: nil,
                    into: &batch,
                    now: now,
                    room: room
                )
            }
        case .lateCapture:
            self.appendHoldCapture(
                item,
                amount: item.amount,
                isFinal: false,
                flow: .lateCapture,
                next: nil,
                into: &batch,
                now: now,
                room: 1
            )
        case .reserveRelease, .reserveRetain, .reservePayback, .refundSettlement, .suspenseResolution:
            preconditionFailure("not an authorisation step: \(item.stage)")
        }
        return true
    }

    private mutating func appendAuthorisationVoid(_ item: FollowUp, into batch: inout OperationBatch, now: UInt64) {
        let header = self.header(.capture, now)
        batch.append(.voidHold(header, hold: item.transaction, references: self.references))
        self.steps.append(Step(flow: .authorisationVoid))
        self.maybeRetry(batch)
    }

    /// A capture of an authorisation, followed when there is room by its processing fee (debit
    /// merchant payable, credit fee revenue) in the same atomic chain.
    private mutating func appendHoldCapture(
        _ item: FollowUp,
        amount: UInt128,
        isFinal: Bool,
        flow: PaymentFlow,
        next: FollowUp?,
        into batch: inout OperationBatch,
        now: UInt64,
        room: Int
    ) {
        let merchant = Int(item.merchant)
        let asset = Int(item.asset)
        let psp = Int(item.partner)
        let payable = self.layout.merchantPayable(merchant, asset)
        let receivable = self.layout.pspReceivable(psp, asset)
        let fee = room >= 2 ? self.fee(amount, asset) : 0

        var step = Step(flow: flow)
        // In a chain both members succeed or neither does, so the capture's step can carry the
        // fee's effect too.
        step.gain0 = Effect(slot: payable.slot, amount: amount - fee)
        step.gain1 = Effect(slot: receivable.slot, amount: amount)
        step.recordsCapture = true
        step.capture = CaptureRecord(
            transaction: 0,
            time: self.batchTime,
            payment: item.payment,
            gross: amount,
            net: amount,
            merchant: item.merchant,
            psp: item.partner,
            asset: item.asset,
            isConsumed: false
        )
        if let next {
            step.queue = .authorisations
            step.followUp = next
        }
        batch.appendCapture(
            self.header(.capture, now),
            CaptureTerms(hold: item.transaction, amount: amount, isFinal: isFinal),
            paymentID: self.paymentID,
            providerReference: self.providerReference,
            linked: fee > 0
        )
        self.steps.append(step)
        guard fee > 0 else {
            self.maybeRetry(batch)
            return
        }
        self.legs.removeAll(keepingCapacity: true)
        self.rates.removeAll(keepingCapacity: true)
        self.legs.append(.debit(payable.id, fee))
        self.legs.append(.credit(self.layout.house(.feeRevenue, asset).id, fee))
        self.emitPost(self.header(.fee, now), Step(flow: .authorisationFee), into: &batch, retry: false)
    }

    // MARK: - Rolling reserves

    /// The end of a rolling reserve: released back to the merchant (void), or retained (captured
    /// into the rolling reserve, marked final) and paid back after a further delay.
    private mutating func appendReserveStep(_ item: FollowUp, into batch: inout OperationBatch, now: UInt64) -> Bool {
        if item.deadline <= self.batchTime {
            self.statistics.followUpsAbandoned += 1
            return false
        }
        let merchant = Int(item.merchant)
        let asset = Int(item.asset)
        let payable = self.layout.merchantPayable(merchant, asset)
        PaymentWorkload.writeReference(&self.paymentID, "rsv_", item.payment, digits: 12)
        self.providerReference.removeAll(keepingCapacity: true)
        switch item.stage {
        case .reserveRelease:
            var step = Step(flow: .reserveRelease)
            step.gain0 = Effect(slot: payable.slot, amount: item.amount)
            let header = self.header(.reserveRelease, now)
            batch.append(.voidHold(header, hold: item.transaction, references: self.references))
            self.steps.append(step)
        case .reserveRetain:
            let retained = self.random.chance(0.5) ? item.amount : max(1, self.random.percent(of: item.amount, 30...90))
            let rolling = self.layout.rollingReserve(merchant, asset)
            var step = Step(flow: .reserveRetention)
            step.gain0 = Effect(slot: payable.slot, amount: item.amount - retained)
            step.gain1 = Effect(slot: rolling.slot, amount: retained)
            var next = item
            next.amount = retained
            next.stage = .reservePayback
            next.due =
                self.batchTime
                + self.random.seconds(self.configuration.resolutionDelaySeconds) * Timestamp.nanosecondsPerSecond
            step.queue = .resolutions
            step.followUp = next
            batch.appendCapture(
                self.header(.reserveHold, now),
                CaptureTerms(hold: item.transaction, amount: retained, isFinal: true),
                paymentID: self.paymentID,
                providerReference: self.providerReference
            )
            self.steps.append(step)
        case .increase, .capture, .void, .lateCapture, .reservePayback, .refundSettlement, .suspenseResolution:
            preconditionFailure("not a reserve step: \(item.stage)")
        }
        self.maybeRetry(batch)
        return true
    }

    // MARK: - Refund settlements

    /// A refund booked to the refund liability, settled with the PSP: debit refund liability,
    /// credit PSP receivable.
    private mutating func appendRefundSettlement(
        _ item: FollowUp,
        into batch: inout OperationBatch,
        now: UInt64
    ) -> Bool {
        let asset = Int(item.asset)
        let psp = Int(item.partner)
        let liability = self.layout.house(.refundLiability, asset)
        guard self.headroom[liability.slot] >= item.amount else {
            self.statistics.followUpsAbandoned += 1
            return false
        }
        let receivable = self.layout.pspReceivable(psp, asset)
        self.writeCardReferences(payment: item.payment, psp: psp, kind: "re_")
        self.legs.removeAll(keepingCapacity: true)
        self.rates.removeAll(keepingCapacity: true)
        self.legs.append(.debit(liability.id, item.amount))
        self.legs.append(.credit(receivable.id, item.amount))
        var step = Step(flow: .refundSettlement)
        step.spend0 = self.spend(liability.slot, item.amount)
        step.spend1 = self.spend(receivable.slot, item.amount)
        self.emitPost(self.header(.refund, now), step, into: &batch)
        return true
    }

    // MARK: - Resolutions

    /// Paying a retained reserve back (debit rolling reserve, credit merchant payable), or
    /// resolving a suspense item: credited to the merchant in its currency, or returned to the
    /// sender through the bank; both by an operator with a reason code.
    private mutating func appendResolution(_ item: FollowUp, into batch: inout OperationBatch, now: UInt64) -> Bool {
        let merchant = Int(item.merchant)
        let asset = Int(item.asset)
        let payable = self.layout.merchantPayable(merchant, asset)
        self.legs.removeAll(keepingCapacity: true)
        self.rates.removeAll(keepingCapacity: true)
        switch item.stage {
        case .reservePayback:
            let rolling = self.layout.rollingReserve(merchant, asset)
            guard self.headroom[rolling.slot] >= item.amount else {
                self.statistics.followUpsAbandoned += 1
                return false
            }
            PaymentWorkload.writeReference(&self.paymentID, "rsv_", item.payment, digits: 12)
            self.providerReference.removeAll(keepingCapacity: true)
            self.legs.append(.debit(rolling.id, item.amount))
            self.legs.append(.credit(payable.id, item.amount))
            var step = Step(flow: .reservePayback)
            step.spend0 = self.spend(rolling.slot, item.amount)
            step.gain0 = Effect(slot: payable.slot, amount: item.amount)
            self.emitPost(self.header(.reserveRelease, now), step, into: &batch)
        case .suspenseResolution:
            let bank = Int(item.partner)
            let cash = self.layout.bankCash(bank, asset)
            let suspense = self.layout.house(.suspense, asset)
            PaymentWorkload.writeReference(&self.paymentID, "dep_", item.payment, digits: 12)
            PaymentWorkload.writeReference(
                &self.providerReference,
                "bank",
                partner: bank + 1,
                infix: "in_",
                PaymentWorkload.mix(item.payment ^ self.keySalt),
                digits: 16
            )
            var step = Step(flow: .suspenseResolution)
            let reason: UInt32
            self.legs.append(.debit(suspense.id, item.amount))
            if self.random.chance(0.4) && self.headroom[cash.slot] >= item.amount {
                self.legs.append(.credit(cash.id, item.amount))
                step.spend0 = self.spend(cash.slot, item.amount)
                reason = 12  // returned to sender
            } else {
                self.legs.append(.credit(payable.id, item.amount))
                step.gain0 = Effect(slot: payable.slot, amount: item.amount)
                reason = 11  // credited to the merchant's account in that currency
            }
            let actor = PaymentWorkload.operatorBase + self.random.uniform(1...25)
            self.emitPost(self.header(.exception, now, actor: actor, reason: reason), step, into: &batch)
        case .increase, .capture, .void, .lateCapture, .reserveRelease, .reserveRetain, .refundSettlement:
            preconditionFailure("not a resolution: \(item.stage)")
        }
        return true
    }

    // MARK: - Shared pieces

    /// A header with the next idempotency key: a sequence number in the low half (so keys never
    /// repeat) and a scramble of it in the high half (so they look like the random keys clients
    /// send, and spread over the index like them).
    @inline(__always)
    mutating func header(
        _ type: TransactionType,
        _ now: UInt64,
        actor: UInt64 = 0,
        reason: UInt32 = 0
    ) -> TransactionHeader {
        self.keySequence += 1
        let high = PaymentWorkload.mix(self.keySequence ^ self.keySalt)
        return TransactionHeader(
            key: IdempotencyKey(UInt128(high) << 64 | UInt128(self.keySequence)),
            type: type,
            effectiveTime: Timestamp(nanosecondsSinceEpoch: now),
            actor: actor,
            reason: reason
        )
    }

    /// Appends a post of the scratch legs, rates and references, and its step.
    @inline(__always)
    mutating func emitPost(
        _ header: TransactionHeader,
        _ step: Step,
        into batch: inout OperationBatch,
        linked: Bool = false,
        retry: Bool = true
    ) {
        batch.appendPost(
            header,
            legs: self.legs,
            fxRates: self.rates,
            paymentID: self.paymentID,
            providerReference: self.providerReference,
            linked: linked
        )
        self.steps.append(step)
        if retry && !linked {
            self.maybeRetry(batch)
        }
    }

    /// Now and then, keeps the operation just appended to send it again in the next batch, as a
    /// client does when a reply is lost. Only operations outside chains are retried.
    @inline(__always)
    mutating func maybeRetry(_ batch: OperationBatch) {
        if self.random.chance(self.configuration.duplicateRetryRate) {
            self.retries.push(batch.operation(at: batch.count - 1))
        }
    }

    /// The scratch references as values for the operations without flat appenders. They share
    /// the scratch buffers' storage, so building them does not allocate.
    var references: ExternalReferences {
        ExternalReferences(
            paymentID: ExternalReference(bytes: self.paymentID),
            providerReference: ExternalReference(bytes: self.providerReference)
        )
    }

    /// `pay_<payment>` and `psp<n>_<kind><token>`, the PSP's reference for the payment.
    mutating func writeCardReferences(payment: UInt64, psp: Int, kind: StaticString) {
        PaymentWorkload.writeReference(&self.paymentID, "pay_", payment, digits: 12)
        PaymentWorkload.writeReference(
            &self.providerReference,
            "psp",
            partner: psp + 1,
            infix: kind,
            PaymentWorkload.mix(payment ^ self.keySalt),
            digits: 16
        )
    }

    mutating func nextPayment() -> UInt64 {
        self.paymentSequence += 1
        return self.paymentSequence
    }

    /// A business time between now (the batch's time) and `deadline`, 5-45% of the way.
    mutating func dueBefore(_ deadline: UInt64) -> UInt64 {
        let left = deadline > self.batchTime ? deadline - self.batchTime : 0
        return self.batchTime + left / 100 * self.random.uniform(5...45)
    }

    // MARK: - Choices

    /// A merchant, Zipf-distributed: merchant 0 is the hottest.
    mutating func pickMerchant() -> Int {
        let draw = self.random.unitInterval() * self.merchantCumulative[self.merchantCumulative.count - 1]
        var low = 0
        var high = self.merchantCumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if self.merchantCumulative[middle] > draw {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }

    /// The merchant's home currency: a fiat asset (crypto when there is none), fixed per merchant
    /// and seed, spread by the assets' traffic weights.
    func homeAsset(_ merchant: Int) -> Int {
        let (assets, cumulative) =
            self.fiatAssets.isEmpty
            ? (self.cryptoAssets, self.cryptoCumulative) : (self.fiatAssets, self.fiatCumulative)
        let draw = PaymentWorkload.mix(UInt64(merchant) ^ self.keySalt) % cumulative[cumulative.count - 1]
        var index = 0
        while cumulative[index] <= draw {
            index += 1
        }
        return assets[index]
    }

    /// A card payment's currency: usually the merchant's own, now and then another (cross-border).
    mutating func pickCardAsset(_ merchant: Int) -> Int? {
        if self.fiatAssets.isEmpty {
            return self.pickCryptoAsset()
        }
        return self.random.chance(0.85)
            ? self.homeAsset(merchant) : self.fiatAssets[self.random.pick(self.fiatCumulative)]
    }

    mutating func pickCryptoAsset() -> Int? {
        self.cryptoAssets.isEmpty ? nil : self.cryptoAssets[self.random.pick(self.cryptoCumulative)]
    }

    /// The merchant's acquirer, or now and then another PSP.
    mutating func pickPSP(_ merchant: Int) -> Int {
        self.random.chance(0.85) ? merchant % self.configuration.psps : self.random.index(self.configuration.psps)
    }

    /// A recent capture not yet refunded, charged back or reversed that satisfies `isWanted`.
    mutating func pickRecentCapture(where isWanted: (CaptureRecord) -> Bool) -> Int? {
        guard !self.recentCaptures.isEmpty else { return nil }
        for _ in 0..<4 {
            let index = self.random.index(self.recentCaptures.count)
            let capture = self.recentCaptures[index]
            if !capture.isConsumed && capture.transaction.rawValue != 0 && isWanted(capture) {
                return index
            }
        }
        return nil
    }

    /// A payment amount in minor units of `asset`: log-uniform up to the typical maximum, with a
    /// long tail.
    mutating func paymentAmount(_ asset: Int) -> UInt128 {
        let profile = self.configuration.assets[asset]
        if self.random.chance(profile.tailRate) {
            return self.random.logUniform(profile.paymentTypicalMaximum, profile.paymentMaximum)
        }
        return self.random.logUniform(profile.paymentMinimum, profile.paymentTypicalMaximum)
    }

    /// The processing fee on `amount`: basis points plus a fixed part, never the whole amount.
    func fee(_ amount: UInt128, _ asset: Int) -> UInt128 {
        let profile = self.configuration.assets[asset]
        let (product, overflow) = amount.multipliedReportingOverflow(by: UInt128(profile.feeBasisPoints))
        let fee = (overflow ? amount / 10_000 * UInt128(profile.feeBasisPoints) : product / 10_000) + profile.feeFixed
        return fee < amount ? fee : amount / 10
    }

    // MARK: - FX

    /// The rate from `base` to `quote` in minor units, from the reference prices with a drift of up
    /// to ±0.3% (each settlement gets its own rate), as an exact fraction in lowest terms.
    mutating func fxRate(base: Int, quote: Int) -> FXRate {
        let baseAsset = self.configuration.assets[base]
        let quoteAsset = self.configuration.assets[quote]
        // One minor unit of base is 10^-baseScale units, worth price(base) / price(quote) units of
        // quote, that is price(base) / price(quote) * 10^(quoteScale - baseScale) minor units.
        var numerator = UInt128(baseAsset.priceMicroUSD) * UInt128(9_970 + self.random.below(61))
        var denominator = UInt128(quoteAsset.priceMicroUSD) * 10_000
        var shift = Int(quoteAsset.scale) - Int(baseAsset.scale)
        while shift > 0 {
            if numerator <= UInt128.max / 10 { numerator *= 10 } else { denominator = max(1, denominator / 10) }
            shift -= 1
        }
        while shift < 0 {
            if denominator <= UInt128.max / 10 { denominator *= 10 } else { numerator = max(1, numerator / 10) }
            shift += 1
        }
        let divisor = PaymentWorkload.gcd(numerator, denominator)
        numerator /= divisor
        denominator /= divisor
        // Keep both within 64 bits, giving up the least significant digits when needed.
        while numerator > UInt128(UInt64.max) || denominator > UInt128(UInt64.max) {
            numerator = max(1, numerator / 10)
            denominator = max(1, denominator / 10)
        }
        return FXRate(
            base: baseAsset.code,
            quote: quoteAsset.code,
            numerator: UInt64(numerator),
            denominator: UInt64(denominator)
        )
    }

    /// `amount` minor units of a rate's base in minor units of its quote, rounded down.
    static func convert(_ amount: UInt128, _ rate: FXRate) -> UInt128 {
        let (product, overflow) = amount.multipliedReportingOverflow(by: UInt128(rate.numerator))
        if !overflow {
            return product / UInt128(rate.denominator)
        }
        return amount / UInt128(rate.denominator) * UInt128(rate.numerator)
    }
}
