// Posting latency while a background snapshot is written, against issue 4's goal: "p99 posting
// latency while a snapshot of a large state is being written must stay within 2x of p99 without
// one". perf/snapshot-latency.sh builds and runs it.
//
//   SnapshotLatency [--accounts 1000000] [--operations 10000000] [--open-holds 1000000]
//                   [--callers 1,16] [--pairs 4] [--a-seconds 15] [--settle-seconds 3]
//                   [--variants engine,idle+wb8] [--directory perf/tmp] [--rebuild] [--json]
//
// 1. The state, built once through the real engine in --directory (named after its shape; later
//    runs reuse it, --rebuild builds it again): the accounts, --operations keyed operations in
//    batches acknowledged when applied, a durable wait, one snapshot, close.
// 2. A session per --callers count, on a fresh copy of that data directory (synced before it
//    starts), with one open engine (automatic snapshots off, no snapshot at close): callers post
//    single-operation 2-leg transfers with a fresh idempotency key, durable, in a closed loop,
//    for the whole session; every answer's time and latency is kept. After a warm-up, --pairs
//    times for each variant in turn: A, --a-seconds without a snapshot; B, from `Engine.snapshot()`
//    until it completes (load the newest snapshot, replay the journal after it, write, fsync,
//    retention and archive); S, --settle-seconds after it (reported apart, in neither A nor B).
// 3. Beside the postings: every call of the engine's background threads to the file system (a
//    wrapper of SystemFileSystem), which splits each snapshot into its stages; the journal sync
//    thread's pwrite and fdatasync one by one; and every 50 ms each thread's CPU, run-queue wait
//    and page faults, the data disk's counters, dirty and writeback memory and pressure stalls.
// 4. --variants: how each B's snapshot threads write or are scheduled, changed from inside that
//    file system wrapper (prototypes of fixes, measured without touching the engine): `engine` as
//    the engine does it, or `+`-joined `idle` (SCHED_IDLE), `ioidle` (idle I/O class), `wb<MiB>`
//    (start and wait for writeback every so many MiB written), `rate<MB/s>` (throttled writes).
//    Variants alternate B by B within one session, so that drift affects each alike.

import CSnapshotLatency
import CommitBenchmarkSupport
import Foundation
import Synchronization
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage

var options = Options(
    program: "SnapshotLatency",
    summary: "Durable posting latency with and without a background snapshot of a large state (issue 4)."
)
options.option("accounts", default: "1000000", "accounts in the state")
options.option("operations", default: "10000000", "keyed operations applied (all keys retained)")
options.option("open-holds", default: "1000000", "holds left open")
options.option("span-days", default: "29", "engine days the operations are spread over (retention is 7)")
options.option("batch", default: "4096", "operations per request while building")
options.option("callers", default: "1,16", "closed-loop callers, one session each")
options.option("pairs", default: "4", "A/B pairs per variant and session (A, B, settle; interleaved)")
options.option("a-seconds", default: "15", "length of each phase without a snapshot")
options.option("settle-seconds", default: "3", "seconds after each snapshot, reported apart")
options.option("warmup-seconds", default: "5", "posting before the first phase")
options.option("sample-ms", default: "50", "procfs sampling interval")
options.option("expected-keys", default: "0", "the engine's key capacity hint (0: six times --operations)")
options.option("level", default: "1", "zstd level of snapshots and archived segments")
options.option(
    "variants",
    default: "engine",
    "snapshot write policies, B by B: engine, none (control), or idle, ioidle, wb<MiB>, rate<MB/s> joined by +"
)
options.option(
    "hog-threads",
    default: "0",
    "threads of this process that spin (nice 0) for the whole session: a co-tenant's CPU load, alike in A and B"
)
options.option(
    "quiet-cpu",
    default: "0.15",
    "a pair counts as quiet when others used at most this many cores in both phases"
)
options.option("control-seconds", default: "20", "length of a B phase of the `none` variant")
options.option("directory", default: defaultScratchDirectory, "where the data directories go")
options.flag("rebuild", "build the state again even if it exists")
options.flag("build-only", "build (or find) the state and stop")
options.flag("keep-work", "keep each session's data directory")
options.flag("json", "print the results as JSON")
options.option("json-file", default: "", "also write the results as JSON to this file")
options.parse(Array(CommandLine.arguments.dropFirst()))

let shape = StateShape(
    accounts: max(StateShape.pspCount + 2, options.int("accounts")),
    operations: options.int("operations"),
    openHolds: options.int("open-holds"),
    spanDays: options.double("span-days"),
    operationsPerBatch: min(Limits.operationsPerBatchMax, max(1, options.int("batch")))
)
let callerCounts = options.ints("callers").filter { $0 > 0 }
let pairs = max(1, options.int("pairs"))
let aSeconds = options.double("a-seconds")
let settleSeconds = options.double("settle-seconds")
let warmupSeconds = options.double("warmup-seconds")
let sampleSeconds = max(0.005, options.double("sample-ms") / 1e3)
// Room for what 16 callers add in a session (about 45,000 keys/s), so that the key index never
// grows (a rehash stalls the writer) while measuring.
let expectedKeys = options.int("expected-keys") > 0 ? options.int("expected-keys") : 6 * shape.operations
let level = Int32(options.int("level"))
let variants: [SnapshotWritePolicy] = options.string("variants").split(separator: ",").map { spec in
    guard let policy = SnapshotWritePolicy(String(spec)) else {
        options.usage("--variants: cannot read \(spec)")
    }
    return policy
}
guard !variants.isEmpty else { options.usage("--variants names none") }
let keepWork = options.isSet("keep-work")
let controlSeconds = options.double("control-seconds")
let quietCPU = options.double("quiet-cpu")
let hogThreads = options.int("hog-threads")
let scratchDirectory = options.string("directory")
let json = options.isSet("json")
let baseDirectory = scratchDirectory + "/" + shape.name

func log(_ message: String) {
    FileHandle.standardError.write(Data("== \(message)\n".utf8))
}

// MARK: - The state

let buildReportPath = baseDirectory + "/snapshot-latency-build.json"
let buildReport: StateBuilder.Report
do {
    buildReport = try BuiltState.reuseOrBuild(
        directory: baseDirectory,
        reportPath: buildReportPath,
        reuse: !options.isSet("rebuild"),
        log: log
    ) {
        try StateBuilder(shape: shape, directory: baseDirectory).build(log: log)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
if options.isSet("build-only") {
    exit(0)
}

// MARK: - Sessions

/// Threads that spin until stopped: a co-tenant's CPU load, the same in every phase.
final class Hogs: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let count: Int

    init(threads: Int, registry: ThreadRegistry) {
        self.count = threads
        for _ in 0..<threads {
            let thread = Thread { [self] in
                registry.registerCurrent(.hog)
                var spins: UInt64 = 0
                while !self.stopping.load(ordering: .relaxed) {
                    spins &+= 1
                }
                withExtendedLifetime(spins) {}
                self.done.signal()
            }
            thread.start()
        }
    }

    func stop() {
        self.stopping.store(true, ordering: .relaxed)
        for _ in 0..<self.count {
            self.done.wait()
        }
    }
}

/// Engine time that continues from the state's last recorded time at the real rate.
final class FollowingClock: EngineClock, Sendable {
    private let base: UInt64
    private let origin: UInt64

    init(from time: Timestamp) {
        self.base = time.nanosecondsSinceEpoch
        self.origin = monotonicNanoseconds()
    }

    func now() -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: self.base + (monotonicNanoseconds() - self.origin))
    }
}

struct SessionSettings: Codable {
    var callers: Int
    var pairs: Int
    var aSeconds: Double
    var settleSeconds: Double
    var warmupSeconds: Double
    var expectedKeys: Int
    var level: Int32
    var variants: [String]
    var hogThreads: Int
}

/// The B phases of one variant against the A phase before each.
struct VariantSummary: Codable {
    var variant: String
    var label: String
    var pooledA: LatencySummary
    var pooledB: LatencySummary
    /// p99(B) / p99(A) of each pair, their median, and the pooled B p99 over the pooled A p99.
    var ratios: [Double]
    var medianRatio: Double
    var pooledRatio: Double
    /// The same for the pairs where everything else on the machine used at most --quiet-cpu cores
    /// in both phases (a shared machine's other work disturbs both, but not alike).
    var quietPairs: [Int]
    var quietRatios: [Double]
    var quietMedianRatio: Double
    var quietPooledA: LatencySummary
    var quietPooledB: LatencySummary
    var snapshotSeconds: [Double]
    var stages: [String: LatencySummary]
}

struct SessionReport: Codable {
    var settings: SessionSettings
    var machine: MachineState
    /// Wall-clock time of the session's start (phases' starts are seconds after it).
    var startUnixSeconds: Double
    var loadAtStart: Double
    var loadAtEnd: Double
    var copySeconds: Double
    var openSeconds: Double
    var retainedKeysAtStart: Int
    var retainedKeysAtEnd: Int
    var keyIndexSlotsAtStart: Int
    var keyIndexSlotsAtEnd: Int
    var phases: [PhaseReport]
    var pooledA: LatencySummary
    var pooledS: LatencySummary
    var variants: [VariantSummary]
    var failures: Int
    var firstFailure: String?
}

func runCopy(from source: String, to destination: String) throws {
    try? FileManager.default.removeItem(atPath: destination)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/cp")
    process.arguments = ["-a", source, destination]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw HarnessFailure(description: "cp -a \(source) \(destination) failed")
    }
    for name in ["tally.lock"] {
        try? FileManager.default.removeItem(atPath: destination + "/" + name)
    }
    // What the copy dirtied must be on disk before anything is measured.
    sync()
}

func runSession(callers: Int, registry: ThreadRegistry) throws -> SessionReport {
    let machine = MachineState.sample(directory: scratchDirectory)
    let device = String(machine.device.split(separator: "/").last ?? "vda")
    let work = baseDirectory + "-work-\(getpid())"
    let copyStarted = monotonicNanoseconds()
    try runCopy(from: baseDirectory, to: work)
    let copySeconds = seconds(since: copyStarted)
    sleep(seconds: 2)
    log(
        "session with \(callers) caller(s): copied the state in \(format(copySeconds, digits: 1)) s; \(machine.loadText)"
    )
    defer {
        if !keepWork {
            try? FileManager.default.removeItem(atPath: work)
        }
    }

    let catalog = SnapshotCatalog(directory: FilePath(work).appending("snapshots"))
    guard let newest = try catalog.snapshots().first else {
        throw HarnessFailure(description: "no snapshot in \(work)")
    }
    let newestInfo = try SnapshotFile.inspect(FilePath(work).appending("snapshots").appending(newest.name))
    let clock = FollowingClock(
        from: Timestamp(nanosecondsSinceEpoch: newestInfo.recordedTime.nanosecondsSinceEpoch + 1_000_000)
    )
    let fileSystem = ObservedFileSystem(registry: registry, policies: variants)
    let configuration = Engine.Configuration(
        dataDirectory: FilePath(work),
        ledger: LedgerConfiguration(expectedAccounts: shape.accounts, expectedRetainedKeys: expectedKeys),
        snapshotEveryRecords: nil,
        snapshotIntervalNanoseconds: nil,
        snapshotOnClose: false,
        snapshotCompressionLevel: level
    )
    let openStarted = monotonicNanoseconds()
    let (engine, _) = try Engine.open(configuration, clock: clock, fileSystem: fileSystem)
    let openSeconds = seconds(since: openStarted)
    let before = try blocking { try await engine.read(.applied) { $0.statistics } }
    log(
        "opened in \(format(openSeconds, digits: 1)) s: \(before.accounts) accounts, \(before.retainedKeys) keys "
            + "(index \(before.keyIndexSlots) slots), \(before.openHolds) open holds"
    )

    let sampler = Sampler(device: device, intervalSeconds: sampleSeconds, registry: registry)
    let hogs = Hogs(threads: hogThreads, registry: registry)
    defer { hogs.stop() }
    let loop = PostingLoop(engine: engine, callers: callers, shape: shape, seed: UInt64(callers), registry: registry)
    let sessionStart = monotonicNanoseconds()
    let sessionStartUnix = Date().timeIntervalSince1970
    var windows: [PhaseWindow] = []
    var snapshots: [Int: (info: SnapshotFile.Info?, failure: String?, end: UInt64)] = [:]

    func phase(_ label: String, seconds length: Double) {
        let start = sampler.sampleNow(device: device).time
        sleep(seconds: length)
        windows.append(PhaseWindow(label: label, start: start, end: sampler.sampleNow(device: device).time))
    }

    phase("W", seconds: warmupSeconds)
    let order = (0..<pairs).flatMap { _ in variants.indices }
    var variantOfPair: [Int] = []
    for (offset, variant) in order.enumerated() {
        let pair = offset + 1
        variantOfPair.append(variant)
        fileSystem.select(variant)
        phase("A\(pair)", seconds: aSeconds)
        precondition(engine.snapshotStatus.inProgress == nil, "a snapshot is running outside B")
        let start = sampler.sampleNow(device: device).time
        let outcome = Mutex<(info: SnapshotFile.Info?, failure: String?, end: UInt64)?>(nil)
        if variants[variant].isControl {
            sleep(seconds: controlSeconds)
            outcome.withLock { $0 = (nil, nil, monotonicNanoseconds()) }
        } else {
            Task.detached {
                let result: (SnapshotFile.Info?, String?)
                do {
                    result = (try await engine.snapshot(), nil)
                } catch {
                    result = (nil, "\(error)")
                }
                let end = monotonicNanoseconds()
                outcome.withLock { $0 = (result.0, result.1, end) }
            }
        }
        var finished: (info: SnapshotFile.Info?, failure: String?, end: UInt64)? = nil
        while finished == nil {
            sleep(seconds: 0.01)
            finished = outcome.withLock { $0 }
        }
        _ = sampler.sampleNow(device: device)
        windows.append(PhaseWindow(label: "B\(pair)", start: start, end: finished!.end))
        if !variants[variant].isControl {
            snapshots[windows.count - 1] = finished!
        }
        log(
            "pair \(pair)/\(order.count) (\(variants[variant].name)): snapshot in \(format(Double(finished!.end - start) / 1e9, digits: 1)) s"
                + (finished!.failure.map { " FAILED: \($0)" } ?? "") + "; "
                + MachineState.sample(directory: work).loadText
        )
        phase("S\(pair)", seconds: settleSeconds)
    }
    let all = loop.stop().sorted { $0.end < $1.end }
    let samples = sampler.stop()
    let after = try blocking { try await engine.read(.applied) { $0.statistics } }
    try engine.close()
    let kinds = registry.all
    let events = fileSystem.events(since: sessionStart)

    var phases: [PhaseReport] = []
    var pooledA = LatencyRecorder()
    var pooledS = LatencyRecorder()
    var pooledB = Array(repeating: LatencyRecorder(), count: variants.count)
    var pooledAOfVariant = Array(repeating: LatencyRecorder(), count: variants.count)
    var stagePooled = Array(repeating: [String: LatencyRecorder](), count: variants.count)
    var previousA = LatencyRecorder()
    var recorders: [LatencyRecorder] = []
    for (index, window) in windows.enumerated() {
        var recorder = LatencyRecorder()
        let figures = PostingFigures(
            completions: completions(all, in: window),
            window: window,
            syncCalls: fileSystem.syncThreadCalls(from: window.start, to: window.end),
            recorder: &recorder
        )
        recorders.append(recorder)
        let pair = Int(window.label.dropFirst()) ?? 0
        switch window.label.first {
        case "A":
            pooledA.add(recorder)
            previousA = recorder
        case "B":
            pooledB[variantOfPair[pair - 1]].add(recorder)
            pooledAOfVariant[variantOfPair[pair - 1]].add(previousA)
        case "S":
            pooledS.add(recorder)
        default:
            break
        }
        var snapshotReport: SnapshotReport? = nil
        if let snapshot = snapshots[index] {
            var stages: [StageReport] = []
            for stage in snapshotStages(events: events, start: window.start, end: window.end) {
                var stageRecorder = LatencyRecorder()
                stages.append(
                    StageReport(
                        stage: stage.label,
                        offsetSeconds: Double(stage.start - window.start) / 1e9,
                        seconds: Double(stage.end - stage.start) / 1e9,
                        figures: PostingFigures(
                            completions: completions(all, in: stage),
                            window: stage,
                            syncCalls: fileSystem.syncThreadCalls(from: stage.start, to: stage.end),
                            recorder: &stageRecorder
                        ),
                        activity: MachineActivity(samples: samples, window: stage, kinds: kinds)
                    )
                )
                stagePooled[variantOfPair[pair - 1]][stage.label, default: LatencyRecorder()].add(stageRecorder)
            }
            let mine = events.filter {
                ($0.thread == .snapshot || $0.thread == .snapshotRead) && $0.start >= window.start
                    && $0.start <= window.end
            }
            let longest = mine.sorted { $0.nanoseconds > $1.nanoseconds }.prefix(6).map { event in
                "\(event.operation.rawValue) \(event.path.split(separator: "/").suffix(2).joined(separator: "/")) "
                    + "\(event.bytes > 0 ? "\(event.bytes) B " : "")\(format(Double(event.nanoseconds) / 1e6, digits: 1)) ms"
            }
            snapshotReport = SnapshotReport(
                variant: variants[variantOfPair[pair - 1]].name,
                sequence: snapshot.info?.sequence ?? 0,
                fileBytes: snapshot.info?.fileBytes ?? 0,
                seconds: Double(window.end - window.start) / 1e9,
                stages: stages,
                bytesWritten: mine.filter { $0.operation == .write }.reduce(0) { $0 + $1.bytes },
                bytesRead: mine.filter { $0.operation == .read }.reduce(0) { $0 + $1.bytes },
                snapshotFileSyncSeconds: mine.first { $0.operation == .sync && $0.path.hasSuffix(".tsnap.tmp") }
                    .map { Double($0.nanoseconds) / 1e9 },
                longestCalls: Array(longest),
                failure: snapshot.failure
            )
        }
        phases.append(
            PhaseReport(
                label: window.label,
                startSeconds: Double(window.start - sessionStart) / 1e9,
                seconds: Double(window.end - window.start) / 1e9,
                figures: figures,
                activity: MachineActivity(samples: samples, window: window, kinds: kinds),
                snapshot: snapshotReport
            )
        )
    }
    let summaries = variants.indices.map { variant -> VariantSummary in
        var ratios: [Double] = []
        var durations: [Double] = []
        var quietPairs: [Int] = []
        var quietRatios: [Double] = []
        var quietA = LatencyRecorder()
        var quietB = LatencyRecorder()
        for (offset, chosen) in variantOfPair.enumerated() where chosen == variant {
            guard let a = phases.firstIndex(where: { $0.label == "A\(offset + 1)" }),
                let b = phases.firstIndex(where: { $0.label == "B\(offset + 1)" })
            else { continue }
            let ratio = phases[b].figures.latency.p99Microseconds / phases[a].figures.latency.p99Microseconds
            ratios.append(ratio)
            durations.append(phases[b].seconds)
            if phases[a].activity.foreignCPU <= quietCPU && phases[b].activity.foreignCPU <= quietCPU {
                quietPairs.append(offset + 1)
                quietRatios.append(ratio)
                quietA.add(recorders[a])
                quietB.add(recorders[b])
            }
        }
        return VariantSummary(
            variant: variants[variant].name,
            label: variants[variant].label,
            pooledA: pooledAOfVariant[variant].summary,
            pooledB: pooledB[variant].summary,
            ratios: ratios,
            medianRatio: ratios.isEmpty ? .nan : Spread(ratios).median,
            pooledRatio: pooledB[variant].summary.p99Microseconds / pooledAOfVariant[variant].summary.p99Microseconds,
            quietPairs: quietPairs,
            quietRatios: quietRatios,
            quietMedianRatio: quietRatios.isEmpty ? .nan : Spread(quietRatios).median,
            quietPooledA: quietA.summary,
            quietPooledB: quietB.summary,
            snapshotSeconds: durations,
            stages: stagePooled[variant].mapValues(\.summary)
        )
    }
    return SessionReport(
        settings: SessionSettings(
            callers: callers,
            pairs: pairs,
            aSeconds: aSeconds,
            settleSeconds: settleSeconds,
            warmupSeconds: warmupSeconds,
            expectedKeys: expectedKeys,
            level: level,
            variants: variants.map(\.name),
            hogThreads: hogThreads
        ),
        machine: machine,
        startUnixSeconds: sessionStartUnix,
        loadAtStart: machine.loadAverage1Minute,
        loadAtEnd: MachineState.sample(directory: scratchDirectory).loadAverage1Minute,
        copySeconds: copySeconds,
        openSeconds: openSeconds,
        retainedKeysAtStart: before.retainedKeys,
        retainedKeysAtEnd: after.retainedKeys,
        keyIndexSlotsAtStart: before.keyIndexSlots,
        keyIndexSlotsAtEnd: after.keyIndexSlots,
        phases: phases,
        pooledA: pooledA.summary,
        pooledS: pooledS.summary,
        variants: summaries,
        failures: loop.failures,
        firstFailure: loop.firstFailure
    )
}

let registry = ThreadRegistry()
registry.registerCurrent(.main)
var sessions: [SessionReport] = []
do {
    for callers in callerCounts {
        sessions.append(try runSession(callers: callers, registry: registry))
    }
} catch {
    print("error: \(error)")
    exit(1)
}

// MARK: - Output

struct Results: Codable {
    var build: StateBuilder.Report
    var sessions: [SessionReport]
}

if json {
    printJSON(Results(build: buildReport, sessions: sessions))
    exit(0)
}
if !options.string("json-file").isEmpty {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf",
        negativeInfinity: "-inf",
        nan: "nan"
    )
    do {
        try encoder.encode(Results(build: buildReport, sessions: sessions))
            .write(to: URL(fileURLWithPath: options.string("json-file")))
    } catch {
        print("error: cannot write \(options.string("json-file")): \(error)")
    }
}

func µs(_ value: Double) -> String { format(value, digits: 0) }
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

print(
    """
    SnapshotLatency: state \(buildReport.accounts) accounts, \(buildReport.retainedKeys) retained keys, \
    \(buildReport.openHolds) open holds, \(buildReport.retainedTransactions) retained of \(buildReport.transactions) \
    transactions; built snapshot \(format(Double(buildReport.snapshotFileBytes) / 1e6, digits: 1)) MB \
    (\(format(Double(buildReport.snapshotUncompressedBytes) / 1e6, digits: 1)) MB of state)
    """
)
for session in sessions {
    let settings = session.settings
    print(
        """

        == \(settings.callers) caller(s), single-operation durable transfers; variants \(settings.variants.joined(separator: ", ")); \
        zstd level \(settings.level); \(settings.hogThreads) spinning thread(s)
           load \(format(session.loadAtStart, digits: 2)) at start, \(format(session.loadAtEnd, digits: 2)) at end; \
        \(session.machine.fileSystemText)
           engine opened in \(format(session.openSeconds, digits: 1)) s; keys \(session.retainedKeysAtStart) -> \
        \(session.retainedKeysAtEnd), key index \(session.keyIndexSlotsAtStart) -> \(session.keyIndexSlotsAtEnd) slots\
        \(session.keyIndexSlotsAtStart == session.keyIndexSlotsAtEnd ? " (never grew)" : " (GREW during the session)")

        phase    start s   secs  postings   post/s   p50 µs   p90 µs   p99 µs  p99.9 µs    max µs | fdatasync p50/p99/max µs | snap cpu  others cpu  disk MB  dirty max MB
        """
    )
    for phase in session.phases {
        let figures = phase.figures
        let latency = figures.latency
        let snapshotCPU = phase.activity.threads.filter { $0.thread.hasPrefix("snapshot") }.reduce(0) { $0 + $1.cpu }
        print(
            "\(phase.label.padding(toLength: 6, withPad: " ", startingAt: 0)) \(pad(format(phase.startSeconds, digits: 1), 9)) "
                + "\(pad(format(phase.seconds, digits: 1), 6)) \(pad(String(figures.postings), 9)) "
                + "\(pad(format(figures.postingsPerSecond, digits: 0), 8)) \(pad(µs(latency.p50Microseconds), 8)) "
                + "\(pad(µs(latency.p90Microseconds), 8)) \(pad(µs(latency.p99Microseconds), 8)) "
                + "\(pad(µs(latency.p999Microseconds), 9)) \(pad(µs(latency.maxMicroseconds), 9)) | "
                + "\(pad("\(µs(figures.dataSync.p50Microseconds))/\(µs(figures.dataSync.p99Microseconds))/\(µs(figures.dataSync.maxMicroseconds))", 24)) | "
                + "\(pad(format(snapshotCPU * 100, digits: 0) + "%", 8)) \(pad(format(phase.activity.foreignCPU * 100, digits: 0) + "%", 10)) "
                + "\(pad(format(phase.activity.diskWriteMegabytes, digits: 0), 8)) \(pad(format(phase.activity.dirtyMaxMegabytes, digits: 0), 13))"
        )
        if let snapshot = phase.snapshot {
            let stages = snapshot.stages.map { "\($0.stage) \(format($0.seconds, digits: 2)) s" }.joined(
                separator: ", "
            )
            print(
                "         [\(snapshot.variant)] snapshot through \(snapshot.sequence), \(format(Double(snapshot.fileBytes) / 1e6, digits: 1)) MB: "
                    + stages + (snapshot.failure.map { " FAILED \($0)" } ?? "")
            )
            for stage in snapshot.stages {
                let latency = stage.figures.latency
                let threads = stage.activity.threads.map {
                    "\($0.thread) \(format($0.cpu * 100, digits: 0))%/\(format($0.runnableWaiting * 100, digits: 0))%"
                }.joined(separator: " ")
                print(
                    "           \(stage.stage.padding(toLength: 13, withPad: " ", startingAt: 0)) n \(stage.figures.postings) "
                        + "p50 \(µs(latency.p50Microseconds)) p99 \(µs(latency.p99Microseconds)) max \(µs(latency.maxMicroseconds)) µs; "
                        + "fdatasync p99 \(µs(stage.figures.dataSync.p99Microseconds)) max \(µs(stage.figures.dataSync.maxMicroseconds)) µs; "
                        + "disk \(format(stage.activity.diskWriteMegabytes, digits: 0)) MB, dirty max \(format(stage.activity.dirtyMaxMegabytes, digits: 0)) MB; "
                        + "cpu/waiting \(threads)"
                )
            }
            print("           longest calls: \(snapshot.longestCalls.joined(separator: "; "))")
        }
    }
    print("pooled A: \(session.pooledA.text)\npooled S: \(session.pooledS.text)")
    for variant in session.variants {
        let ratios = variant.ratios.map { format($0, digits: 2) }.joined(separator: ", ")
        print(
            """
            [\(variant.variant)] \(variant.label): snapshots of \(variant.snapshotSeconds.map { format($0, digits: 1) }.joined(separator: ", ")) s
              B: \(variant.pooledB.text)
              A before them: \(variant.pooledA.text)
              p99(B)/p99(A) per pair: \(ratios); median \(format(variant.medianRatio, digits: 2)); pooled \
            \(format(variant.pooledRatio, digits: 2)) (goal <= 2)
              quiet pairs (others <= \(format(quietCPU * 100, digits: 0))% of a core in A and B): \
            \(variant.quietPairs.map(String.init).joined(separator: ", ")); ratios \
            \(variant.quietRatios.map { format($0, digits: 2) }.joined(separator: ", ")); median \
            \(format(variant.quietMedianRatio, digits: 2)); pooled B p99 \(format(variant.quietPooledB.p99Microseconds, digits: 0)) \
            / A p99 \(format(variant.quietPooledA.p99Microseconds, digits: 0)) µs
            """
        )
        for (stage, summary) in variant.stages.sorted(by: { $0.key < $1.key }) {
            print("  stage \(stage.padding(toLength: 13, withPad: " ", startingAt: 0)) \(summary.text)")
        }
    }
    if session.failures > 0 {
        print("FAILED POSTINGS: \(session.failures), the first: \(session.firstFailure ?? "")")
    }
}
