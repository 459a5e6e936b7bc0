import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage
import TallyTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Durability proven by killing real processes.
///
/// `TallyCrashChild` (Sources/TallyCrashChild) runs a durable engine under a seeded concurrent
/// workload and logs every operation acknowledged as durable. The test starts it, kills it with
/// SIGKILL at a seeded random moment, then checks the data directory as the kill left it. A quarter
/// of the kills come 3 to 300 ms after the start (in process startup or journal recovery), the
/// rest 1 to 300 ms after the child logged its recovery (in the setup, the resending of the last
/// run's unanswered batches, or the workload with its syncs and segment rotations); half the runs
/// write in small chunks with pauses, so that some kills tear a journal write (see
/// Sources/TallyCrashChild/ChunkedWriteFileSystem.swift). The checks:
/// - `JournalInspection.verify` of the directory (read-only) and `Engine.open` of a copy of it both
///   replay the journal and must reach the same digest and the same torn tail, if any;
/// - every logged operation is in the recovered ledger under its idempotency key with the same
///   code, transaction id and detail (a logged replay must match the original it replayed), and
///   every logged batch's journal sequence is there with the same operation count;
/// - `checkInvariants()` is empty;
/// - the next run's own recovery of the directory reports the same digest.
/// Then it restarts the child on the same directory and does it again. Every `killsPerDirectory`
/// kills it starts over in a fresh directory, which keeps recovery short (a few thousand records)
/// so that the kill moments stay spread over startup, recovery and the workload.
///
/// Decisions (kill moments, submitters per run, the children's seeds) come from one seed; process
/// timing does not, so two runs with one seed kill at the same moments but not at the same records.
/// `TALLY_CRASH_SEED` and `TALLY_CRASH_KILLS` override the seed and the number of kills. A failure
/// names the seed, the kill and the work directory, which is kept for inspection (it holds the
/// data directories, the acknowledgement logs and the children's output).
///
/// The child binary is the one built next to the running test executable (see `BuiltProduct` in
/// TallyTestKit); `TALLY_CRASH_CHILD` overrides the path.
@Suite(.serialized)
struct CrashTests {
    static let defaultSeed: UInt64 = 0xC4A5_4ED1_7A11_0001
    static let defaultKills = 60
    static let killsPerDirectory = 6

    @Test(.timeLimit(.minutes(5)))
    func acknowledgedOperationsSurviveSIGKILLAtRandomMoments() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["TALLY_CRASH_SEED"].flatMap { UInt64($0) } ?? Self.defaultSeed
        let kills = environment["TALLY_CRASH_KILLS"].flatMap { Int($0) } ?? Self.defaultKills
        let child = try #require(CrashChildBinary.locate(), "TallyCrashChild was not built next to the tests")
        let work = FileManager.default.temporaryDirectory
            .appendingPathComponent("tally-crash-\(String(seed, radix: 16))-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

        var crash = CrashRun(seed: seed, child: child, work: work)
        let started = ContinuousClock.now
        var failure: String? = nil
        for kill in 1...kills {
            do {
                let problems = try await crash.killAndVerify(kill: kill, directory: (kill - 1) / Self.killsPerDirectory)
                if !problems.isEmpty {
                    failure = problems.prefix(20).joined(separator: "\n")
                }
            } catch {
                failure = "\(error)"
            }
            if let failure {
                Issue.record(
                    """
                    crash test failed: seed \(seed) (TALLY_CRASH_SEED=\(seed)), kill \(kill) of \(kills), \
                    work directory \(work) (kept)
                    \(failure)
                    """
                )
                break
            }
        }
        let elapsed = ContinuousClock.now - started
        print(crash.statistics.summary(seed: seed, kills: kills, elapsed: elapsed))
        if failure == nil {
            try? FileManager.default.removeItem(atPath: work)
            #expect(crash.statistics.acknowledgedChecks > 0)
            #expect(crash.statistics.acknowledgedLost == 0)
            if kills >= Self.defaultKills {
                #expect(crash.statistics.killsDuringSnapshotWrite > 0)
                #expect(crash.statistics.childRecoveriesFromSnapshot > 0)
                #expect(crash.statistics.archivedSegmentsMax > 0)
            }
        }
    }
}

/// What the runs did and found, for the summary.
struct CrashStatistics {
    var kills = 0
    /// Kills that came before the child had finished recovery (no `recovered` line).
    var killsBeforeRecovered = 0
    /// Kills that came before the journal directory existed (nothing to check).
    var killsBeforeJournal = 0
    /// Kills after which the journal ended in a torn record (a write cut short).
    var killsWithTornTail = 0
    /// Of those, kills of runs that wrote through the file system as it is (not in chunks).
    var killsWithTornTailUnchunked = 0
    /// Kills after which the journal held client batches that no log acknowledged: the kill came
    /// between a batch's write and its acknowledgement (during the sync or just after it).
    var killsWithUnacknowledgedBatches = 0
    var unacknowledgedBatches = 0
    /// Segments the runs started (each one a rotation, but for the first of each directory).
    var segmentsCreated = 0
    /// Runs whose own recovery cut a torn tail.
    var childRecoveriesWithTornTail = 0
    var segmentsMax = 0
    var recordsMax: UInt64 = 0
    /// Acknowledged operations logged (distinct keys) and lookups made (every kill rechecks them all).
    var acknowledgedOperations = 0
    var acknowledgedChecks = 0
    var acknowledgedReplaysChecked = 0
    var acknowledgedLost = 0
    var batchesChecked = 0
    var tornLogLines = 0
    var codes: [UInt16: Int] = [:]
    /// Kills timed from the child's recovery rather than its start.
    var killsTimedFromRecovery = 0
    /// When each kill came, after the child's start.
    var killMomentsMilliseconds: [Int] = []
    /// Time spent checking after the kills, and in its two replays.
    var checking = Duration.zero
    var verifying = Duration.zero
    var opening = Duration.zero
    /// Kills timed to land while a snapshot file is written, and kills after which an unfinished
    /// snapshot (or archive copy) was found; child recoveries that started from a snapshot.
    var killsAimedAtSnapshots = 0
    var killsDuringSnapshotWrite = 0
    var killsDuringArchiving = 0
    var childRecoveriesFromSnapshot = 0
    var archivedSegmentsMax = 0

    func summary(seed: UInt64, kills: Int, elapsed: Duration) -> String {
        let rejected = self.codes.filter { $0.key != 0 }.values.reduce(0, +)
        let delays = self.killMomentsMilliseconds.sorted()
        let spread = delays.isEmpty ? "" : "\(delays.first!)-\(delays.last!) ms (median \(delays[delays.count / 2]))"
        return """
            crash test: seed \(seed), \(self.kills) of \(kills) kills in \(elapsed)
              kills after the start: \(spread); \(self.killsTimedFromRecovery) timed from the child's recovery
              kills before recovery finished: \(self.killsBeforeRecovered) (before the journal existed: \(self.killsBeforeJournal))
              kills with a torn journal tail: \(self.killsWithTornTail) (\(self.killsWithTornTailUnchunked) without chunked \
            writes); child recoveries that cut one: \(self.childRecoveriesWithTornTail)
              kills with unacknowledged batches on disk: \(self.killsWithUnacknowledgedBatches) (\(self.unacknowledgedBatches) batches)
              segments created: \(self.segmentsCreated); most in one directory \(self.segmentsMax), records \(self.recordsMax)
              acknowledged operations: \(self.acknowledgedOperations) (\(rejected) rejections among them), \
            lookups \(self.acknowledgedChecks) (\(self.acknowledgedReplaysChecked) of logged replays), \
            batches checked \(self.batchesChecked), acknowledged_lost \(self.acknowledgedLost)
              snapshots: kills aimed at a snapshot write \(self.killsAimedAtSnapshots), kills that left an unfinished \
            snapshot \(self.killsDuringSnapshotWrite) or archive copy \(self.killsDuringArchiving); child recoveries from a \
            snapshot \(self.childRecoveriesFromSnapshot); most archived segments \(self.archivedSegmentsMax)
              torn log lines ignored: \(self.tornLogLines)
              checking took \(self.checking) (verify \(self.verifying), engine open \(self.opening))
            """
    }
}

/// The state of one crash test across kills.
struct CrashRun {
    /// What one acknowledged operation must keep answering.
    struct Expected: Sendable {
        var code: UInt16
        var transaction: UInt64
        var detail: UInt16
        var replays: Int
        var origin: String
    }

    /// One data directory and its logs, restarted on `killsPerDirectory` times.
    struct Directory {
        var index: Int
        var data: String
        var acknowledgements: String
        var expected: [UInt128: Expected] = [:]
        /// Logged batches by journal sequence: operation count and lines seen.
        var batches: [UInt64: (count: Int, seen: Int)] = [:]
        var lastSequence: UInt64 = 0
        var segments = 0
        var setupLogged = false
        /// The digest the last check found, which the next run's recovery must report too.
        var digest: StateDigest? = nil
    }

    let seed: UInt64
    let child: String
    let work: String
    var random: SeededRandom
    var statistics = CrashStatistics()
    var directory: Directory? = nil
    var run: UInt64 = 0

    init(seed: UInt64, child: String, work: String) {
        self.seed = seed
        self.child = child
        self.work = work
        self.random = SeededRandom(seed: seed)
    }

    /// Starts the child, kills it, and checks the directory; returns what is wrong.
    static func hasUnfinishedFile(in directory: String, suffix: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).contains { $0.hasSuffix(suffix) }
    }

    mutating func killAndVerify(kill: Int, directory index: Int) async throws -> [String] {
        if self.directory?.index != index {
            let base = "\(self.work)/directory-\(index)"
            try FileManager.default.createDirectory(atPath: base + "/acks", withIntermediateDirectories: true)
            self.directory = Directory(index: index, data: base + "/data", acknowledgements: base + "/acks")
        }
        var directory = self.directory!
        defer { self.directory = directory }
        self.run += 1
        let run = self.run

        // Decisions first, all from the seed. A quarter of the kills are timed from the start, and
        // land in process startup or recovery (which takes longer as the journal grows); the rest
        // from the moment the child logs its recovery, and land in the workload.
        // Half the runs write in 512-byte chunks with pauses, so that some kills tear a journal write (see
        // ChunkedWriteFileSystem); the other half use the file system as it is.
        let submitters = 2 + Int(self.random.next() % 5)
        let fromRecovery = self.random.next() % 4 != 0
        let delayMilliseconds =
            fromRecovery
            ? 1 + Int(self.random.next() % 300)
            : (self.random.next() % 2 == 0 ? 3 + Int(self.random.next() % 37) : 40 + Int(self.random.next() % 260))
        let chunked = self.random.next() % 2 == 0
        let childSeed = self.random.next()
        // Half the runs snapshot every few records (keeping two and archiving the journal they
        // cover); a third of those are killed as soon as a snapshot file is being written.
        let snapshotEvery = self.random.next() % 2 == 0 ? 3 + Int(self.random.next() % 20) : nil
        let killInSnapshot = snapshotEvery != nil && fromRecovery && self.random.next() % 3 == 0

        let started = ContinuousClock.now
        let process = try ChildProcess.spawn(
            self.child,
            [directory.data, String(childSeed), String(submitters), directory.acknowledgements, String(run)]
                + (chunked ? ["--write-chunk-bytes", "512", "--write-pause-microseconds", "20"] : [])
                + (snapshotEvery.map { ["--snapshot-every-records", String($0)] } ?? []),
            output: "\(self.work)/child-output.log"
        )
        // From here to the kill the test blocks its thread instead of awaiting: the suite runs
        // beside long synchronous tests on a two-thread cooperative pool, and an awaited sleep
        // resumed only when a pool thread came free (kills planned at 1-300 ms landed after 15 s
        // and more, on directories grown so large that checking them overran the time limit).
        var anchor = started
        if fromRecovery {
            let runLog = "\(directory.acknowledgements)/run-\(AcknowledgementLine.padded(run, digits: 6)).acks"
            while !((try? String(contentsOfFile: runLog, encoding: .utf8))?.contains("\n") ?? false) {
                guard process.isRunning, ContinuousClock.now - started < .seconds(30) else {
                    _ = process.killAndWait()
                    return ["run \(run): the child never logged its recovery; see \(self.work)/child-output.log"]
                }
                usleep(1_000)
            }
            anchor = ContinuousClock.now
            self.statistics.killsTimedFromRecovery += 1
        }
        var killAt = anchor + .milliseconds(delayMilliseconds)
        if killInSnapshot {
            // Kill as soon as a snapshot's temporary file appears (or after 10 s without one).
            let snapshots = directory.data + "/" + DataDirectory.snapshotsName
            while process.isRunning && ContinuousClock.now - anchor < .seconds(10)
                && !Self.hasUnfinishedFile(in: snapshots, suffix: ".tsnap.tmp")
            {
                usleep(100)
            }
            killAt = ContinuousClock.now
            self.statistics.killsAimedAtSnapshots += 1
        }
        while ContinuousClock.now < killAt {
            usleep(UInt32(max(1, min(1_000, (killAt - ContinuousClock.now) / .microseconds(1)))))
        }
        guard process.isRunning else {
            let status = process.killAndWait()
            return [
                "run \(run): the child ended by itself (\(status)) before the kill; see \(self.work)/child-output.log"
            ]
        }
        let killedAfter = ContinuousClock.now - started
        let status = process.killAndWait()
        guard status.signal == SIGKILL else {
            return ["run \(run): the child ended with \(status), not by the SIGKILL"]
        }
        self.statistics.kills += 1
        self.statistics.killMomentsMilliseconds.append(Int(killedAfter / .milliseconds(1)))
        if Self.hasUnfinishedFile(in: directory.data + "/" + DataDirectory.snapshotsName, suffix: ".tsnap.tmp") {
            self.statistics.killsDuringSnapshotWrite += 1
        }
        let archive = directory.data + "/" + DataDirectory.journalName + "/" + JournalArchive.directoryName
        if Self.hasUnfinishedFile(in: archive, suffix: ".zst.tmp") {
            self.statistics.killsDuringArchiving += 1
        }
        let archived = (try? FileManager.default.contentsOfDirectory(atPath: archive))?.count ?? 0
        self.statistics.archivedSegmentsMax = max(self.statistics.archivedSegmentsMax, archived)

        let checkStarted = ContinuousClock.now
        defer { self.statistics.checking += ContinuousClock.now - checkStarted }
        var problems: [String] = []
        let previousSequence = directory.lastSequence
        let reading = try Self.readLogs(of: run, in: &directory, problems: &problems)
        self.statistics.tornLogLines += reading.tornLines
        if reading.recovered == nil {
            self.statistics.killsBeforeRecovered += 1
        }
        if let recovered = reading.recovered {
            if recovered["torn-sequence"] != "0" {
                self.statistics.childRecoveriesWithTornTail += 1
            }
            if let snapshot = recovered["snapshot-sequence"], snapshot != "0" {
                self.statistics.childRecoveriesFromSnapshot += 1
            }
            if recovered["rejected-snapshots"] != "0" {
                problems.append("run \(run): its recovery passed over damaged snapshots: \(recovered)")
            }
            // The child's own recovery of the directory, in its own process, reached the state the
            // last check found.
            if let digest = directory.digest, recovered["digest"] != digest.description {
                problems.append(
                    "run \(run): its recovery reports digest \(recovered["digest"] ?? "none"), the last check found \(digest)"
                )
            }
        }
        for expected in reading.newKeys.values {
            self.statistics.codes[expected.code, default: 0] += 1
        }
        self.statistics.acknowledgedOperations += reading.newKeys.count

        let journal = directory.data + "/" + DataDirectory.journalName
        guard FileManager.default.fileExists(atPath: journal) else {
            self.statistics.killsBeforeJournal += 1
            if !directory.expected.isEmpty || !directory.batches.isEmpty {
                problems.append("run \(run): the journal directory is gone, but operations were acknowledged")
            }
            return problems
        }

        // 1. Verify the directory as the kill left it (read-only: a torn tail stays for the next run
        //    to cut), and recover a copy of it with an engine.
        let copy = "\(self.work)/copy"
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: directory.data, toPath: copy)
        var phase = ContinuousClock.now
        let report = try JournalInspection.verify(dataDirectory: FilePath(directory.data))
        self.statistics.verifying += ContinuousClock.now - phase
        phase = ContinuousClock.now
        problems += report.invariantViolations.map { "run \(run): verify: invariant violated: \($0)" }
        let (engine, recovery) = try Engine.open(
            Engine.Configuration(dataDirectory: FilePath(copy), digestAfterRecovery: true, snapshotOnClose: false),
            // Engine time zero: the checking engine must not journal expiries of its own.
            clock: VirtualClock(.zero)
        )
        self.statistics.opening += ContinuousClock.now - phase
        if recovery.digest != report.digest {
            problems.append(
                "run \(run): recovery digest \(recovery.digest.map(\.description) ?? "none"), verify digest \(report.digest)"
            )
        }
        if recovery.scan.lastSequence != report.scan.lastSequence || recovery.scan.tornTail != report.scan.tornTail {
            problems.append(
                "run \(run): recovery found last sequence \(recovery.scan.lastSequence ?? 0) and torn tail"
                    + " \(String(describing: recovery.scan.tornTail)), verify \(report.scan.lastSequence ?? 0)"
                    + " and \(String(describing: report.scan.tornTail))"
            )
        }
        let lastSequence = report.scan.lastSequence ?? 0
        if report.scan.tornTail != nil {
            self.statistics.killsWithTornTail += 1
            if !chunked {
                self.statistics.killsWithTornTailUnchunked += 1
            }
        }
        self.statistics.segmentsCreated += report.scan.segments.count - directory.segments
        directory.segments = report.scan.segments.count
        self.statistics.segmentsMax = max(self.statistics.segmentsMax, report.scan.segments.count)
        self.statistics.recordsMax = max(self.statistics.recordsMax, report.scan.records)
        if let acknowledged = directory.batches.keys.max(), acknowledged > lastSequence {
            problems.append("run \(run): batch \(acknowledged) was acknowledged, the journal ends at \(lastSequence)")
        }

        // 2. Every acknowledged operation, by key, with its result.
        let expected = directory.expected
        let setupLogged = directory.setupLogged
        let found = try await engine.read { ledger in
            var lost: [String] = []
            var lookups = 0
            for (key, expected) in expected {
                lookups += 1
                guard let record = ledger.idempotencyRecord(IdempotencyKey(key)) else {
                    lost.append("key \(AcknowledgementLine.hex(key)) (\(expected.origin)) is missing")
                    continue
                }
                let result = record.result
                if result.code.rawValue != expected.code || result.transactionID.rawValue != expected.transaction
                    || result.detail != expected.detail
                {
                    lost.append(
                        "key \(AcknowledgementLine.hex(key)) (\(expected.origin)) was acknowledged as code"
                            + " \(expected.code) tx \(expected.transaction) detail \(expected.detail); the ledger"
                            + " remembers \(result)"
                    )
                }
            }
            if setupLogged {
                for submitter in 0..<16 where ledger.account(AccountID(1_000 + UInt64(submitter))) == nil {
                    lost.append("the setup was acknowledged, but merchant account \(1_000 + submitter) is missing")
                }
            }
            return (lost: lost, lookups: lookups, invariants: ledger.checkInvariants(), time: ledger.recordedTime)
        }
        try engine.close()
        problems += found.lost.prefix(10).map { "run \(run): acknowledged operation lost: \($0)" }
        problems += found.invariants.map { "run \(run): invariant violated after recovery: \($0)" }
        self.statistics.acknowledgedLost += found.lost.count
        self.statistics.acknowledgedChecks += found.lookups
        self.statistics.acknowledgedReplaysChecked += expected.values.reduce(0) { $0 + $1.replays }
        // Nothing acknowledged may leave the ledger by retention either: the runs span hours of
        // engine time, far inside the windows.
        // (A journal without records yet has engine time zero.)
        let seconds = found.time.nanosecondsSinceEpoch / Timestamp.nanosecondsPerSecond
        let span = seconds >= 1_800_000_000 ? seconds - 1_800_000_000 : 0
        if span >= LedgerConfiguration().transactionRetentionSeconds {
            problems.append("run \(run): engine time moved \(span) s, into the retention windows")
        }

        // 3. Every batch this run logged completely is its journal record, with as many operations;
        //    client records the logs never acknowledged are what the kill interrupted.
        var unacknowledged = 0
        _ = try JournalInspection.inspect(dataDirectory: FilePath(copy), from: previousSequence + 1) { summary in
            if let batch = directory.batches[summary.sequence] {
                if batch.seen == batch.count {
                    self.statistics.batchesChecked += 1
                }
                if summary.kind != "client" || (batch.seen == batch.count && summary.operations != batch.count) {
                    problems.append(
                        "run \(run): batch \(summary.sequence) was logged with \(batch.count) operations; the journal"
                            + " holds a \(summary.kind) record of \(summary.operations)"
                    )
                }
            } else if summary.kind == "client" && summary.operations > 0 {
                unacknowledged += 1
            }
        }
        if unacknowledged > 0 {
            self.statistics.killsWithUnacknowledgedBatches += 1
            self.statistics.unacknowledgedBatches += unacknowledged
        }
        if problems.isEmpty {
            try? FileManager.default.removeItem(atPath: copy)
        }
        directory.lastSequence = lastSequence
        directory.digest = report.digest
        return problems
    }

    /// What one run's logs held.
    struct Reading {
        var recovered: [String: String]? = nil
        var newKeys: [UInt128: Expected] = [:]
        var tornLines = 0
    }

    /// Reads the logs `run` wrote and adds them to what `directory` expects.
    static func readLogs(of run: UInt64, in directory: inout Directory, problems: inout [String]) throws -> Reading {
        var reading = Reading()
        let prefix = "run-" + AcknowledgementLine.padded(run, digits: 6)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.acknowledgements)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".acks") }
            .sorted()
        for name in names {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.acknowledgements + "/" + name)))
            let parsed = AcknowledgementLine.parse(bytes)
            reading.tornLines += parsed.tornLines
            problems += parsed.problems.map { "\(name): \($0)" }
            for line in parsed.lines {
                switch line.tag {
                case "recovered":
                    reading.recovered = line.fields
                case "ack":
                    Self.take(line, from: name, into: &directory, reading: &reading, problems: &problems)
                default:
                    problems.append("\(name): unknown line '\(line.tag)'")
                }
            }
        }
        return reading
    }

    private static func take(
        _ line: AcknowledgementLine,
        from name: String,
        into directory: inout Directory,
        reading: inout Reading,
        problems: inout [String]
    ) {
        guard let sequence = line.fields["sequence"].flatMap({ UInt64($0) }),
            let op = line.fields["op"]?.split(separator: "/"), op.count == 2,
            let count = Int(op[1]),
            let key = line.fields["key"].flatMap({ UInt128($0, radix: 16) }),
            let code = line.fields["code"].flatMap({ UInt16($0) }),
            let transaction = line.fields["tx"].flatMap({ UInt64($0) }),
            let detail = line.fields["detail"].flatMap({ UInt16($0) }),
            let replay = line.fields["replay"], let kind = line.fields["kind"]
        else {
            problems.append("\(name): cannot read \(line.fields)")
            return
        }
        var batch = directory.batches[sequence] ?? (count, 0)
        batch.seen += 1
        if batch.count != count || batch.seen > count {
            problems.append("\(name): batch \(sequence) logged inconsistently")
        }
        directory.batches[sequence] = batch
        guard key != 0 else {
            // The keyless setup: creations are idempotent by content; they must have succeeded.
            if code != 0 {
                problems.append("\(name): setup operation \(op[0]) acknowledged with code \(code)")
            }
            directory.setupLogged = true
            return
        }
        // These are never remembered under a key; the workload never provokes them.
        if code == ResultCode.idempotencyKeyInvalid.rawValue || code == ResultCode.idempotencyConflict.rawValue
            || code == ResultCode.linkedChainOpen.rawValue
        {
            problems.append("\(name): key \(AcknowledgementLine.hex(key)) got code \(code), which is not remembered")
            return
        }
        let origin = "\(name) batch \(sequence) op \(op[0]) \(kind)"
        if var known = directory.expected[key] {
            if known.code != code || known.transaction != transaction || known.detail != detail {
                problems.append(
                    "\(origin): key \(AcknowledgementLine.hex(key)) acknowledged as code \(code) tx \(transaction)"
                        + " detail \(detail), earlier as code \(known.code) tx \(known.transaction) detail"
                        + " \(known.detail) (\(known.origin))"
                )
            }
            if replay == "1" {
                known.replays += 1
                directory.expected[key] = known
            }
        } else {
            let expected = Expected(
                code: code,
                transaction: transaction,
                detail: detail,
                replays: replay == "1" ? 1 : 0,
                origin: origin
            )
            directory.expected[key] = expected
            reading.newKeys[key] = expected
        }
    }
}

/// One line of the child's acknowledgement log (format: Sources/TallyCrashChild/AcknowledgementLog.swift),
/// read independently of the child's writer, so that the format is checked, not shared.
struct AcknowledgementLine {
    var tag: String
    var fields: [String: String]

    /// The lines of a log file. The bytes after the last newline are the torn end of a write the
    /// kill cut short, and are ignored; a complete line whose checksum does not match is a problem.
    static func parse(_ bytes: [UInt8]) -> (lines: [AcknowledgementLine], tornLines: Int, problems: [String]) {
        var lines: [AcknowledgementLine] = []
        var problems: [String] = []
        let pieces = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let tornLines = pieces.last!.isEmpty ? 0 : 1
        for (number, piece) in pieces.dropLast().enumerated() {
            let text = String(decoding: piece, as: UTF8.self)
            guard let marker = text.range(of: " crc=", options: .backwards),
                let checksum = UInt32(text[marker.upperBound...], radix: 16)
            else {
                problems.append("line \(number + 1) has no checksum: \(text)")
                continue
            }
            let content = Array(text[..<marker.lowerBound].utf8)
            guard CRC32C.checksum(content) == checksum else {
                problems.append("line \(number + 1) fails its checksum: \(text)")
                continue
            }
            let words = text[..<marker.lowerBound].split(separator: " ")
            var fields: [String: String] = [:]
            for word in words.dropFirst() {
                let parts = word.split(separator: "=", maxSplits: 1)
                if parts.count == 2 {
                    fields[String(parts[0])] = String(parts[1])
                }
            }
            lines.append(AcknowledgementLine(tag: String(words.first ?? ""), fields: fields))
        }
        return (lines, tornLines, problems)
    }

    static func hex(_ value: UInt128) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 32 - digits.count) + digits
    }

    static func padded(_ value: UInt64, digits: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

/// Finds the `TallyCrashChild` executable of this build (see ``CrashTests``).
enum CrashChildBinary {
    static let name = "TallyCrashChild"

    static func locate() -> String? {
        BuiltProduct.locate(Self.name, override: "TALLY_CRASH_CHILD")
    }
}

/// A child process started with `posix_spawn`, its output appended to a file.
struct ChildProcess {
    struct Status: CustomStringConvertible {
        var raw: Int32

        /// The signal that ended the process, or nil if it exited.
        var signal: Int32? {
            let signal = self.raw & 0x7f
            return signal != 0 && signal != 0x7f ? signal : nil
        }

        var description: String {
            if let signal = self.signal { return "signal \(signal)" }
            return "exit status \((self.raw >> 8) & 0xff)"
        }
    }

    struct SpawnFailed: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t

    static func spawn(_ executable: String, _ arguments: [String], output: String) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp {
                free(pointer)
            }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard result == 0 else {
            throw SpawnFailed(description: "posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid)
    }

    /// Whether the process still runs. An exited process stays a zombie until ``killAndWait()``
    /// reaps it, so this can be asked any number of times.
    var isRunning: Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(self.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0
            && info._sifields._kill.si_pid == 0
    }

    /// Sends SIGKILL and reaps the process.
    func killAndWait() -> Status {
        kill(self.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(self.pid, &status, 0) == -1 && errno == EINTR {}
        return Status(raw: status)
    }
}
