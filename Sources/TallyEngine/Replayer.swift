import TallyCore

/// Applies journal records to a ledger, checking that each reproduces what the engine recorded
/// when it first applied it: the same transaction ids and the same results. A record that does not
/// is a ledger that no longer reproduces its own history, and replay stops.
struct Replayer {
    var ledger: Ledger
    /// Records after this sequence are not applied (the durable end, after a journal failure).
    let through: UInt64
    private(set) var records: UInt64 = 0
    private(set) var operations: UInt64 = 0
    private var batch = OperationBatch()
    private var results: [OperationResult] = []
    private var scratch: [UInt8] = []

    init(ledger: Ledger, through: UInt64 = .max) {
        self.ledger = ledger
        self.through = through
    }

    mutating func replay(_ sequence: UInt64, _ payload: UnsafeRawBufferPointer) throws {
        guard sequence <= self.through else { return }
        let record: JournalRecord
        switch JournalRecord.decodeHeader(payload) {
        case .success(let decoded): record = decoded
        case .failure(let reason):
            throw EngineError(.replayDiverged, "journal record \(sequence) cannot be read: \(reason)")
        }
        do {
            try self.batch.decode(UnsafeRawBufferPointer(rebasing: payload[JournalRecord.headerBytes...]))
        } catch {
            throw EngineError(.replayDiverged, "journal record \(sequence) holds an unreadable batch: \(error)")
        }
        let first = self.ledger.lastTransaction.rawValue + 1
        guard first == record.firstTransaction else {
            throw EngineError(
                .replayDiverged,
                "journal record \(sequence) was applied when the next transaction id was \(record.firstTransaction); replay is at \(first)"
            )
        }
        self.ledger.apply(self.batch, at: record.time, results: &self.results)
        let created = self.ledger.lastTransaction.rawValue - (first - 1)
        let checksum = JournalRecord.checksum(of: self.results, scratch: &self.scratch)
        guard created == record.transactionsCreated, checksum == record.resultsChecksum else {
            throw EngineError(
                .replayDiverged,
                "journal record \(sequence) replays to \(created) transactions and results checksum \(checksum); it recorded \(record.transactionsCreated) and \(record.resultsChecksum)"
            )
        }
        self.records += 1
        self.operations += UInt64(self.batch.count)
    }
}
