extension Ledger {
    /// Posts the mirror image of a retained post or capture, at most once per transaction.
    mutating func applyReverse(
        _ header: TransactionHeader,
        transaction: TransactionID,
        references: OperationBatch.ReferenceSlices,
        in batch: OperationBatch
    ) -> OperationResult {
        if let rejection = self.checkHeader(header, references: references) {
            return rejection
        }
        guard transaction.rawValue != 0, transaction.rawValue <= self.lastTransactionID else {
            return .rejected(.transactionNotFound)
        }
        guard let original = self.decodeRecord(transaction) else {
            return .rejected(.transactionNotRetained)
        }
        guard original.kind == .post || original.kind == .capture else {
            return .rejected(.notReversible)
        }
        if self.reversed.contains(transaction) {
            return .rejected(.alreadyReversed)
        }

        let mirror = original.legs.map { Leg(account: $0.account, side: $0.side.opposite, amount: $0.amount) }
        self.scratchAccounts.removeAll(keepingCapacity: true)
        for (index, leg) in mirror.enumerated() {
            // Accounts are never deleted, so every account of a retained record exists.
            let account = self.accounts.find(leg.account)!
            if let rejection = self.checkOpen(account, detail: index) {
                return rejection
            }
            self.scratchAccounts.append(account)
        }
        let sumResult = self.sumLegsByAsset(mirror[...])
        precondition(sumResult == nil, "the mirror of a balanced transaction is balanced")
        if let rejection = self.checkVolumesAndConstraints(mirror[...]) {
            return rejection
        }

        let id = self.nextTransactionID()
        for (index, leg) in mirror.enumerated() {
            self.move(self.scratchAccounts[index], leg.side, posted: leg.amount)
        }
        self.reversed.insert(transaction)
        if self.isRecordingUndo {
            self.undo.append(.reversed(transaction))
        }
        self.scratchRecord.removeAll(keepingCapacity: true)
        self.scratchRecord.appendRecordHeader(kind: .reverse, header: header, recordedTime: self.now, link: transaction)
        self.scratchRecord.appendLegs(mirror, accounts: self.scratchAccounts)
        self.scratchRecord.appendRates(original.fxRates)
        self.scratchRecord.appendReferences(references, from: batch.referenceBytes)
        self.storeScratchRecord(id)
        self.assertBalanced()
        return .ok(id)
    }
}
