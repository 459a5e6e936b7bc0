import TallyCore

extension ReferenceLedger {
    /// The longest hold timeout: ten years of 366 days.
    static let holdTimeoutSecondsMax: UInt64 = 316_224_000

    /// docs/LEDGER.md, *Holds*: reserves an amount as pending between two accounts of one asset.
    mutating func hold(
        _ header: TransactionHeader,
        _ terms: HoldTerms,
        references: ExternalReferences
    ) -> OperationResult {
        if let rejection = self.headerRejection(header, references) { return rejection }
        let timeout = UInt64(terms.timeoutSeconds)
        guard timeout <= ReferenceLedger.holdTimeoutSecondsMax else { return .rejected(.holdTimeoutInvalid) }
        let (timeoutNanoseconds, overflow1) = timeout.multipliedReportingOverflow(by: Timestamp.nanosecondsPerSecond)
        let (deadline, overflow2) = self.recordedTime.nanosecondsSinceEpoch.addingReportingOverflow(timeoutNanoseconds)
        guard !overflow1, !overflow2 else { return .rejected(.holdTimeoutInvalid) }
        guard terms.amount != 0 else { return .rejected(.amountZero) }
        guard let debit = self.account(terms.debit) else { return .rejected(.accountUnknown, detail: 0) }
        guard let credit = self.account(terms.credit) else { return .rejected(.accountUnknown, detail: 1) }
        guard debit.id != credit.id else { return .rejected(.accountsMustBeDistinct, detail: 1) }
        if let rejection = self.statusRejection(debit, detail: 0) { return rejection }
        if let rejection = self.statusRejection(credit, detail: 1) { return rejection }
        guard debit.asset == credit.asset else { return .rejected(.assetMismatch, detail: 1) }
        guard self.volumeFits(debit.asset, adding: terms.amount) else { return .rejected(.amountOverflow) }
        if let rejection = self.constraintRejection(debit, side: .debit, amount: terms.amount, detail: 0) {
            return rejection
        }
        if let rejection = self.constraintRejection(credit, side: .credit, amount: terms.amount, detail: 1) {
            return rejection
        }

        self.move(debit.id, .debit, pendingUp: terms.amount)
        self.move(credit.id, .credit, pendingUp: terms.amount)
        let deadlineTime = Timestamp(nanosecondsSinceEpoch: timeout == 0 ? 0 : deadline)
        let id = self.appendRecord(
            TransactionRecord(
                id: 0,
                kind: .hold,
                type: header.type,
                key: header.key,
                legs: [.debit(debit.id, terms.amount), .credit(credit.id, terms.amount)],
                references: references,
                effectiveTime: header.effectiveTime,
                recordedTime: self.recordedTime,
                actor: header.actor,
                reason: header.reason,
                deadline: deadlineTime
            )
        )
        self.holdsOpen[id] = Hold(
            id: id,
            debit: debit.id,
            credit: credit.id,
            type: header.type,
            amount: terms.amount,
            captured: 0,
            deadline: deadlineTime
        )
        return .ok(id)
    }

    /// Finds the hold that a capture, increase or void acts on: open and not past its deadline.
    func actionableHold(_ id: TransactionID) -> Result<Hold, ResultCodeRejection> {
        guard let hold = self.holdsOpen[id] else {
            return .failure(ResultCodeRejection(result: self.notOpenRejection(id)))
        }
        if self.isDue(hold) {
            return .failure(ResultCodeRejection(result: .rejected(.holdExpired)))
        }
        return .success(hold)
    }

    /// Why a hold id that is not open cannot be acted on.
    func notOpenRejection(_ id: TransactionID) -> OperationResult {
        // Every applied transaction is retained in the model, so a finished hold is always found.
        if let record = self.record(id), record.kind == .hold {
            return .rejected(.holdAlreadyFinal)
        }
        return .rejected(.holdNotFound)
    }

    /// True when the hold has a deadline and the recorded time has reached it.
    func isDue(_ hold: Hold) -> Bool {
        hold.deadline.nanosecondsSinceEpoch != 0 && self.recordedTime >= hold.deadline
    }

    mutating func capture(
        _ header: TransactionHeader,
        _ terms: CaptureTerms,
        references: ExternalReferences
    ) -> OperationResult {
        if let rejection = self.headerRejection(header, references) { return rejection }
        let hold: Hold
        switch self.actionableHold(terms.hold) {
        case .success(let found): hold = found
        case .failure(let rejection): return rejection.result
        }
        guard terms.amount != 0 else { return .rejected(.amountZero) }
        let remaining = ReferenceLedger.difference(hold.amount, hold.captured)
        guard terms.amount <= remaining else { return .rejected(.captureExceedsHold) }
        if let rejection = self.holdAccountsRejection(hold) { return rejection }

        self.move(hold.debit, .debit, postedUp: terms.amount, pendingDown: terms.amount)
        self.move(hold.credit, .credit, postedUp: terms.amount, pendingDown: terms.amount)
        var updated = hold
        updated.captured = ReferenceLedger.sum(hold.captured, terms.amount)
        var released: UInt128 = 0
        if terms.isFinal || updated.captured == updated.amount {
            released = ReferenceLedger.difference(updated.amount, updated.captured)
            self.release(released, of: updated)
            self.holdsOpen[hold.id] = nil
        } else {
            self.holdsOpen[hold.id] = updated
        }
        let id = self.appendRecord(
            TransactionRecord(
                id: 0,
                kind: .capture,
                type: header.type,
                key: header.key,
                legs: [.debit(hold.debit, terms.amount), .credit(hold.credit, terms.amount)],
                references: references,
                effectiveTime: header.effectiveTime,
                recordedTime: self.recordedTime,
                actor: header.actor,
                reason: header.reason,
                link: hold.id,
                released: released,
                isFinal: terms.isFinal
            )
        )
        return .ok(id)
    }

    mutating func increaseHold(
        _ header: TransactionHeader,
        _ terms: IncreaseTerms,
        references: ExternalReferences
    ) -> OperationResult {
        if let rejection = self.headerRejection(header, references) { return rejection }
        let hold: Hold
        switch self.actionableHold(terms.hold) {
        case .success(let found): hold = found
        case .failure(let rejection): return rejection.result
        }
        guard terms.amount != 0 else { return .rejected(.amountZero) }
        if let rejection = self.holdAccountsRejection(hold) { return rejection }
        guard let debit = self.account(hold.debit), let credit = self.account(hold.credit) else {
            preconditionFailure("an open hold names an account that does not exist")
        }
        guard self.volumeFits(debit.asset, adding: terms.amount) else { return .rejected(.amountOverflow) }
        if let rejection = self.constraintRejection(debit, side: .debit, amount: terms.amount, detail: 0) {
            return rejection
        }
        if let rejection = self.constraintRejection(credit, side: .credit, amount: terms.amount, detail: 1) {
            return rejection
        }

        self.move(hold.debit, .debit, pendingUp: terms.amount)
        self.move(hold.credit, .credit, pendingUp: terms.amount)
        self.holdsOpen[hold.id]?.amount = ReferenceLedger.sum(hold.amount, terms.amount)
        let id = self.appendRecord(
            TransactionRecord(
                id: 0,
                kind: .increaseHold,
                type: header.type,
                key: header.key,
                legs: [.debit(hold.debit, terms.amount), .credit(hold.credit, terms.amount)],
                references: references,
                effectiveTime: header.effectiveTime,
                recordedTime: self.recordedTime,
                actor: header.actor,
                reason: header.reason,
                link: hold.id
            )
        )
        return .ok(id)
    }

    mutating func voidHold(
        _ header: TransactionHeader,
        hold holdID: TransactionID,
        references: ExternalReferences
    ) -> OperationResult {
        if let rejection = self.headerRejection(header, references) { return rejection }
        let hold: Hold
        switch self.actionableHold(holdID) {
        case .success(let found): hold = found
        case .failure(let rejection): return rejection.result
        }
        return .ok(self.finish(hold, kind: .voidHold, header: header, references: references))
    }

    /// Engine-issued: no key, no header checks.
    mutating func expireHold(_ holdID: TransactionID) -> OperationResult {
        guard let hold = self.holdsOpen[holdID] else { return self.notOpenRejection(holdID) }
        guard self.isDue(hold) else { return .rejected(.holdNotDue) }
        return .ok(self.finish(hold, kind: .expireHold, header: nil, references: .none))
    }

    /// Releases what remains of `hold`, finishes it and records the void or expiry.
    mutating func finish(
        _ hold: Hold,
        kind: OperationKind,
        header: TransactionHeader?,
        references: ExternalReferences
    ) -> TransactionID {
        let remaining = ReferenceLedger.difference(hold.amount, hold.captured)
        self.release(remaining, of: hold)
        self.holdsOpen[hold.id] = nil
        return self.appendRecord(
            TransactionRecord(
                id: 0,
                kind: kind,
                type: header?.type ?? hold.type,
                key: header?.key ?? 0,
                legs: [.debit(hold.debit, remaining), .credit(hold.credit, remaining)],
                references: references,
                effectiveTime: header?.effectiveTime ?? .zero,
                recordedTime: self.recordedTime,
                actor: header?.actor ?? 0,
                reason: header?.reason ?? 0,
                link: hold.id,
                released: remaining
            )
        )
    }

    /// Takes `amount` off the pending amounts the hold reserves on both accounts.
    mutating func release(_ amount: UInt128, of hold: Hold) {
        self.move(hold.debit, .debit, pendingDown: amount)
        self.move(hold.credit, .credit, pendingDown: amount)
    }

    /// Captures and increases need both of the hold's accounts open: debit (detail 0), then credit.
    func holdAccountsRejection(_ hold: Hold) -> OperationResult? {
        guard let debit = self.account(hold.debit), let credit = self.account(hold.credit) else {
            preconditionFailure("an open hold names an account that does not exist")
        }
        if let rejection = self.statusRejection(debit, detail: 0) { return rejection }
        return self.statusRejection(credit, detail: 1)
    }
}

/// A rejection carried through `Result`.
struct ResultCodeRejection: Error {
    var result: OperationResult
}
