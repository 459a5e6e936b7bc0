import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage

/// One run of the crash-test child: recover, set up, resend what the previous run left unanswered,
/// then submit from ``CrashChildArguments/submitters`` concurrent tasks until killed.
///
/// Time is a ``VirtualClock``, not the system clock: each submitter moves it about a second per
/// batch, so that holds with timeouts of seconds to minutes come due (and are swept and journaled by
/// the engine) within a run that lasts a few hundred milliseconds, while the whole test spans hours
/// of engine time, far inside the 7-day transaction retention and the 30-day idempotency window,
/// so nothing acknowledged can leave the ledger by retention. Each run starts the clock at the
/// recovered recorded time, so engine time goes on where the journal ends.
///
/// Files in the acknowledgement directory, per run `r` (six digits) and submitter `s` (two):
/// `run-r.acks` holds the `recovered` line and the setup and resent batches; `run-r-submitter-s.acks`
/// the submitter's durable batches; `run-r-submitter-s.intent` the batch it is sending.
struct CrashChild {
    let arguments: CrashChildArguments

    init(_ arguments: CrashChildArguments) {
        self.arguments = arguments
    }

    func run() async throws {
        self.startWatchdog()
        let clock = VirtualClock(CrashWorkload.start)
        let configuration = Engine.Configuration(
            dataDirectory: self.arguments.dataDirectory,
            journal: Journal.Configuration(segmentBytes: self.arguments.segmentBytes),
            digestAfterRecovery: true,
            snapshotEveryRecords: self.arguments.snapshotEveryRecords,
            snapshotIntervalNanoseconds: nil,
            snapshotsRetained: 2,
            archiveCoveredSegments: true,
            snapshotOnClose: false
        )
        let fileSystem: any FileSystem =
            self.arguments.writeChunkBytes.map {
                ChunkedWriteFileSystem(chunkBytes: $0, pauseMicroseconds: self.arguments.writePauseMicroseconds)
            } ?? SystemFileSystem()
        let (engine, recovery) = try Engine.open(configuration, clock: clock, fileSystem: fileSystem)
        let recorded = try await engine.read { $0.recordedTime }
        clock.set(max(recorded, CrashWorkload.start))

        var runLog = try AcknowledgementLog(self.path("run-\(self.runName).acks"))
        try runLog.logRecovery(
            run: self.arguments.run,
            submitters: self.arguments.submitters,
            recovery: recovery,
            recordedTime: recorded
        )
        let setup = CrashWorkload.setup
        let response = try await engine.submit(setup)
        guard response.results.allSatisfy({ $0.code == .ok }) else {
            throw CrashChildArguments.Invalid(description: "setup failed: \(response.results)")
        }
        try runLog.logDurable(setup, response: response)
        for intent in self.unansweredIntents() {
            let response = try await engine.submit(intent)
            try runLog.logDurable(intent, response: response)
        }

        let openHolds = try await engine.read { $0.openHolds }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for submitter in 0..<self.arguments.submitters {
                group.addTask {
                    try await self.submit(as: submitter, engine: engine, clock: clock, openHolds: openHolds)
                }
            }
            // Submitters run until the process is killed; one returning means one failed.
            try await group.next()
        }
    }

    private func submit(as submitter: Int, engine: Engine, clock: VirtualClock, openHolds: [HoldInfo]) async throws {
        var workload = CrashWorkload(
            seed: self.arguments.seed,
            run: self.arguments.run,
            submitter: submitter,
            openHolds: openHolds
        )
        let name = "run-\(self.runName)-submitter-\(Self.padded(submitter, digits: 2))"
        var log = try AcknowledgementLog(self.path(name + ".acks"))
        var intent = try IntentFile(self.path(name + ".intent"))
        var batch = OperationBatch()
        while true {
            workload.nextBatch(into: &batch)
            try intent.record(batch)
            clock.advance(byNanoseconds: workload.nextClockAdvanceNanoseconds())
            // Odd submitters sync their own records as a server's event loop does (no sync thread
            // wake-up): the kills must find their acknowledged batches too.
            let response = try await submitter % 2 == 1 ? Self.submitSyncingItself(batch, engine) : engine.submit(batch)
            try log.logDurable(batch, response: response)
            workload.observe(response.results)
        }
    }

    /// Submits `batch` for a durable acknowledgement, leaving its journal sync to this thread, and
    /// syncs: the path of `tally serve --sync-on-event-loop`. The reply comes from inside
    /// `syncPending()` when this thread applied the batch, else from the journal's sync thread.
    private static func submitSyncingItself(_ batch: OperationBatch, _ engine: Engine) async throws -> Engine.Response {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Engine.Response, any Error>) in
            engine.submit(batch, syncByCaller: true) { continuation.resume(with: $0.mapError { $0 as any Error }) }
            engine.syncPending()
        }
    }

    /// The intents of the latest earlier run that left any, by submitter: the batches that run was
    /// sending when it was killed (or had just been answered; resending those only replays).
    private func unansweredIntents() -> [OperationBatch] {
        let directory = self.arguments.acknowledgementDirectory.string
        var byRun: [UInt64: [String]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix("run-") && name.hasSuffix(".intent") {
            if let run = UInt64(name.dropFirst(4).prefix(6)), run < self.arguments.run {
                byRun[run, default: []].append(name)
            }
        }
        for run in byRun.keys.sorted(by: >) {
            let intents = byRun[run]!.sorted().compactMap { IntentFile.read(self.path($0)) }
            if !intents.isEmpty {
                return intents
            }
        }
        return []
    }

    private var runName: String { Self.padded(Int(self.arguments.run), digits: 6) }

    private func path(_ name: String) -> FilePath {
        self.arguments.acknowledgementDirectory.appending(name)
    }

    private static func padded(_ value: Int, digits: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Exits the process after ``CrashChildArguments/lifetimeSeconds``, in case the test that
    /// should kill it died first.
    private func startWatchdog() {
        let seconds = self.arguments.lifetimeSeconds
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: TimeInterval(seconds))
            FileHandle.standardError.write(Data("TallyCrashChild: not killed within \(seconds) s; exiting\n".utf8))
            exit(3)
        }
    }
}
