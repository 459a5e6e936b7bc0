import SystemPackage
import TallyCore
import TallyStorage

/// Reading a data directory's journal without starting an engine: for `tally journal verify` and
/// `tally journal inspect`, and for operators checking a copy of production files.
public enum JournalInspection {
    /// What a full verification found.
    public struct Report: Hashable, Sendable {
        public var scan: JournalScan
        public var records: UInt64
        public var operations: UInt64
        public var transactions: UInt64
        /// The state after replaying every record.
        public var digest: StateDigest
        public var statistics: LedgerStatistics
        public var invariantViolations: [String]
        /// The ledger settings the directory stores (nil for a directory without them).
        public var settingsSummary: String?
    }

    /// One record, as `inspect` lists it.
    public struct RecordSummary: Hashable, Sendable {
        public var sequence: UInt64
        public var kind: String
        public var engineTime: Timestamp
        public var operations: Int
        public var firstTransaction: UInt64
        public var transactionsCreated: UInt64
        public var payloadBytes: Int
    }

    /// Checks every segment and record and replays the whole journal into a ledger, proving that it
    /// reproduces the results it recorded; then checks every invariant of the final state. Takes
    /// the directory's lock, so it refuses a directory a running engine holds (verify a copy).
    /// Read-only: a torn tail is reported, not cut.
    public static func verify(
        dataDirectory path: FilePath,
        fileSystem: any FileSystem = SystemFileSystem()
    ) throws -> Report {
        let directory = try DataDirectory(path, create: false, fileSystem: fileSystem)
        defer { directory.close() }
        let stored = try StoredLedgerSettings.load(from: directory)
        let configuration = stored?.applied(to: LedgerConfiguration()) ?? LedgerConfiguration()
        var replayer = Replayer(ledger: Ledger(configuration: configuration))
        let scan = try JournalScanner(directory: directory.journalPath, fileSystem: fileSystem).scan {
            try replayer.replay($0, $1)
        }
        return Report(
            scan: scan,
            records: replayer.records,
            operations: replayer.operations,
            transactions: replayer.ledger.lastTransaction.rawValue,
            digest: replayer.ledger.digest(),
            statistics: replayer.ledger.statistics,
            invariantViolations: replayer.ledger.checkInvariants(),
            settingsSummary: stored?.summary
        )
    }

    /// Lists records `from ... from + limit - 1` (checking every record's checksum on the way) and
    /// returns the scan of the whole journal.
    public static func inspect(
        dataDirectory path: FilePath,
        from first: UInt64 = 1,
        limit: Int = .max,
        fileSystem: any FileSystem = SystemFileSystem(),
        _ visit: (RecordSummary) -> Void
    ) throws -> JournalScan {
        let directory = try DataDirectory(path, create: false, fileSystem: fileSystem)
        defer { directory.close() }
        var listed = 0
        var batch = OperationBatch()
        return try JournalScanner(directory: directory.journalPath, fileSystem: fileSystem).scan { sequence, payload in
            guard sequence >= first, listed < limit else { return }
            listed += 1
            switch JournalRecord.decodeHeader(payload) {
            case .success(let record):
                let operations: Int
                do {
                    try batch.decode(UnsafeRawBufferPointer(rebasing: payload[JournalRecord.headerBytes...]))
                    operations = batch.count
                } catch {
                    operations = -1
                }
                visit(
                    RecordSummary(
                        sequence: sequence,
                        kind: record.kind == .client ? "client" : "expiry_sweep",
                        engineTime: record.time,
                        operations: operations,
                        firstTransaction: record.firstTransaction,
                        transactionsCreated: record.transactionsCreated,
                        payloadBytes: payload.count
                    )
                )
            case .failure(let problem):
                visit(
                    RecordSummary(
                        sequence: sequence,
                        kind: "unreadable: \(problem)",
                        engineTime: .zero,
                        operations: -1,
                        firstTransaction: 0,
                        transactionsCreated: 0,
                        payloadBytes: payload.count
                    )
                )
            }
        }
    }
}
