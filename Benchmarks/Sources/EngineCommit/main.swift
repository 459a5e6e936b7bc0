// TallyEngine.Engine over the real file system (SystemFileSystem behind a meter), against the goals
// of issue 3. perf/journal-benchmarks.sh builds and runs it.
//
//   EngineCommit [--runs 5] [--requests 2000] [--seconds 3] [--callers 16,64,256]
//                [--batches 1,100,1000] [--async-callers 64] [--prefill 2000000]
//                [--directory perf/tmp] [--json]
//
// Each run, in one data directory on the file system of --directory:
//   1. the disk floor (as DiskFloor measures it) and one-record commits through Journal alone;
//   2. an engine on a fresh data directory: 10,018 accounts created, --prefill 2-leg transfers
//      (so the idempotency index is at its steady size and evicting, as in the core benchmarks);
//   3. (a) one caller, one 1-operation request at a time, durable acknowledgement: latency with the
//      completion handler, with async/await, and with applied acknowledgement (no disk);
//   4. (b) closed loops of N callers, each with one request of M 2-leg transfers in flight,
//      durable acknowledgement, for every N in --callers and M in --batches: durable postings/s,
//      request latency, syncs/s; completion handlers, and async/await for --async-callers;
//   5. (c) from (b): journal bytes written per second against the floor's sequential bandwidth.
// Figures are medians over runs with the lowest and highest run; ratios are taken within a run.

import CommitBenchmarkSupport
import Dispatch
import Foundation
import LedgerWorkloads
import Synchronization
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage

var options = Options(
    program: "EngineCommit",
    summary: "Durable commit latency and throughput of TallyEngine.Engine, with the disk floor of the same run."
)
options.option("runs", default: "5", "repetitions; figures are medians")
options.option("requests", default: "2000", "one-at-a-time requests timed per latency figure (and floor syncs)")
options.option("seconds", default: "3", "measured seconds per load configuration")
options.option("warmup-seconds", default: "0.5", "unmeasured seconds before each load window")
options.option("callers", default: "16,64,256", "closed-loop callers of the load configurations")
options.option("batches", default: "1,100,1000", "2-leg transfers per request of the load configurations")
options.option("async-callers", default: "64", "callers of the async/await load configurations (empty: none)")
options.option("caller-threads", default: "1", "threads that build and submit for the completion-handler callers")
options.option("prefill", default: "2000000", "2-leg transfers applied before measuring")
options.option("window-seconds", default: "2", "idempotency window (real time): about 2 M keys at 1 M/s")
options.option("bandwidth-mib", default: "256", "MiB written per size by the disk floor's bandwidth measurement")
options.option("directory", default: defaultScratchDirectory, "where data directories and scratch files go")
options.flag("unmetered", "open the engine on SystemFileSystem itself (no write/sync meters: checks their cost)")
options.flag("json", "print the results as JSON")
options.parse(Array(CommandLine.arguments.dropFirst()))

let runs = max(1, options.int("runs"))
let requests = max(1, options.int("requests"))
let seconds = options.double("seconds")
let warmupSeconds = options.double("warmup-seconds")
let callerCounts = options.ints("callers").filter { $0 > 0 }
let batchSizes = options.ints("batches").filter { $0 > 0 && $0 <= Limits.operationsPerBatchMax }
let asyncCallerCounts = options.ints("async-callers").filter { $0 > 0 }
let callerThreads = max(1, options.int("caller-threads"))
let prefill = options.int("prefill")
let windowSeconds = UInt64(max(1, options.int("window-seconds")))
let json = options.isSet("json")
let unmetered = options.isSet("unmetered")
/// A one-operation 2-leg record: 24 (journal) + 32 (engine) + 6 (batch) + 98 (post) bytes.
let singleRecordPayloadBytes = 32 + 6 + 98
/// Unrecorded requests before each single-request latency figure.
let warmupRequests = 50
var floorSettings = DiskFloor.Settings()
floorSettings.syncs = requests
floorSettings.bandwidthTotalBytes = options.int("bandwidth-mib") << 20
floorSettings.smallWriteBytes = singleRecordPayloadBytes + JournalFormat.recordHeaderBytes

struct SingleLatency: Codable {
    /// Completion handler, durable acknowledgement.
    var handler: LatencySummary
    /// async/await, durable acknowledgement.
    var async: LatencySummary
    /// Completion handler, acknowledged when applied: the engine's round trip without the disk.
    var applied: LatencySummary
    /// The sync thread's pwrite and fdatasync during the completion-handler measurement.
    var syncThreadWrite: LatencySummary
    var syncThreadDataSync: LatencySummary
    /// Per thread, during the completion-handler durable measurement: sleeps per request are the
    /// hand-offs a commit takes.
    var threads: ThreadActivity
}

struct RunResult: Codable {
    var machine: MachineState
    var loadAtEnd: Double
    var floor: DiskFloor
    var journal: JournalProbe.Latency
    var single: SingleLatency
    var loads: [LoadResult]
    var prefillPostingsPerSecond: Double
}

/// Runs `body` on the cooperative pool and waits for it (the main thread is not on the pool).
func blocking<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) throws -> Value {
    let outcome = Mutex<Result<Value, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let result: Result<Value, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        outcome.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    return try outcome.withLock { $0! }.get()
}

struct HarnessFailure: Error, CustomStringConvertible {
    var description: String
}

/// One engine on a fresh data directory, prefilled; the latency and load measurements on it.
final class EngineRun {
    let fileSystem = MeteredFileSystem()
    let engine: Engine
    let sequences = SequenceSource()
    var prefillPostingsPerSecond = Double.nan

    init(dataDirectory: String) throws {
        let configuration = Engine.Configuration(
            dataDirectory: FilePath(dataDirectory),
            ledger: LedgerConfiguration(
                idempotencyWindowSeconds: windowSeconds,
                transactionRetentionSeconds: 1,
                expectedAccounts: Chart.accountCount,
                // Room for the window at up to 2.5 M postings/s, so the index never grows mid-run.
                expectedRetainedKeys: Int(windowSeconds) * 2_500_000
            )
        )
        let fileSystem: any FileSystem = unmetered ? SystemFileSystem() : self.fileSystem
        (self.engine, _) = try Engine.open(configuration, fileSystem: fileSystem)
        let engine = self.engine
        let setup = try blocking { try await engine.submit(Chart.setupBatch()) }
        guard setup.results.allSatisfy({ $0.code.isOK }) else {
            throw HarnessFailure(description: "creating the accounts failed")
        }
        // The writer thread's name never reaches the kernel (a name set before Thread.start()
        // does not on Linux); set it from a read, which runs on the writer thread, so that procfs
        // and perf can tell the writer from other unnamed threads.
        _ = try blocking {
            try await engine.read(.applied) { _ in
                Thread.current.name = "tally-writer"
                return 0
            }
        }
    }

    func prefill(_ operations: Int) {
        guard operations > 0 else { return }
        let window = Window()
        window.open(at: 0)
        let start = self.sequences.take(0)
        let started = monotonicNanoseconds()
        let driver = HandlerDriver(
            engine: self.engine,
            callers: 16,
            operationsPerRequest: 1_000,
            threads: 1,
            sequences: self.sequences,
            window: window
        )
        while self.sequences.take(0) - start < UInt64(operations) {
            sleep(seconds: 0.02)
        }
        window.stopping.store(true, ordering: .releasing)
        let totals = driver.finish()
        self.prefillPostingsPerSecond = Double(totals.operations) / Double(monotonicNanoseconds() - started) * 1e9
    }

    /// One caller, one one-operation request at a time.
    func singleLatency() throws -> SingleLatency {
        let engine = self.engine
        var batch = OperationBatch()
        var legs: [Leg] = []
        func nextBatch() -> OperationBatch {
            batch.removeAll(keepingCapacity: true)
            Workload.appendTransfer(self.sequences.take(1), to: &batch, legs: &legs)
            return batch
        }
        let warmup = warmupRequests

        func handler(_ acknowledgement: Engine.Acknowledgement) throws -> LatencySummary {
            let answered = DispatchSemaphore(value: 0)
            let failure = Mutex<String?>(nil)
            var recorder = LatencyRecorder()
            for index in 0..<(warmup + requests) {
                if index == warmup {
                    self.fileSystem.resetLatencies()
                }
                let request = nextBatch()
                let started = monotonicNanoseconds()
                engine.submit(request, acknowledgement: acknowledgement) { result in
                    switch result {
                    case .success(let response) where response.results.allSatisfy({ $0.code.isOK }): break
                    case .success(let response): failure.withLock { $0 = "\(response.results)" }
                    case .failure(let error): failure.withLock { $0 = "\(error)" }
                    }
                    answered.signal()
                }
                answered.wait()
                if index >= warmup {
                    recorder.record(monotonicNanoseconds() - started)
                }
            }
            if let failure = failure.withLock({ $0 }) {
                throw HarnessFailure(description: "a single request failed: \(failure)")
            }
            return recorder.summary
        }

        let threadsBefore = ThreadActivity.sample()
        let durable = try handler(.durable)
        let threads = ThreadActivity.sample().since(threadsBefore)
        let disk = self.fileSystem.syncThreadLatencies
        let applied = try handler(.applied)
        // The async caller builds its batches on the pool, one at a time.
        let first = self.sequences.take(warmup + requests)
        let asynchronous = try blocking {
            var recorder = LatencyRecorder()
            var batch = OperationBatch()
            var legs: [Leg] = []
            for index in 0..<(warmup + requests) {
                batch.removeAll(keepingCapacity: true)
                Workload.appendTransfer(first + UInt64(index), to: &batch, legs: &legs)
                let started = monotonicNanoseconds()
                let response = try await engine.submit(batch)
                let ended = monotonicNanoseconds()
                guard response.results.allSatisfy({ $0.code.isOK }) else {
                    throw HarnessFailure(description: "a single request failed: \(response.results)")
                }
                if index >= warmup {
                    recorder.record(ended - started)
                }
            }
            return recorder.summary
        }
        return SingleLatency(
            handler: durable,
            async: asynchronous,
            applied: applied,
            syncThreadWrite: disk.write,
            syncThreadDataSync: disk.dataSync,
            threads: threads
        )
    }

    /// One load configuration: warm-up, measured window, then the answers in flight are collected.
    func load(async: Bool, callers: Int, operationsPerRequest: Int) throws -> LoadResult {
        let window = Window()
        let finish: () -> CallerTotals
        if async {
            let driver = AsyncDriver(
                engine: self.engine,
                callers: callers,
                operationsPerRequest: operationsPerRequest,
                sequences: self.sequences,
                window: window
            )
            finish = driver.finish
        } else {
            let driver = HandlerDriver(
                engine: self.engine,
                callers: callers,
                operationsPerRequest: operationsPerRequest,
                threads: callerThreads,
                sequences: self.sequences,
                window: window
            )
            finish = driver.finish
        }
        sleep(seconds: warmupSeconds)
        let filesBefore = self.fileSystem.snapshot
        self.fileSystem.resetLatencies()
        let threadsBefore = ThreadActivity.sample()
        let loadAverage = MachineState.sample(directory: ".").loadAverage1Minute
        let started = monotonicNanoseconds()
        window.open(at: started)
        sleep(seconds: seconds)
        let ended = monotonicNanoseconds()
        window.close(at: ended)
        let files = self.fileSystem.snapshot.since(filesBefore)
        let threads = ThreadActivity.sample().since(threadsBefore)
        let dataSync = self.fileSystem.syncThreadLatencies.dataSync
        window.stopping.store(true, ordering: .releasing)
        let totals = finish()
        if let failure = totals.firstFailure {
            throw HarnessFailure(description: "\(totals.failures) requests failed, the first: \(failure)")
        }
        let elapsed = Double(ended - started)
        let perSecond = { (count: Double) in count / elapsed * 1e9 }
        return LoadResult(
            driver: async ? "async" : "handler",
            callers: callers,
            operationsPerRequest: operationsPerRequest,
            seconds: elapsed / 1e9,
            loadAverage: loadAverage,
            postingsPerSecond: perSecond(Double(totals.operations)),
            requestsPerSecond: perSecond(Double(totals.requests)),
            latency: totals.latency.summary,
            syncsPerSecond: perSecond(Double(files.groupSyncs)),
            requestsPerSync: Double(totals.requests) / Double(max(files.groupSyncs, 1)),
            journalMegabytesPerSecond: perSecond(Double(files.sync.writeBytes)) / 1e6,
            meanGroupBytes: Double(files.sync.writeBytes) / Double(max(files.groupSyncs, 1)),
            diskMegabytesPerSecond: perSecond(Double(files.bytesWritten)) / 1e6,
            segmentRotations: files.sync.renames,
            syncThreadWriteShare: Double(files.sync.writeNanoseconds) / elapsed,
            syncThreadDataSyncShare: Double(files.sync.dataSyncNanoseconds) / elapsed,
            syncThreadSpareWaitShare: Double(files.sync.spareWaitNanoseconds) / elapsed,
            dataSync: dataSync,
            writerBusy: Double(threads.threads["tally-writer"]?.cpuNanoseconds ?? 0) / elapsed,
            threads: threads,
            failures: totals.failures
        )
    }

    func close() throws {
        try self.engine.close()
    }
}

func ratioText(_ value: Double) -> String { format(value, digits: 2) }

do {
    let scratch = try ScratchDirectory(in: options.string("directory"), prefix: "engine-commit")
    defer { scratch.remove() }
    if !json {
        print(
            "EngineCommit: \(runs) runs; \(requests) single requests per latency figure; loads of "
                + "\(format(seconds)) s (after \(format(warmupSeconds)) s warm-up): callers \(callerCounts) x "
                + "transfers per request \(batchSizes), async callers \(asyncCallerCounts); prefill \(prefill); "
                + MachineState.sample(directory: scratch.path).fileSystemText
        )
    }
    var results: [RunResult] = []
    for index in 1...runs {
        let machine = MachineState.sample(directory: scratch.path)
        let floor = try DiskFloor.measure(in: scratch.path, floorSettings)
        let journal = try JournalProbe.commitLatency(
            in: scratch.path,
            payloadBytes: singleRecordPayloadBytes,
            count: requests
        )
        let run = try EngineRun(dataDirectory: scratch.path + "/data-\(index)")
        run.prefill(prefill)
        let single = try run.singleLatency()
        if !json {
            let floorP50 = floor.latency4KiB?.p50Microseconds ?? .nan
            print("run \(index) (load \(format(machine.loadAverage1Minute, digits: 2)) at start):")
            for line in floor.lines {
                print("  floor: \(line)")
            }
            print("  journal commit (\(singleRecordPayloadBytes) B): \(journal.commit.text)")
            print("  prefill: \(format(run.prefillPostingsPerSecond, digits: 0)) postings/s (16 callers x 1,000)")
            print("  (a) engine, completion handler: \(single.handler.text)")
            print("      engine, async/await:        \(single.async.text)")
            print("      engine, applied ack:        \(single.applied.text)")
            print(
                "      sync thread per commit: pwrite p50 \(format(single.syncThreadWrite.p50Microseconds)) µs, "
                    + "fdatasync p50 \(format(single.syncThreadDataSync.p50Microseconds)) µs"
            )
            let perRequest = { (name: String) -> String in
                let thread = single.threads.threads[name]
                let sleeps = Double(thread?.voluntarySwitches ?? 0) / Double(warmupRequests + requests)
                let cpu = Double(thread?.cpuNanoseconds ?? 0) / Double(warmupRequests + requests) / 1_000
                return "\(name) \(format(sleeps, digits: 2)) sleeps, \(format(cpu)) µs cpu"
            }
            print(
                "      per request: "
                    + ["main", "tally-writer", "tally-jnl-sync", "tally-jnl-prep"].map(perRequest)
                    .joined(separator: "; ")
            )
            print(
                "      p50 / floor 4 KiB p50: handler \(ratioText(single.handler.p50Microseconds / floorP50)), "
                    + "async \(ratioText(single.async.p50Microseconds / floorP50)), journal "
                    + ratioText(journal.commit.p50Microseconds / floorP50)
            )
        }
        var loads: [LoadResult] = []
        let configurations =
            callerCounts.flatMap { callers in batchSizes.map { (false, callers, $0) } }
            + asyncCallerCounts.flatMap { callers in batchSizes.map { (true, callers, $0) } }
        for (async, callers, operations) in configurations {
            let load = try run.load(async: async, callers: callers, operationsPerRequest: operations)
            loads.append(load)
            if !json {
                print(load.lines.map { "  (b) " + $0 }.joined(separator: "\n"))
            }
        }
        try run.close()
        try? FileManager.default.removeItem(atPath: scratch.path + "/data-\(index)")
        let result = RunResult(
            machine: machine,
            loadAtEnd: MachineState.sample(directory: scratch.path).loadAverage1Minute,
            floor: floor,
            journal: journal,
            single: single,
            loads: loads,
            prefillPostingsPerSecond: run.prefillPostingsPerSecond
        )
        results.append(result)
        if !json {
            print("  (load \(format(result.loadAtEnd, digits: 2)) at the end of run \(index))")
        }
    }

    // MARK: - Summary over runs

    func spread(_ value: (RunResult) -> Double) -> Spread { Spread(results.map(value)) }
    func loadSpread(_ position: Int, _ value: (LoadResult) -> Double) -> Spread {
        var values: [Double] = []
        for run in results {
            values.append(value(run.loads[position]))
        }
        return Spread(values)
    }
    struct LoadSummary: Codable {
        var label: String
        var postingsPerSecond: Spread
        var requestsPerSecond: Spread
        var latencyMeanMicroseconds: Spread
        var latencyp50Microseconds: Spread
        var latencyp90Microseconds: Spread
        var latencyp99Microseconds: Spread
        var syncsPerSecond: Spread
        var requestsPerSync: Spread
        var journalMegabytesPerSecond: Spread
        var journalOverBestFloor: Spread
        var writerBusy: Spread
        var loadAverage: Spread
    }
    struct Summary: Codable {
        var floor4KiBp50Microseconds: Spread
        var floorSmallAppendp50Microseconds: Spread
        var floorBestMegabytesPerSecond: Spread
        var journalp50Microseconds: Spread
        var handlerp50Microseconds: Spread
        var handlerp90Microseconds: Spread
        var handlerp99Microseconds: Spread
        var asyncp50Microseconds: Spread
        var appliedp50Microseconds: Spread
        var handlerOverFloor: Spread
        var asyncOverFloor: Spread
        var journalOverFloor: Spread
        var handlerOverSmallAppendFloor: Spread
        var loads: [LoadSummary]
        var bestPostingsPerSecond: Spread
        var bestJournalOverBestFloor: Spread
        var loadAverage: Spread
    }
    var loadSummaries: [LoadSummary] = []
    for (position, load) in (results.first?.loads ?? []).enumerated() {
        loadSummaries.append(
            LoadSummary(
                label: load.label,
                postingsPerSecond: loadSpread(position) { $0.postingsPerSecond },
                requestsPerSecond: loadSpread(position) { $0.requestsPerSecond },
                latencyMeanMicroseconds: loadSpread(position) { $0.latency.meanMicroseconds },
                latencyp50Microseconds: loadSpread(position) { $0.latency.p50Microseconds },
                latencyp90Microseconds: loadSpread(position) { $0.latency.p90Microseconds },
                latencyp99Microseconds: loadSpread(position) { $0.latency.p99Microseconds },
                syncsPerSecond: loadSpread(position) { $0.syncsPerSecond },
                requestsPerSync: loadSpread(position) { $0.requestsPerSync },
                journalMegabytesPerSecond: loadSpread(position) { $0.journalMegabytesPerSecond },
                journalOverBestFloor: Spread(
                    results.map { $0.loads[position].journalMegabytesPerSecond / $0.floor.bestMegabytesPerSecond }
                ),
                writerBusy: loadSpread(position) { $0.writerBusy },
                loadAverage: loadSpread(position) { $0.loadAverage }
            )
        )
    }
    let floorP50 = { (run: RunResult) in run.floor.latency4KiB?.p50Microseconds ?? .nan }
    let summary = Summary(
        floor4KiBp50Microseconds: spread(floorP50),
        floorSmallAppendp50Microseconds: spread { $0.floor.latencySmallAppend?.p50Microseconds ?? .nan },
        floorBestMegabytesPerSecond: spread { $0.floor.bestMegabytesPerSecond },
        journalp50Microseconds: spread { $0.journal.commit.p50Microseconds },
        handlerp50Microseconds: spread { $0.single.handler.p50Microseconds },
        handlerp90Microseconds: spread { $0.single.handler.p90Microseconds },
        handlerp99Microseconds: spread { $0.single.handler.p99Microseconds },
        asyncp50Microseconds: spread { $0.single.async.p50Microseconds },
        appliedp50Microseconds: spread { $0.single.applied.p50Microseconds },
        handlerOverFloor: spread { $0.single.handler.p50Microseconds / floorP50($0) },
        asyncOverFloor: spread { $0.single.async.p50Microseconds / floorP50($0) },
        journalOverFloor: spread { $0.journal.commit.p50Microseconds / floorP50($0) },
        handlerOverSmallAppendFloor: spread {
            $0.single.handler.p50Microseconds / ($0.floor.latencySmallAppend?.p50Microseconds ?? .nan)
        },
        loads: loadSummaries,
        bestPostingsPerSecond: spread { $0.loads.map(\.postingsPerSecond).max() ?? .nan },
        bestJournalOverBestFloor: spread { run in
            (run.loads.map(\.journalMegabytesPerSecond).max() ?? .nan) / run.floor.bestMegabytesPerSecond
        },
        loadAverage: spread { $0.machine.loadAverage1Minute }
    )
    if json {
        struct Report: Codable {
            var summary: Summary
            var runs: [RunResult]
        }
        printJSON(Report(summary: summary, runs: results))
    } else {
        print("median [min-max] over \(runs) runs (load at start \(summary.loadAverage.text(digits: 2))):")
        print("  floor 4 KiB pwrite + fdatasync p50 \(summary.floor4KiBp50Microseconds.text()) µs")
        print(
            "  floor \(floorSettings.smallWriteBytes) B append p50 \(summary.floorSmallAppendp50Microseconds.text()) µs"
        )
        print("  floor best sequential synced bandwidth \(summary.floorBestMegabytesPerSecond.text(digits: 0)) MB/s")
        print(
            "  journal commit p50 \(summary.journalp50Microseconds.text()) µs = \(summary.journalOverFloor.text(digits: 2)) x floor"
        )
        print(
            "  (a) engine single op, handler: p50 \(summary.handlerp50Microseconds.text()) p90 "
                + "\(summary.handlerp90Microseconds.text()) p99 \(summary.handlerp99Microseconds.text()) µs; "
                + "p50 / floor p50 = \(summary.handlerOverFloor.text(digits: 2)) (goal <= 1.3)"
        )
        print(
            "      async p50 \(summary.asyncp50Microseconds.text()) µs = \(summary.asyncOverFloor.text(digits: 2)) x floor; "
                + "applied-ack p50 \(summary.appliedp50Microseconds.text()) µs"
        )
        print("  (b) durable postings/s, request latency, syncs:")
        for load in loadSummaries {
            print(
                "      \(load.label.padding(toLength: 30, withPad: " ", startingAt: 0)) "
                    + "\(load.postingsPerSecond.text(digits: 0)) postings/s, "
                    + "latency mean \(load.latencyMeanMicroseconds.text(digits: 0)) p50 "
                    + "\(load.latencyp50Microseconds.text(digits: 0)) p99 \(load.latencyp99Microseconds.text(digits: 0)) µs, "
                    + "\(load.syncsPerSecond.text(digits: 0)) syncs/s, \(load.requestsPerSync.text()) requests/sync, "
                    + "writer thread cpu \(load.writerBusy.text(scale: 100, digits: 0))%"
            )
        }
        print("      best: \(summary.bestPostingsPerSecond.text(digits: 0)) postings/s (goal >= 1,000,000)")
        print("  (c) journal MB/s / floor best MB/s:")
        for load in loadSummaries {
            print(
                "      \(load.label.padding(toLength: 30, withPad: " ", startingAt: 0)) "
                    + "\(load.journalMegabytesPerSecond.text()) MB/s = \(load.journalOverBestFloor.text(digits: 3))"
            )
        }
        print("      best: \(summary.bestJournalOverBestFloor.text(digits: 3)) (goal >= 0.8)")
    }
} catch {
    print("error: \(error)")
    exit(1)
}
