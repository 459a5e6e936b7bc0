extension OperationBatch {
    /// The content fingerprint of the operation at `index` (see ``BatchView/fingerprint(at:)``).
    func fingerprint(at index: Int) -> UInt64 {
        self.withView { $0.fingerprint(at: index) }
    }
}

extension BatchView {
    /// The content fingerprint of the operation at `index`: everything the client sent except the
    /// idempotency key and the linked flag. Two operations with one key and equal fingerprints are
    /// the same operation; the chance that different content collides is 2^-64.
    func fingerprint(at index: Int) -> UInt64 {
        switch self.entries[index].operation {
        case .createAsset(let body):
            var hasher = ContentHasher()
            hasher.combine(UInt64(OperationKind.createAsset.rawValue))
            hasher.combine(body.code.rawValue)
            hasher.combine(UInt64(body.scale))
            return hasher.finalize()
        case .createAccount(let body):
            var hasher = ContentHasher()
            hasher.combine(UInt64(OperationKind.createAccount.rawValue))
            hasher.combine(body.id.rawValue)
            hasher.combine(body.asset.rawValue)
            hasher.combine(UInt64(body.kind.rawValue))
            hasher.combine(UInt64(body.normalSide?.rawValue ?? 0))
            hasher.combine(body.merchant)
            hasher.combine(body.partner)
            hasher.combine(UInt64(body.flags.rawValue))
            return hasher.finalize()
        case .setAccountStatus(let body):
            var hasher = ContentHasher()
            hasher.combine(UInt64(OperationKind.setAccountStatus.rawValue))
            hasher.combine(body.account.rawValue)
            hasher.combine(UInt64(body.status.rawValue))
            hasher.combine(body.actor)
            hasher.combine(UInt64(body.reason))
            return hasher.finalize()
        case .post(let header, let legs, let fxRates, let references):
            return self.fingerprintPost(header, legs: legs, fxRates: fxRates, references: references)
        case .hold(let header, let terms, let references):
            return self.fingerprintHold(header, terms, references: references)
        case .capture(let header, let terms, let references):
            return self.fingerprintCapture(header, terms, references: references)
        case .increaseHold(let header, let terms, let references):
            return self.fingerprintIncrease(header, terms, references: references)
        case .voidHold(let header, let hold, let references):
            return self.fingerprintVoid(header, hold: hold, references: references)
        case .expireHold(let hold):
            var hasher = ContentHasher()
            hasher.combine(UInt64(OperationKind.expireHold.rawValue))
            hasher.combine(hold.rawValue)
            return hasher.finalize()
        case .reverse(let header, let transaction, let references):
            return self.fingerprintReverse(header, transaction: transaction, references: references)
        }
    }

    @inline(__always)
    func fingerprintPost(
        _ header: TransactionHeader,
        legs: OperationBatch.Slice,
        fxRates: OperationBatch.Slice,
        references: OperationBatch.ReferenceSlices
    ) -> UInt64 {
        var hasher = ContentHasher()
        hasher.combine(UInt64(OperationKind.post.rawValue))
        hasher.combine(header: header)
        hasher.combine(UInt64(legs.count))
        for leg in self.legs(legs) {
            hasher.combine(leg.account.rawValue)
            hasher.combine(UInt64(leg.side.rawValue))
            hasher.combine(leg.amount)
        }
        hasher.combine(UInt64(fxRates.count))
        for rate in self.fxRates(fxRates) {
            hasher.combine(rate.base.rawValue)
            hasher.combine(rate.quote.rawValue)
            hasher.combine(rate.numerator)
            hasher.combine(rate.denominator)
        }
        self.combine(references, into: &hasher)
        return hasher.finalize()
    }

    @inline(__always)
    func fingerprintHold(
        _ header: TransactionHeader,
        _ terms: HoldTerms,
        references: OperationBatch.ReferenceSlices
    ) -> UInt64 {
        var hasher = ContentHasher()
        hasher.combine(UInt64(OperationKind.hold.rawValue))
        hasher.combine(header: header)
        hasher.combine(terms.debit.rawValue)
        hasher.combine(terms.credit.rawValue)
        hasher.combine(terms.amount)
        hasher.combine(UInt64(terms.timeoutSeconds))
        self.combine(references, into: &hasher)
        return hasher.finalize()
    }

    @inline(__always)
    func fingerprintCapture(
        _ header: TransactionHeader,
        _ terms: CaptureTerms,
        references: OperationBatch.ReferenceSlices
    ) -> UInt64 {
        var hasher = ContentHasher()
        hasher.combine(UInt64(OperationKind.capture.rawValue))
        hasher.combine(header: header)
        hasher.combine(terms.hold.rawValue)
        hasher.combine(terms.amount)
        hasher.combine(UInt64(terms.isFinal ? 1 : 0))
        self.combine(references, into: &hasher)
        return hasher.finalize()
    }

    @inline(__always)
    func fingerprintIncrease(
        _ header: TransactionHeader,
        _ terms: IncreaseTerms,
        references: OperationBatch.ReferenceSlices
    ) -> UInt64 {
        var hasher = ContentHasher()
        hasher.combine(UInt64(OperationKind.increaseHold.rawValue))
        hasher.combine(header: header)
        hasher.combine(terms.hold.rawValue)
        hasher.combine(terms.amount)
        self.combine(references, into: &hasher)
        return hasher.finalize()
    }

    @inline(__always)
    func fingerprintVoid(
        _ header: TransactionHeader,
        hold: TransactionID,
        references: OperationBatch.ReferenceSlices
    ) -> UInt64 {
        var hasher = ContentHasher()
        hasher.combine(UInt64(OperationKind.voidHold.rawValue))
        hasher.combine(header: header)
        hasher.combine(hold.rawValue)
        self.combine(references, into: &hasher)
        return hasher.finalize()
    }

    @inline(__always)
    func fingerprintReverse(
        _ header: TransactionHeader,
        transaction: TransactionID,
        references: OperationBatch.ReferenceSlices
    ) -> UInt64 {
        var hasher = ContentHasher()
        hasher.combine(UInt64(OperationKind.reverse.rawValue))
        hasher.combine(header: header)
        hasher.combine(transaction.rawValue)
        self.combine(references, into: &hasher)
        return hasher.finalize()
    }

    @inline(__always)
    private func combine(_ references: OperationBatch.ReferenceSlices, into hasher: inout ContentHasher) {
        hasher.combine(bytes: self.bytes(references.paymentID))
        hasher.combine(bytes: self.bytes(references.providerReference))
    }
}

extension ContentHasher {
    /// Folds in a header's content: everything but the key.
    mutating func combine(header: TransactionHeader) {
        self.combine(UInt64(header.type.rawValue))
        self.combine(header.effectiveTime.nanosecondsSinceEpoch)
        self.combine(header.actor)
        self.combine(UInt64(header.reason))
    }
}
