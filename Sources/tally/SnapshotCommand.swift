import ArgumentParser
import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage

/// `tally snapshot create|verify|inspect`: take a snapshot of a data directory, prove snapshots
/// sound (and equal to what the journal says), and show what they hold.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Create, verify or inspect a data directory's snapshots.",
        subcommands: [SnapshotCreateCommand.self, SnapshotVerifyCommand.self, SnapshotInspectCommand.self]
    )
}

/// Exit codes of the snapshot commands (the journal commands' own: 0 when all is well).
enum SnapshotExitCode {
    /// A snapshot (or the journal it is checked against) is damaged or disagrees with itself.
    static let damaged = ExitCode(1)
    /// The command could not do its work: no data directory, locked by a running process, I/O error.
    static let unusable = ExitCode(3)

    /// The exit code an error that stopped a command stands for.
    static func of(_ error: any Error) -> ExitCode {
        switch error {
        case let error as StorageError:
            return error.code == .corrupted || error.code == .unsupportedFormat ? Self.damaged : Self.unusable
        case let error as EngineError:
            if error.code == .replayDiverged {
                return Self.damaged
            }
            return error.storage.map { Self.of($0) } ?? Self.unusable
        default:
            return Self.unusable
        }
    }
}

/// Why a snapshot command could not start its work, with the exit code to leave with.
private struct SnapshotCommandFailure: Error, CustomStringConvertible {
    var exit: ExitCode
    var description: String

    static func noDataDirectory(_ path: FilePath) -> Self {
        Self(exit: SnapshotExitCode.unusable, description: "there is no data directory at \(path)")
    }

    static func noSettings(_ path: FilePath) -> Self {
        Self(
            exit: SnapshotExitCode.unusable,
            description:
                "\(path) is not a Tally data directory: it has no ledger.conf (the ledger settings snapshots are decoded with)"
        )
    }
}

/// The ledger settings stored in the data directory at `path`, read without its lock and without
/// writing; a missing directory or settings file stops the command with exit code 3.
private func storedLedgerConfiguration(
    _ path: FilePath,
    fileSystem: any FileSystem
) throws -> (configuration: LedgerConfiguration, summary: String) {
    guard fileSystem.fileExists(path) else { throw SnapshotCommandFailure.noDataDirectory(path) }
    guard
        let stored = try SnapshotVerification.storedLedgerConfiguration(dataDirectory: path, fileSystem: fileSystem)
    else {
        throw SnapshotCommandFailure.noSettings(path)
    }
    return stored
}

/// A time in nanoseconds since 1970 as ISO 8601 UTC with milliseconds.
private func iso8601(nanoseconds: UInt64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(nanoseconds) / 1e9))
}

/// Uncompressed bytes per compressed byte, to two decimals.
private func ratio(_ uncompressed: Int64, _ compressed: Int64) -> Double {
    compressed > 0 ? (Double(uncompressed) / Double(compressed) * 100).rounded() / 100 : 0
}

// MARK: - create

struct SnapshotCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Open a data directory (recovering its state), write a snapshot of it, and close it.",
        discussion: """
            The directory must not be in use: a running server holds its lock (it takes snapshots \
            itself). The snapshot covers every journal record, and nothing is added to the journal \
            (the engine's clock is stopped, so it sweeps no hold expiries); when the newest snapshot \
            covers every record already, it is reported and nothing is written. The engine's \
            retention applies as after any snapshot: only the newest few are kept, and closed journal \
            segments they all cover move to the journal's archive.

            Exit status: 0 when the directory has a snapshot of its whole journal, 1 when recovery \
            finds the directory damaged, 3 when the directory cannot be used (missing, not a data \
            directory, locked by a running process) or the snapshot cannot be written.
            """
    )

    @Option(name: .long, help: "The data directory.")
    var dataDirectory = "tally-data"

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct Output: Encodable {
        var dataDirectory: String
        var ok: Bool
        /// False when the newest snapshot already covered every journal record: nothing was written,
        /// and the fields describe that snapshot.
        var written: Bool?
        var file: String?
        var sequence: UInt64?
        var recordedTimeNanoseconds: UInt64?
        var transactions: UInt64?
        var accounts: UInt64?
        var openHolds: UInt64?
        var retainedKeys: UInt64?
        var compressedBytes: Int64?
        var uncompressedBytes: Int64?
        var fileBytes: Int64?
        var digest: String?
        /// Writing the snapshot (opening and recovering the directory not included).
        var seconds: Double?
        var recoveredRecords: UInt64?
        var recoverySeconds: Double?
        /// The snapshot recovery started from, if any.
        var recoveredFromSnapshot: UInt64?
        /// Snapshots recovery passed over, with the reason.
        var rejectedSnapshots: [String]
        var error: String?
    }

    func run() async throws {
        var output = Output(dataDirectory: self.dataDirectory, ok: false, rejectedSnapshots: [])
        let exit: ExitCode
        do {
            try await self.create(into: &output)
            output.ok = true
            exit = .success
        } catch let failure as SnapshotCommandFailure {
            output.error = failure.description
            exit = failure.exit
        } catch {
            output.error = "\(error)"
            exit = SnapshotExitCode.of(error)
        }
        if self.json {
            JSONOutput.print(output)
        } else {
            self.printHuman(output)
        }
        throw exit
    }

    private func create(into output: inout Output) async throws {
        let path = FilePath(self.dataDirectory)
        // Checked first: opening an engine creates a missing directory and settings, and a snapshot
        // of an empty ledger somewhere unintended helps nobody.
        _ = try storedLedgerConfiguration(path, fileSystem: ReadOnlyFileSystem())
        // A stopped clock: with the system clock the idle writer would journal the expiry of every
        // hold due by now, and taking a snapshot must not change the ledger.
        let (engine, recovery) = try Engine.open(Engine.Configuration(dataDirectory: path), clock: VirtualClock(.zero))
        output.recoveredRecords = recovery.recordsReplayed
        output.recoverySeconds = Double(recovery.nanoseconds) / 1e9
        output.recoveredFromSnapshot = recovery.snapshot?.sequence
        output.rejectedSnapshots = recovery.rejectedSnapshots.map(\.description)
        let started = ContinuousClock.now
        let info: SnapshotFile.Info
        do {
            info = try await engine.snapshot()
        } catch {
            try? engine.close()
            throw error
        }
        output.seconds = (ContinuousClock.now - started).inSeconds
        try engine.close()
        // The engine answers with the newest snapshot when it covers the last record already.
        output.written =
            recovery.snapshot.map {
                $0.sequence != info.sequence || $0.createdUnixNanoseconds != info.createdUnixNanoseconds
            } ?? true
        output.file =
            path.appending(DataDirectory.snapshotsName).appending(SnapshotFile.name(sequence: info.sequence))
            .string
        output.sequence = info.sequence
        output.recordedTimeNanoseconds = info.recordedTime.nanosecondsSinceEpoch
        output.transactions = info.transactions
        output.accounts = info.accounts
        output.openHolds = info.openHolds
        output.retainedKeys = info.retainedKeys
        output.compressedBytes = info.compressedBytes
        output.uncompressedBytes = info.uncompressedBytes
        output.fileBytes = info.fileBytes
        output.digest = info.digest.description
    }

    private func printHuman(_ output: Output) {
        for rejected in output.rejectedSnapshots {
            print("warning: recovery passed over snapshot \(rejected)")
        }
        guard let file = output.file, let sequence = output.sequence, output.error == nil else {
            print("snapshot of \(output.dataDirectory): NOT WRITTEN")
            print("  \(output.error ?? "unknown error")")
            return
        }
        if output.written ?? true {
            print("wrote \(file) in \(String(format: "%.3f", output.seconds ?? 0)) s")
        } else {
            print("\(file) already covers every journal record: nothing written")
        }
        print(
            "  sequence \(sequence) (the last journal record included), recorded time \(iso8601(nanoseconds: output.recordedTimeNanoseconds ?? 0))"
        )
        print(
            "  \(output.transactions ?? 0) transactions, \(output.accounts ?? 0) accounts, \(output.openHolds ?? 0) open holds, \(output.retainedKeys ?? 0) retained keys"
        )
        let compressed = output.compressedBytes ?? 0
        let uncompressed = output.uncompressedBytes ?? 0
        print(
            "  \(compressed) bytes compressed of \(uncompressed) (ratio \(ratio(uncompressed, compressed))), file \(output.fileBytes ?? 0) bytes"
        )
        print("  state digest \(output.digest ?? "")")
        print(
            "  opened after replaying \(output.recoveredRecords ?? 0) journal records in \(String(format: "%.3f", output.recoverySeconds ?? 0)) s"
                + (output.recoveredFromSnapshot.map { " on top of the snapshot through sequence \($0)" } ?? "")
        )
    }
}

// MARK: - verify

struct SnapshotVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check snapshots byte by byte, decode them whole and recompute their state digests.",
        discussion: """
            Checks every snapshot of the data directory, or the files named (decoded with the data \
            directory's ledger settings): header, section table and section checksums, every zstd \
            frame, a full decode with every check, the state digest recomputed against the stored one, \
            and the header's counts against the restored state. With --replay, the data directory's \
            journal is also replayed from empty through each snapshot's sequence, and the state must \
            have the snapshot's digest: the proof that a snapshot is exactly what the audit log says.

            Never writes, and does not take the directory's lock, so it can run beside a server: a \
            snapshot never changes once it has its name, and the journal records it includes were \
            durable before it got it.

            Exit status: 0 when every snapshot is sound, 1 when any is damaged or disagrees with the \
            journal (every file is still reported), 3 when the command cannot run (no data directory, \
            no ledger settings, a file that cannot be read).
            """
    )

    @Option(name: .long, help: "The data directory: its snapshots, ledger settings and journal.")
    var dataDirectory = "tally-data"

    @Argument(help: "Snapshot files to verify instead of the data directory's.")
    var files: [String] = []

    @Flag(name: .long, help: "Also replay the journal from empty and compare the state digest at each snapshot.")
    var replay = false

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    struct Output: Encodable {
        var dataDirectory: String
        var ok: Bool
        var replay: Bool
        var settings: String?
        var snapshots: [Checked]
        var verified: Int
        var damaged: Int
        var unreadable: Int
        var journalRecordsReplayed: UInt64?
        var replaySeconds: Double?
        var error: String?

        struct Checked: Encodable {
            var file: String
            /// `ok`, `damaged` or `unreadable`.
            var status: String
            var sequence: UInt64?
            var transactions: UInt64?
            var accounts: UInt64?
            var openHolds: UInt64?
            var retainedKeys: UInt64?
            var fileBytes: Int64?
            var digest: String?
            /// The digest of the journal replayed through `sequence` (with --replay).
            var replayedDigest: String?
            var seconds: Double
            var error: String?
            var errorOffset: Int64?
        }
    }

    func run() throws {
        var output = Output(
            dataDirectory: self.dataDirectory,
            ok: false,
            replay: self.replay,
            snapshots: [],
            verified: 0,
            damaged: 0,
            unreadable: 0
        )
        var exit: ExitCode
        do {
            try self.verify(into: &output)
            output.verified = output.snapshots.count { $0.status == "ok" }
            output.damaged = output.snapshots.count { $0.status == "damaged" }
            output.unreadable = output.snapshots.count { $0.status == "unreadable" }
            output.ok = output.damaged == 0 && output.unreadable == 0
            exit =
                output.damaged > 0
                ? SnapshotExitCode.damaged : output.unreadable > 0 ? SnapshotExitCode.unusable : .success
        } catch let failure as SnapshotCommandFailure {
            output.error = failure.description
            exit = failure.exit
        } catch {
            output.error = "\(error)"
            exit = SnapshotExitCode.of(error)
        }
        if self.json {
            JSONOutput.print(output)
        } else {
            self.printHuman(output)
        }
        throw exit
    }

    private func verify(into output: inout Output) throws {
        let fileSystem = ReadOnlyFileSystem()
        let path = FilePath(self.dataDirectory)
        if !self.files.isEmpty && !fileSystem.fileExists(path) {
            throw SnapshotCommandFailure(
                exit: SnapshotExitCode.unusable,
                description:
                    "there is no data directory at \(path): files are decoded with a data directory's ledger settings (--data-directory)"
            )
        }
        let stored = try storedLedgerConfiguration(path, fileSystem: fileSystem)
        output.settings = stored.summary
        let paths: [FilePath]
        if self.files.isEmpty {
            let directory = path.appending(DataDirectory.snapshotsName)
            paths = try SnapshotCatalog(directory: directory, fileSystem: fileSystem).snapshots()
                .map { directory.appending($0.name) }
        } else {
            paths = self.files.map { FilePath($0) }
        }
        var infos: [Int: SnapshotFile.Info] = [:]
        for (index, file) in paths.enumerated() {
            let started = ContinuousClock.now
            var checked = Output.Checked(file: file.string, status: "ok", seconds: 0)
            do {
                let info = try SnapshotVerification.verify(
                    file,
                    configuration: stored.configuration,
                    fileSystem: fileSystem
                )
                infos[index] = info
                checked.sequence = info.sequence
                checked.transactions = info.transactions
                checked.accounts = info.accounts
                checked.openHolds = info.openHolds
                checked.retainedKeys = info.retainedKeys
                checked.fileBytes = info.fileBytes
                checked.digest = info.digest.description
            } catch {
                checked.status = SnapshotExitCode.of(error) == SnapshotExitCode.damaged ? "damaged" : "unreadable"
                checked.error = "\(error)"
                checked.errorOffset = (error as? StorageError)?.offset
            }
            checked.seconds = (ContinuousClock.now - started).inSeconds
            output.snapshots.append(checked)
        }
        guard self.replay, !infos.isEmpty else { return }
        let started = ContinuousClock.now
        let replay = SnapshotVerification.replay(
            journal: path.appending(DataDirectory.journalName),
            configuration: stored.configuration,
            digestsAt: Set(infos.values.map(\.sequence)),
            fileSystem: fileSystem
        )
        output.replaySeconds = (ContinuousClock.now - started).inSeconds
        output.journalRecordsReplayed = replay.records
        for (index, info) in infos {
            if let digest = replay.digests[info.sequence] {
                output.snapshots[index].replayedDigest = digest.description
                if digest != info.digest {
                    output.snapshots[index].status = "damaged"
                    output.snapshots[index].error =
                        "replaying the journal from empty through sequence \(info.sequence) gives the state digest \(digest); the snapshot holds \(info.digest)"
                }
            } else if let failure = replay.failure {
                output.snapshots[index].status =
                    SnapshotExitCode.of(failure) == SnapshotExitCode.damaged ? "damaged" : "unreadable"
                output.snapshots[index].error =
                    "the journal does not replay through sequence \(info.sequence) (replayed through \(replay.lastSequence)): \(failure)"
            } else {
                preconditionFailure("the replay neither reached sequence \(info.sequence) nor said why")
            }
        }
    }

    private func printHuman(_ output: Output) {
        if let error = output.error {
            print("snapshots of \(output.dataDirectory): NOT VERIFIED")
            print("  \(error)")
            return
        }
        guard !output.snapshots.isEmpty else {
            print("snapshots of \(output.dataDirectory): none to verify")
            return
        }
        var summary =
            "snapshots of \(output.dataDirectory): \(output.ok ? "ok" : output.damaged > 0 ? "DAMAGED" : "NOT ALL READ"), \(output.verified) of \(output.snapshots.count) sound"
        if let records = output.journalRecordsReplayed {
            summary += ", \(records) journal records replayed in \(String(format: "%.3f", output.replaySeconds ?? 0)) s"
        }
        print(summary)
        for checked in output.snapshots {
            let status = checked.status == "ok" ? "ok" : checked.status.uppercased()
            print("  \(status.padded(to: 10)) \(checked.file)  (\(String(format: "%.3f", checked.seconds)) s)")
            if let sequence = checked.sequence, checked.status == "ok" {
                print(
                    "             sequence \(sequence), \(checked.transactions ?? 0) transactions, \(checked.accounts ?? 0) accounts, digest \(checked.digest ?? "")"
                        + (checked.replayedDigest == nil ? "" : " (the journal's replay agrees)")
                )
            }
            if let error = checked.error {
                print("             \(error)")
            }
        }
        if let settings = output.settings {
            print("  decoded with the ledger settings of \(output.dataDirectory): \(settings)")
        }
    }
}

// MARK: - inspect

struct SnapshotInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a snapshot's header and section table, or list a data directory's snapshots.",
        discussion: """
            Reads and checks the header, the section table and the trailer only (`tally snapshot \
            verify` checks the sections). Never writes and takes no lock. Exit status: 0 when every \
            file shown checks out, 1 when one is damaged, 3 when the directory or file cannot be read.
            """
    )

    @Option(name: .long, help: "The data directory whose snapshots to list.")
    var dataDirectory = "tally-data"

    @Argument(help: "A snapshot file to show in full (default: list the data directory's snapshots).")
    var file: String?

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    /// One snapshot file: what its header and section table say, or why they could not be read.
    struct Described: Encodable {
        var file: String
        var ok: Bool
        var error: String?
        var formatVersion: UInt16?
        var stateVersion: UInt16?
        var sequence: UInt64?
        var recordedTimeNanoseconds: UInt64?
        var createdUnixNanoseconds: UInt64?
        var transactions: UInt64?
        var accounts: UInt64?
        var openHolds: UInt64?
        var retainedKeys: UInt64?
        var digest: String?
        var fileBytes: Int64?
        var compressedBytes: Int64?
        var uncompressedBytes: Int64?
        var sections: [Section]?

        struct Section: Encodable {
            var name: String
            var id: UInt16
            var offset: Int64
            var compressedBytes: Int64
            var uncompressedBytes: Int64
            var ratio: Double
            /// CRC-32C of the compressed bytes, 8 hexadecimal digits.
            var checksum: String
        }

        init(file: FilePath, error: any Error) {
            self.file = file.string
            self.ok = false
            self.error = "\(error)"
        }

        init(file: FilePath, info: SnapshotFile.Info) {
            self.file = file.string
            self.ok = true
            self.formatVersion = info.formatVersion
            self.stateVersion = info.stateVersion
            self.sequence = info.sequence
            self.recordedTimeNanoseconds = info.recordedTime.nanosecondsSinceEpoch
            self.createdUnixNanoseconds = info.createdUnixNanoseconds
            self.transactions = info.transactions
            self.accounts = info.accounts
            self.openHolds = info.openHolds
            self.retainedKeys = info.retainedKeys
            self.digest = info.digest.description
            self.fileBytes = info.fileBytes
            self.compressedBytes = info.compressedBytes
            self.uncompressedBytes = info.uncompressedBytes
            self.sections = info.sections.map {
                let checksum = String($0.checksum, radix: 16)
                return Section(
                    name: $0.section.description,
                    id: $0.section.rawValue,
                    offset: $0.offset,
                    compressedBytes: $0.compressedBytes,
                    uncompressedBytes: $0.uncompressedBytes,
                    ratio: ratio($0.uncompressedBytes, $0.compressedBytes),
                    checksum: String(repeating: "0", count: 8 - checksum.count) + checksum
                )
            }
        }

        /// Reads `file`'s header, section table and trailer; the exit code is 1 for damage, 3 when
        /// the file cannot be read.
        static func inspect(_ file: FilePath, fileSystem: any FileSystem) -> (Described, ExitCode) {
            do {
                return (Described(file: file, info: try SnapshotFile.inspect(file, fileSystem: fileSystem)), .success)
            } catch {
                return (Described(file: file, error: error), SnapshotExitCode.of(error))
            }
        }
    }

    struct Listing: Encodable {
        var dataDirectory: String
        var ok: Bool
        /// Newest first.
        var snapshots: [Described]
        var error: String?
    }

    func run() throws {
        let fileSystem = ReadOnlyFileSystem()
        if let file = self.file {
            let (described, exit) = Described.inspect(FilePath(file), fileSystem: fileSystem)
            if self.json {
                JSONOutput.print(described)
            } else {
                self.printFull(described)
            }
            throw exit
        }
        var listing = Listing(dataDirectory: self.dataDirectory, ok: false, snapshots: [])
        var exit = ExitCode.success
        let path = FilePath(self.dataDirectory)
        do {
            guard fileSystem.fileExists(path) else { throw SnapshotCommandFailure.noDataDirectory(path) }
            let directory = path.appending(DataDirectory.snapshotsName)
            for snapshot in try SnapshotCatalog(directory: directory, fileSystem: fileSystem).snapshots() {
                let (described, fileExit) = Described.inspect(
                    directory.appending(snapshot.name),
                    fileSystem: fileSystem
                )
                // Damage outranks a file that could not be read.
                if fileExit == SnapshotExitCode.damaged || exit == .success {
                    exit = fileExit
                }
                listing.snapshots.append(described)
            }
            listing.ok = listing.snapshots.allSatisfy(\.ok)
        } catch let failure as SnapshotCommandFailure {
            listing.error = failure.description
            exit = failure.exit
        } catch {
            listing.error = "\(error)"
            exit = SnapshotExitCode.of(error)
        }
        if self.json {
            JSONOutput.print(listing)
        } else {
            self.printListing(listing)
        }
        throw exit
    }

    private func printFull(_ described: Described) {
        print("snapshot \(described.file)")
        guard described.ok, let sections = described.sections else {
            print("  DAMAGED OR UNREADABLE: \(described.error ?? "unknown error")")
            return
        }
        let compressed = described.compressedBytes ?? 0
        let uncompressed = described.uncompressedBytes ?? 0
        print("  format version \(described.formatVersion ?? 0), ledger state version \(described.stateVersion ?? 0)")
        print("  sequence       \(described.sequence ?? 0) (the last journal record included)")
        let recorded = described.recordedTimeNanoseconds ?? 0
        print("  recorded time  \(iso8601(nanoseconds: recorded)) (\(recorded) ns, engine time)")
        let created = described.createdUnixNanoseconds ?? 0
        print("  created        \(iso8601(nanoseconds: created)) (\(created) ns, wall clock)")
        print(
            "  counts         \(described.transactions ?? 0) transactions, \(described.accounts ?? 0) accounts, \(described.openHolds ?? 0) open holds, \(described.retainedKeys ?? 0) retained keys"
        )
        print("  state digest   \(described.digest ?? "")")
        print(
            "  file bytes     \(described.fileBytes ?? 0) (sections \(compressed) compressed, \(uncompressed) uncompressed, ratio \(ratio(uncompressed, compressed)))"
        )
        print(
            "  \("section".padded(to: 13)) \("offset".leftPadded(to: 10)) \("compressed".leftPadded(to: 12)) \("uncompressed".leftPadded(to: 13)) \("ratio".leftPadded(to: 7))  crc32c"
        )
        for section in sections {
            print(
                "  \(section.name.padded(to: 13)) \(String(section.offset).leftPadded(to: 10)) \(String(section.compressedBytes).leftPadded(to: 12)) \(String(section.uncompressedBytes).leftPadded(to: 13)) \(String(section.ratio).leftPadded(to: 7))  \(section.checksum)"
            )
        }
    }

    private func printListing(_ listing: Listing) {
        if let error = listing.error {
            print("snapshots of \(listing.dataDirectory): \(error)")
            return
        }
        let count = listing.snapshots.count
        print(
            "\(count) snapshot\(count == 1 ? "" : "s") in \(FilePath(listing.dataDirectory).appending(DataDirectory.snapshotsName))"
                + (count > 1 ? ", newest first" : "")
        )
        for described in listing.snapshots {
            let name = FilePath(described.file).lastComponent?.string ?? described.file
            guard described.ok else {
                print("  \(name)  DAMAGED OR UNREADABLE: \(described.error ?? "unknown error")")
                continue
            }
            print(
                "  \(name)  sequence \(described.sequence ?? 0)  recorded \(iso8601(nanoseconds: described.recordedTimeNanoseconds ?? 0))  \(described.transactions ?? 0) transactions  \(described.accounts ?? 0) accounts  \(described.fileBytes ?? 0) bytes (ratio \(ratio(described.uncompressedBytes ?? 0, described.compressedBytes ?? 0)))  created \(iso8601(nanoseconds: described.createdUnixNanoseconds ?? 0))"
            )
        }
    }
}
