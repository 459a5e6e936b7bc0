extension Ledger {
    mutating func applyHold(
        _ header: TransactionHeader,
        _ terms: HoldTerms,
        references: OperationBatch.ReferenceSlices,
        in batch: BatchView
    ) -> OperationResult {
        if let rejection = self.checkHeader(header, references: references) {
            return rejection
        }
        let timeout = UInt64(terms.timeoutSeconds) * Timestamp.nanosecondsPerSecond
        let (deadline, deadlineOverflow) = self.now.addingReportingOverflow(timeout)
        if terms.timeoutSeconds > Limits.holdTimeoutSecondsMax || deadlineOverflow {
            return .rejected(.holdTimeoutInvalid)
        }
        if terms.amount == 0 {
            return .rejected(.amountZero)
        }
        guard terms.debit.rawValue != 0, let debit = self.accounts.find(terms.debit) else {
            return .rejected(.accountUnknown, detail: 0)
        }
        guard terms.credit.rawValue != 0, let credit = self.accounts.find(terms.credit) else {
            return .rejected(.accountUnknown, detail: 1)
        }
        if debit == credit {
            return .rejected(.accountsMustBeDistinct, detail: 1)
        }
        if let rejection = self.checkOpen(debit, detail: 0) ?? self.checkOpen(credit, detail: 1) {
            return rejection
        }
        let asset = self.accounts.records[debit].asset
        if self.accounts.records[credit].asset != asset {
            return .rejected(.assetMismatch, detail: 1)
        }
        if let rejection = self.checkAddedPending(debit: debit, credit: credit, amount: terms.amount, asset: asset) {
            return rejection
        }

        let id = self.nextTransactionID()
        self.move(debit, .debit, pendingIncrease: terms.amount)
        self.move(credit, .credit, pendingIncrease: terms.amount)
        let hold = HoldRecord(
            debit: UInt32(debit),
            credit: UInt32(credit),
            type: header.type,
            amount: terms.amount,
            captured: 0,
            deadline: terms.timeoutSeconds == 0 ? 0 : deadline
        )
        self.holds.insert(hold, id: id)
        if self.isRecordingUndo {
            self.undo.append(.holdInserted(id))
        }
        let now = self.now
        self.storeRecord(id, bytesMax: RecordWriter.bytesMax(legs: 2, rates: 0)) { writer in
            writer.header(kind: .hold, header: header, recordedTime: now, deadline: hold.deadline)
            writer.holdLegs(debit: debit, credit: credit, amount: terms.amount)
            writer.noRates()
            writer.references(references, in: batch)
        }
        self.assertBalanced()
        return .ok(id)
    }

    mutating func applyCapture(
        _ header: TransactionHeader,
        _ terms: CaptureTerms,
        references: OperationBatch.ReferenceSlices,
        in batch: BatchView
    ) -> OperationResult {
        if let rejection = self.checkHeader(header, references: references) {
            return rejection
        }
        let hold: HoldRecord
        switch self.openHold(terms.hold) {
        case .rejected(let rejection): return rejection
        case .open(let found): hold = found
        }
        if terms.amount == 0 {
            return .rejected(.amountZero)
        }
        if terms.amount > hold.remaining {
            return .rejected(.captureExceedsHold)
        }
        let debit = Int(hold.debit)
        let credit = Int(hold.credit)
        if let rejection = self.checkOpen(debit, detail: 0) ?? self.checkOpen(credit, detail: 1) {
            return rejection
        }

        // Capturing moves pending to posted, so the asset volume and the balance constraints
        // (which count pending) cannot get worse: nothing more to check.
        let id = self.nextTransactionID()
        let finishes = terms.isFinal || terms.amount == hold.remaining
        let released = finishes ? hold.remaining - terms.amount : 0
        self.move(debit, .debit, posted: terms.amount, pendingDecrease: terms.amount + released)
        self.move(credit, .credit, posted: terms.amount, pendingDecrease: terms.amount + released)
        if finishes {
            self.holds.remove(terms.hold)
            if self.isRecordingUndo {
                self.undo.append(.holdRemoved(terms.hold, previous: hold))
            }
        } else {
            var updated = hold
            updated.captured += terms.amount
            self.holds.update(updated, id: terms.hold)
            if self.isRecordingUndo {
                self.undo.append(.holdUpdated(terms.hold, previous: hold))
            }
        }
        let now = self.now
        self.storeRecord(id, bytesMax: RecordWriter.bytesMax(legs: 2, rates: 0)) { writer in
            writer.header(
                kind: .capture,
                header: header,
                recordedTime: now,
                link: terms.hold,
                released: released,
                isFinal: terms.isFinal
            )
            writer.holdLegs(debit: debit, credit: credit, amount: terms.amount)
            writer.noRates()
            writer.references(references, in: batch)
        }
        self.assertBalanced()
        return .ok(id)
    }

    mutating func applyIncrease(
        _ header: TransactionHeader,
        _ terms: IncreaseTerms,
        references: OperationBatch.ReferenceSlices,
        in batch: BatchView
    ) -> OperationResult {
        if let rejection = self.checkHeader(header, references: references) {
            return rejection
        }
        var hold: HoldRecord
        switch self.openHold(terms.hold) {
        case .rejected(let rejection): return rejection
        case .open(let found): hold = found
        }
        if terms.amount == 0 {
            return .rejected(.amountZero)
        }
        let debit = Int(hold.debit)
        let credit = Int(hold.credit)
        if let rejection = self.checkOpen(debit, detail: 0) ?? self.checkOpen(credit, detail: 1) {
            return rejection
        }
        let asset = self.accounts.records[debit].asset
        if let rejection = self.checkAddedPending(debit: debit, credit: credit, amount: terms.amount, asset: asset) {
            return rejection
        }

        let id = self.nextTransactionID()
        self.move(debit, .debit, pendingIncrease: terms.amount)
        self.move(credit, .credit, pendingIncrease: terms.amount)
        let previous = hold
        hold.amount += terms.amount
        self.holds.update(hold, id: terms.hold)
        if self.isRecordingUndo {
            self.undo.append(.holdUpdated(terms.hold, previous: previous))
        }
        let now = self.now
        self.storeRecord(id, bytesMax: RecordWriter.bytesMax(legs: 2, rates: 0)) { writer in
            writer.header(kind: .increaseHold, header: header, recordedTime: now, link: terms.hold)
            writer.holdLegs(debit: debit, credit: credit, amount: terms.amount)
            writer.noRates()
            writer.references(references, in: batch)
        }
        self.assertBalanced()
        return .ok(id)
    }

    mutating func applyVoid(
        _ header: TransactionHeader,
        hold holdID: TransactionID,
        references: OperationBatch.ReferenceSlices,
        in batch: BatchView
    ) -> OperationResult {
        if let rejection = self.checkHeader(header, references: references) {
            return rejection
        }
        let hold: HoldRecord
        switch self.openHold(holdID) {
        case .rejected(let rejection): return rejection
        case .open(let found): hold = found
        }
        // Releasing is allowed on frozen accounts: it only gives back what a hold reserved.
        let id = self.release(hold, holdID)
        let now = self.now
        self.storeRecord(id, bytesMax: RecordWriter.bytesMax(legs: 2, rates: 0)) { writer in
            writer.header(kind: .voidHold, header: header, recordedTime: now, link: holdID, released: hold.remaining)
            writer.holdLegs(debit: Int(hold.debit), credit: Int(hold.credit), amount: hold.remaining)
            writer.noRates()
            writer.references(references, in: batch)
        }
        self.assertBalanced()
        return .ok(id)
    }

    mutating func applyExpire(hold holdID: TransactionID) -> OperationResult {
        guard let hold = self.holds[holdID] else {
            return .rejected(self.isFinishedHold(holdID) ? .holdAlreadyFinal : .holdNotFound)
        }
        guard hold.deadline != 0, hold.deadline <= self.now else {
            return .rejected(.holdNotDue)
        }
        let id = self.release(hold, holdID)
        let now = self.now
        self.storeRecord(id, bytesMax: RecordWriter.bytesMax(legs: 2, rates: 0)) { writer in
            writer.header(
                kind: .expireHold,
                header: TransactionHeader(key: 0, type: hold.type),
                recordedTime: now,
                link: holdID,
                released: hold.remaining
            )
            writer.holdLegs(debit: Int(hold.debit), credit: Int(hold.credit), amount: hold.remaining)
            writer.noRates()
            writer.noReferences()
        }
        self.assertBalanced()
        return .ok(id)
    }

    /// Releases what remains of `hold` and finishes it; returns the new transaction's id.
    private mutating func release(_ hold: HoldRecord, _ holdID: TransactionID) -> TransactionID {
        let id = self.nextTransactionID()
        self.move(Int(hold.debit), .debit, pendingDecrease: hold.remaining)
        self.move(Int(hold.credit), .credit, pendingDecrease: hold.remaining)
        self.holds.remove(holdID)
        if self.isRecordingUndo {
            self.undo.append(.holdRemoved(holdID, previous: hold))
        }
        return id
    }

    /// The open hold `id`, or why it cannot be acted on: unknown, finished, or past its deadline.
    private mutating func openHold(_ id: TransactionID) -> HoldLookup {
        guard let hold = self.holds[id] else {
            return .rejected(.rejected(self.isFinishedHold(id) ? .holdAlreadyFinal : .holdNotFound))
        }
        if hold.deadline != 0 && self.now >= hold.deadline {
            return .rejected(.rejected(.holdExpired))
        }
        return .open(hold)
    }

    /// Whether `id` is a retained hold transaction that is no longer open.
    private mutating func isFinishedHold(_ id: TransactionID) -> Bool {
        self.transactions.withRecord(id) { OperationKind(rawValue: $0.first ?? 0) == .hold } ?? false
    }

    /// Checks that `amount` more pending on a hold's accounts keeps the asset volume in range and
    /// both accounts within their constraints.
    private mutating func checkAddedPending(debit: Int, credit: Int, amount: UInt128, asset: UInt16) -> OperationResult?
    {
        if !self.assets.canAddVolume(amount, asset: asset) {
            return .rejected(.amountOverflow)
        }
        return self.checkConstraint(debit, side: .debit, amount: amount, detail: 0)
            ?? self.checkConstraint(credit, side: .credit, amount: amount, detail: 1)
    }
}

/// A hold that can be acted on, or the rejection saying why not.
private enum HoldLookup {
    case open(HoldRecord)
    case rejected(OperationResult)
}
