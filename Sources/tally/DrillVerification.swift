import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage

/// The offline half of a crash drill, on a data directory no server is using: every snapshot
/// decoded and its digest recomputed; the whole journal replayed from empty (every record must
/// reproduce the results it recorded) and every invariant checked on the result; then the state
/// recovered as `tally serve` recovers it (newest sound snapshot plus the journal after it) must
/// have the same digest as that full replay.
///
/// Recovery opens an engine on the directory, which may cut a torn final write and prepares the
/// next journal segment: run it on a copy of files that matter (``DrillCommand`` does, offline).
enum DrillVerification {
    struct Report {
        var fullReplayDigest: StateDigest?
        var recoveredDigest: StateDigest?
        var records: UInt64 = 0
        var transactions: UInt64 = 0
        var snapshotSequence: UInt64?
        var snapshotsVerified = 0
        var invariantViolations: [String] = []
        /// Problems that stopped or failed a check: damage, a snapshot that does not verify, a
        /// replay that diverged.
        var problems: [String] = []

        var digestMatch: Bool {
            guard let fullReplayDigest, let recoveredDigest else { return false }
            return fullReplayDigest == recoveredDigest
        }

        var isSound: Bool { self.problems.isEmpty && self.invariantViolations.isEmpty && self.digestMatch }
    }

    static func verify(dataDirectory: String) -> Report {
        var report = Report()
        let path = FilePath(dataDirectory)
        do {
            let journal = try JournalInspection.verify(dataDirectory: path)
            report.fullReplayDigest = journal.digest
            report.records = journal.records
            report.transactions = journal.transactions
            report.invariantViolations = journal.invariantViolations
        } catch {
            report.problems.append("replaying the journal from empty: \(error)")
            return report
        }
        do {
            let configuration =
                try SnapshotVerification.storedLedgerConfiguration(dataDirectory: path)?.configuration
                ?? LedgerConfiguration()
            let snapshots = path.appending(DataDirectory.snapshotsName)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshots.string)) ?? []
            for name in names.sorted() where SnapshotFile.sequence(ofName: name) != nil {
                do {
                    _ = try SnapshotVerification.verify(snapshots.appending(name), configuration: configuration)
                    report.snapshotsVerified += 1
                } catch {
                    report.problems.append("snapshot \(name): \(error)")
                }
            }
        } catch {
            report.problems.append("reading the stored ledger settings: \(error)")
        }
        do {
            var configuration = Engine.Configuration(dataDirectory: path)
            configuration.digestAfterRecovery = true
            configuration.snapshotOnClose = false
            configuration.snapshotEveryRecords = nil
            configuration.snapshotIntervalNanoseconds = nil
            configuration.archiveCoveredSegments = false
            let (engine, recovery) = try Engine.open(configuration)
            report.recoveredDigest = recovery.digest
            report.snapshotSequence = recovery.snapshot?.sequence
            for rejected in recovery.rejectedSnapshots {
                report.problems.append("recovery passed over snapshot \(rejected)")
            }
            try engine.close()
        } catch {
            report.problems.append("recovering as the server does: \(error)")
        }
        if report.recoveredDigest != nil && report.fullReplayDigest != nil && !report.digestMatch {
            report.problems.append(
                "the recovered state's digest \(report.recoveredDigest!) differs from the full replay's \(report.fullReplayDigest!)"
            )
        }
        return report
    }
}
