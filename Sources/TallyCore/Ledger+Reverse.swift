extension Ledger {
    /// Posts the mirror image of a retained post or capture, at most once per transaction.
    mutating func applyReverse(
        _ header: TransactionHeader,
        transaction: TransactionID,
        references: OperationBatch.ReferenceSlices,
        in batch: BatchView
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
        return mirror.withUnsafeBufferPointer { mirror in
            original.fxRates.withUnsafeBufferPointer { rates in
                self.postReversal(
                    header,
                    of: transaction,
                    mirror: mirror,
                    rates: rates,
                    references: references,
                    in: batch
                )
            }
        }
    }

    private mutating func postReversal(
        _ header: TransactionHeader,
        of transaction: TransactionID,
        mirror: UnsafeBufferPointer<Leg>,
        rates: UnsafeBufferPointer<FXRate>,
        references: OperationBatch.ReferenceSlices,
        in batch: BatchView
    ) -> OperationResult {
        LegScratch.with(legCount: mirror.count) { scratch in
            for index in 0..<mirror.count {
                // Accounts are never deleted, so every account of a retained record exists.
                let account = self.accounts.find(mirror[index].account)!
                if let rejection = self.checkOpen(account, detail: index) {
                    return rejection
                }
                scratch.appendAccount(account)
            }
            let sumResult = self.sumLegsByAsset(mirror, &scratch)
            precondition(sumResult == nil, "the mirror of a balanced transaction is balanced")
            if let rejection = self.checkVolumesAndConstraints(mirror, scratch) {
                return rejection
            }

            let id = self.nextTransactionID()
            for index in 0..<mirror.count {
                self.move(scratch.account(index), mirror[index].side, posted: mirror[index].amount)
            }
            self.reversed.insert(transaction)
            if self.isRecordingUndo {
                self.undo.append(.reversed(transaction))
            }
            let now = self.now
            let accounts = scratch.accounts
            self.storeRecord(id, bytesMax: RecordWriter.bytesMax(legs: mirror.count, rates: rates.count)) { writer in
                writer.header(kind: .reverse, header: header, recordedTime: now, link: transaction)
                writer.legs(mirror, accounts: accounts)
                writer.rates(rates)
                writer.references(references, in: batch)
            }
            self.assertBalanced()
            return .ok(id)
        }
    }
}
