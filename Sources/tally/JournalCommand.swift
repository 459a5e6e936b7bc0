import ArgumentParser
import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage

/// `tally journal verify|inspect`: check and show a data directory without starting a server.
struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Verify or inspect a data directory's journal without starting a server.",
        subcommands: [JournalVerifyCommand.self, JournalInspectCommand.self]
    )
}

/// Exit codes of the journal commands.
enum JournalExitCode {
    /// The journal is damaged, or replaying it does not reproduce what it recorded.
    static let damaged = ExitCode(1)
    /// The directory could not be read (missing, locked by a running server, I/O error).
    static let unusable = ExitCode(3)
}

struct JournalVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every record's checksum and sequence, replay the whole journal, check every invariant.",
        discussion: """
            Exit status: 0 when the journal is sound (a torn final write, which startup would cut, is \
            reported but is not damage), 1 when it is damaged or its replay diverges, 3 when the \
            directory cannot be read (for example because a running server holds it: verify a copy).
            """
    )

    @Option(name: .long, help: "The data directory.")
    var dataDirectory = "tally-data"

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct Output: Encodable {
        var dataDirectory: String
        var ok: Bool
        var segments: Int
        /// Of those, read from the archive (journal/archive/*.zst).
        var archivedSegments: Int
        var records: UInt64
        var firstSequence: UInt64?
        var lastSequence: UInt64?
        var operations: UInt64
        var transactions: UInt64
        var accounts: Int
        var openHolds: Int
        var retainedKeys: Int
        var tornTail: TornTail?
        var digest: String?
        var invariantViolations: [String]
        var settings: String?
        var error: String?
        var errorFile: String?
        var errorOffset: Int64?
        var errorSequence: UInt64?

        struct TornTail: Encodable {
            var segment: String
            var offset: Int64
            var sequence: UInt64
            var bytes: Int64
        }
    }

    func run() throws {
        var output = Output(
            dataDirectory: self.dataDirectory,
            ok: false,
            segments: 0,
            archivedSegments: 0,
            records: 0,
            operations: 0,
            transactions: 0,
            accounts: 0,
            openHolds: 0,
            retainedKeys: 0,
            invariantViolations: []
        )
        let exit: ExitCode
        do {
            let report = try JournalInspection.verify(dataDirectory: FilePath(self.dataDirectory))
            output.ok = report.invariantViolations.isEmpty
            output.segments = report.scan.segments.count
            output.archivedSegments = report.scan.segments.filter(\.isArchived).count
            output.records = report.records
            output.firstSequence = report.scan.firstSequence
            output.lastSequence = report.scan.lastSequence
            output.operations = report.operations
            output.transactions = report.transactions
            output.accounts = report.statistics.accounts
            output.openHolds = report.statistics.openHolds
            output.retainedKeys = report.statistics.retainedKeys
            output.tornTail = report.scan.tornTail.map {
                Output.TornTail(segment: $0.segment, offset: $0.offset, sequence: $0.sequence, bytes: $0.bytes)
            }
            output.digest = report.digest.description
            output.invariantViolations = report.invariantViolations
            output.settings = report.settingsSummary
            exit = output.ok ? .success : JournalExitCode.damaged
        } catch let error as StorageError {
            output.error = error.description
            output.errorFile = error.path?.string
            output.errorOffset = error.offset
            output.errorSequence = error.sequence
            exit =
                error.code == .corrupted || error.code == .unsupportedFormat
                ? JournalExitCode.damaged : JournalExitCode.unusable
        } catch let error as EngineError {
            output.error = error.description
            exit = JournalExitCode.damaged
        }
        if self.json {
            JSONOutput.print(output)
        } else {
            self.printHuman(output)
        }
        throw exit
    }

    private func printHuman(_ output: Output) {
        if let error = output.error {
            print("journal of \(output.dataDirectory): NOT OK")
            print("  \(error)")
            return
        }
        print("journal of \(output.dataDirectory): \(output.ok ? "ok" : "INVARIANTS BROKEN")")
        let range = output.firstSequence.map { "sequences \($0)...\(output.lastSequence ?? $0)" } ?? "no records"
        print(
            "  \(output.segments) segments (\(output.archivedSegments) archived), \(output.records) records (\(range)), \(output.operations) operations"
        )
        print(
            "  replayed: \(output.transactions) transactions, \(output.accounts) accounts, \(output.openHolds) open holds, \(output.retainedKeys) retained keys"
        )
        if let torn = output.tornTail {
            print(
                "  torn final write at \(torn.segment) offset \(torn.offset) (sequence \(torn.sequence), \(torn.bytes) bytes): never acknowledged; startup will cut it"
            )
        }
        if let settings = output.settings {
            print("  ledger settings: \(settings)")
        }
        if let digest = output.digest {
            print("  state digest \(digest)")
        }
        for violation in output.invariantViolations {
            print("  invariant broken: \(violation)")
        }
    }
}

struct JournalInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a journal's segments and records.",
        discussion:
            "Exit status: 0 when every record checks out, 1 when the journal is damaged, 3 when the directory cannot be read."
    )

    @Option(name: .long, help: "The data directory.")
    var dataDirectory = "tally-data"

    @Option(name: .long, help: "List records from this sequence.")
    var from: UInt64 = 1

    @Option(name: .long, help: "List at most this many records (0: segments only).")
    var limit = 20

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct Output: Encodable {
        var dataDirectory: String
        var segments: [Segment]
        var records: [Record]
        var totalRecords: UInt64
        var tornTail: String?
        var error: String?

        struct Segment: Encodable {
            var name: String
            var firstSequence: UInt64
            var records: UInt64
            var bytesUsed: Int64
            var bytes: Int64
            /// Read from its compressed copy in journal/archive/.
            var archived: Bool
        }

        struct Record: Encodable {
            var sequence: UInt64
            var kind: String
            var engineTimeNanoseconds: UInt64
            var operations: Int
            var firstTransaction: UInt64
            var transactionsCreated: UInt64
            var payloadBytes: Int
        }
    }

    func validate() throws {
        guard self.limit >= 0 else { throw ValidationError("--limit must not be negative.") }
        guard self.from >= 1 else { throw ValidationError("--from must be at least 1.") }
    }

    func run() throws {
        var output = Output(dataDirectory: self.dataDirectory, segments: [], records: [], totalRecords: 0)
        var exit = ExitCode.success
        do {
            let scan = try JournalInspection.inspect(
                dataDirectory: FilePath(self.dataDirectory),
                from: self.from,
                limit: self.limit
            ) {
                output.records.append(
                    Output.Record(
                        sequence: $0.sequence,
                        kind: $0.kind,
                        engineTimeNanoseconds: $0.engineTime.nanosecondsSinceEpoch,
                        operations: $0.operations,
                        firstTransaction: $0.firstTransaction,
                        transactionsCreated: $0.transactionsCreated,
                        payloadBytes: $0.payloadBytes
                    )
                )
            }
            output.segments = scan.segments.map {
                Output.Segment(
                    name: $0.name,
                    firstSequence: $0.firstSequence,
                    records: $0.records,
                    bytesUsed: $0.end,
                    bytes: $0.bytes,
                    archived: $0.isArchived
                )
            }
            output.totalRecords = scan.records
            output.tornTail = scan.tornTail.map {
                "\($0.segment) offset \($0.offset), sequence \($0.sequence), \($0.bytes) bytes"
            }
        } catch let error as StorageError {
            output.error = error.description
            exit =
                error.code == .corrupted || error.code == .unsupportedFormat
                ? JournalExitCode.damaged : JournalExitCode.unusable
        }
        if self.json {
            JSONOutput.print(output)
        } else {
            if let error = output.error {
                print("journal of \(self.dataDirectory): \(error)")
            }
            print("\(output.segments.count) segments, \(output.totalRecords) records")
            for segment in output.segments {
                print(
                    "  \(segment.name)  first \(segment.firstSequence)  \(segment.records) records  \(segment.bytesUsed)/\(segment.bytes) bytes"
                        + (segment.archived ? "  (archived)" : "")
                )
            }
            if let torn = output.tornTail {
                print("  torn final write: \(torn)")
            }
            for record in output.records {
                print(
                    "  #\(record.sequence) \(record.kind) t=\(record.engineTimeNanoseconds) ops=\(record.operations) tx \(record.firstTransaction)+\(record.transactionsCreated) \(record.payloadBytes) B"
                )
            }
        }
        throw exit
    }
}
