// Snapshots at scale, against the goals of issue 4: restart to serving within 3 s with 1 million
// accounts, 10 million retained idempotency keys and open holds; snapshot decode at 500 MB/s or more
// of uncompressed state; the snapshot's size per account and per key. perf/snapshot-benchmarks.sh
// builds and runs it.
//
//   SnapshotRestart [--accounts 1000000] [--operations 10000000] [--open-holds 1000000]
//                   [--span-days 29] [--tail 100000] [--tail-batch 1] [--runs 5] [--cold-runs 3]
//                   [--directory perf/tmp] [--data DIR] [--rebuild] [--json] [--json-file FILE]
//
// 1. The state, built once through the real engine on a fresh data directory (reused by later runs
//    with the same shape; --rebuild builds it again): the accounts, then --operations keyed operations
//    (transfers, captures with a fee, holds, full captures of holds, reversals) in batches of 4,096
//    acknowledged when applied, spread over --span-days of virtual engine time; the snapshot through
//    Engine.snapshot(); then --tail transfers (--tail-batch per record) that restart replays.
// 2. Each run, every measurement in a fresh process (so peak RSS is the measurement's own):
//    (a) restart to serving: Engine.open with the engine's default configuration, then the first
//        balance read; split into directory, snapshot and journal phases by a file system that notes
//        when each is first touched; peak RSS (VmHWM) and CPU time;
//    (b) decode: SnapshotFile.read (wall, CPU, peak RSS); then each section taken apart on one thread
//        (pread, CRC-32C, zstd, decode) and the state digest;
//    (c) --cold-runs restarts after the data directory's files are dropped from the page cache.
// Figures are medians over runs with the lowest and highest run. `--child read --data DIR` runs
// SnapshotFile.read alone, for profilers.

import CommitBenchmarkSupport
import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage

var options = Options(
    program: "SnapshotRestart",
    summary: "Snapshot size, decode throughput and restart to serving of a large ledger state (issue 4)."
)
options.option("accounts", default: "1000000", "accounts in the state")
options.option("operations", default: "10000000", "keyed operations applied (all keys retained)")
options.option("open-holds", default: "1000000", "holds left open (half as many again are captured)")
options.option("span-days", default: "29", "engine days the operations are spread over (retention is 7)")
options.option("tail", default: "100000", "transfers after the snapshot, replayed by restart")
options.option("tail-batch", default: "1", "transfers per journal record of the tail")
options.option("batch", default: "4096", "operations per request while building")
options.option("runs", default: "5", "warm restarts and decodes; figures are medians")
options.option("cold-runs", default: "3", "restarts with the data directory dropped from the page cache")
options.option("directory", default: defaultScratchDirectory, "where the data directory goes")
options.option("data", default: "", "the data directory (default: named after the shape, in --directory)")
options.flag("rebuild", "build the state again even if the data directory holds it")
options.flag("json", "print the results as JSON")
options.option("json-file", default: "", "also write the results as JSON to this file")
options.option("child", default: "", "run one measurement in this process: restart, cold-restart, decode, read")
options.parse(Array(CommandLine.arguments.dropFirst()))

let shape = StateShape(
    accounts: max(StateShape.pspCount + 2, options.int("accounts")),
    operations: options.int("operations"),
    openHolds: options.int("open-holds"),
    spanDays: options.double("span-days"),
    tailOperations: options.int("tail"),
    tailOperationsPerRecord: min(Limits.operationsPerBatchMax, max(1, options.int("tail-batch"))),
    operationsPerBatch: min(Limits.operationsPerBatchMax, max(1, options.int("batch")))
)
let runs = max(1, options.int("runs"))
let coldRuns = options.int("cold-runs")
let json = options.isSet("json")
let dataDirectory =
    options.string("data").isEmpty ? options.string("directory") + "/" + shape.name : options.string("data")

func log(_ message: String) {
    FileHandle.standardError.write(Data("== \(message)\n".utf8))
}

func newestSnapshot(in dataDirectory: String) -> FilePath? {
    let catalog = SnapshotCatalog(directory: FilePath(dataDirectory).appending("snapshots"))
    guard let newest = try? catalog.snapshots().first else { return nil }
    return FilePath(dataDirectory).appending("snapshots").appending(newest.name)
}

// MARK: - Child processes

switch options.string("child") {
case "":
    break
case "restart", "cold-restart":
    do {
        let sample = try RestartSample.measure(dataDirectory: dataDirectory, cold: options.string("child") != "restart")
        printJSON(sample)
        exit(0)
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "decode":
    do {
        guard let snapshot = newestSnapshot(in: dataDirectory) else {
            throw HarnessFailure(description: "no snapshot in \(dataDirectory)")
        }
        printJSON(try DecodeSample.measure(snapshot: snapshot, configuration: shape.buildConfiguration.restartHints))
        exit(0)
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "read":
    // SnapshotFile.read alone, for profilers: `perf record SnapshotRestart --child read --data DIR`.
    do {
        guard let snapshot = newestSnapshot(in: dataDirectory) else {
            throw HarnessFailure(description: "no snapshot in \(dataDirectory)")
        }
        let started = monotonicNanoseconds()
        let cpuStarted = processCPUSeconds()
        let threadStarted = threadCPUNanoseconds()
        let loaded = try SnapshotFile.read(snapshot, configuration: shape.buildConfiguration.restartHints)
        print(
            "SnapshotFile.read: \(format(seconds(since: started), digits: 3)) s; CPU \(format(processCPUSeconds() - cpuStarted, digits: 3)) s, "
                + "of which this thread \(format(Double(threadCPUNanoseconds() - threadStarted) / 1e9, digits: 3)) s; "
                + "peak RSS \(format(Double(processPeakResidentBytes()) / 1e6, digits: 0)) MB; "
                + "\(loaded.info.accounts) accounts; \(MachineState.sample(directory: dataDirectory).loadText)"
        )
        exit(0)
    } catch {
        print("error: \(error)")
        exit(1)
    }
default:
    options.usage("--child takes restart, cold-restart, decode or read")
}

extension LedgerConfiguration {
    /// The configuration a restart decodes under: the stored windows, the default capacity hints.
    var restartHints: LedgerConfiguration {
        LedgerConfiguration(
            idempotencyWindowSeconds: self.idempotencyWindowSeconds,
            transactionRetentionSeconds: self.transactionRetentionSeconds,
            accountsMax: self.accountsMax
        )
    }
}

/// Runs this program again with `--child mode` and decodes what it prints.
func child<Sample: Decodable>(_ mode: String, as: Sample.Type) throws -> Sample {
    let process = Process()
    process.executableURL = URL(
        fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
    )
    process.arguments = [
        "--child", mode, "--data", dataDirectory,
        "--accounts", "\(shape.accounts)", "--operations", "\(shape.operations)",
        "--open-holds", "\(shape.openHolds)", "--span-days", "\(shape.spanDays)",
        "--tail", "\(shape.tailOperations)", "--tail-batch", "\(shape.tailOperationsPerRecord)",
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw HarnessFailure(
            description:
                "the \(mode) child failed (\(process.terminationStatus)): \(String(decoding: data, as: UTF8.self))"
        )
    }
    return try JSONDecoder().decode(Sample.self, from: data)
}

// MARK: - The state

let buildReportPath = dataDirectory + "/snapshot-restart-build.json"
let buildReport: StateBuilder.Report
do {
    // Reused only with its snapshot: restart and decode measure that.
    buildReport = try BuiltState.reuseOrBuild(
        directory: dataDirectory,
        reportPath: buildReportPath,
        reuse: !options.isSet("rebuild") && newestSnapshot(in: dataDirectory) != nil,
        log: log
    ) {
        try StateBuilder(shape: shape, directory: dataDirectory).build(log: log)
    }
} catch {
    print("error: \(error)")
    exit(1)
}
guard let snapshotPath = newestSnapshot(in: dataDirectory), let info = try? SnapshotFile.inspect(snapshotPath) else {
    print("error: no readable snapshot in \(dataDirectory)")
    exit(1)
}

// MARK: - Runs

struct Results: Codable {
    var machine: MachineState
    var loadAtEnd: Double
    var shape: StateShape
    var build: StateBuilder.Report
    var snapshotFileBytes: Int64
    var restarts: [RestartSample]
    var coldRestarts: [RestartSample]
    var decodes: [DecodeSample]
}

let machine = MachineState.sample(directory: dataDirectory)
var restarts: [RestartSample] = []
var coldRestarts: [RestartSample] = []
var decodes: [DecodeSample] = []
do {
    for run in 1...runs {
        decodes.append(try child("decode", as: DecodeSample.self))
        restarts.append(try child("restart", as: RestartSample.self))
        log(
            "run \(run)/\(runs): restart \(format(restarts.last!.servingSeconds, digits: 3)) s, "
                + "SnapshotFile.read \(format(decodes.last!.readSeconds, digits: 3)) s; "
                + MachineState.sample(directory: dataDirectory).loadText
        )
    }
    for run in 0..<coldRuns {
        evictFromPageCache(dataDirectory)
        coldRestarts.append(try child("cold-restart", as: RestartSample.self))
        log(
            "cold run \(run + 1)/\(coldRuns): restart \(format(coldRestarts.last!.servingSeconds, digits: 3)) s; "
                + MachineState.sample(directory: dataDirectory).loadText
        )
    }
} catch {
    print("error: \(error)")
    exit(1)
}
let results = Results(
    machine: machine,
    loadAtEnd: MachineState.sample(directory: dataDirectory).loadAverage1Minute,
    shape: shape,
    build: buildReport,
    snapshotFileBytes: info.fileBytes,
    restarts: restarts,
    coldRestarts: coldRestarts,
    decodes: decodes
)
if json {
    printJSON(results)
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
    try? encoder.encode(results).write(to: URL(fileURLWithPath: options.string("json-file")))
}

// MARK: - Summary

func spread(_ values: [Double]) -> Spread { Spread(values) }
func megabytes(_ bytes: Int64) -> String { format(Double(bytes) / 1e6, digits: 1) }
let statistics = buildReport.statistics
let uncompressed = info.uncompressedBytes
print(
    """
    SnapshotRestart: \(machine.loadText) at start, \(format(results.loadAtEnd, digits: 2)) at end; \(machine.fileSystemText)
    state: \(statistics.accounts) accounts, \(statistics.aggregateBuckets) aggregate buckets, \(statistics.retainedKeys) retained keys, \
    \(statistics.openHolds) open holds, \(statistics.retainedTransactions) retained of \(statistics.transactions) transactions, \
    \(statistics.reversedTransactions) reversed
    built through Engine: \(format(buildReport.buildSeconds, digits: 1)) s (\(format(buildReport.operationsPerSecond, digits: 0)) operations/s applied), \
    Engine.snapshot() \(format(buildReport.snapshotSeconds, digits: 2)) s, then \(shape.tailOperations) tail transfers in records of \(shape.tailOperationsPerRecord) (\(format(buildReport.tailSeconds, digits: 1)) s); journal \(megabytes(buildReport.journalBytes)) MB (live segments and archive)
    snapshot \(snapshotPath.lastComponent?.string ?? ""): \(megabytes(info.fileBytes)) MB on disk, \(megabytes(uncompressed)) MB of state \
    (ratio \(format(Double(uncompressed) / Double(info.fileBytes), digits: 2)))

    section        compressed MB  uncompressed MB  ratio  items          bytes/item (compressed, uncompressed)
    """
)
for section in info.sections {
    let items: (count: Int, what: String)? =
        switch section.section {
        case .accounts: (statistics.accounts, "accounts")
        case .aggregates: (statistics.aggregateBuckets, "buckets")
        case .holds: (statistics.openHolds, "holds")
        case .keys: (statistics.retainedKeys, "keys")
        case .transactions: (statistics.retainedTransactions, "records")
        case .reversals: (Int(statistics.transactions), "ids")
        case .counters, .assets: nil
        }
    let perItem = items.map { items in
        "\(format(Double(section.compressedBytes) / Double(max(1, items.count)), digits: 1)), "
            + "\(format(Double(section.uncompressedBytes) / Double(max(1, items.count)), digits: 1))"
    }
    print(
        "\("\(section.section)".padded(to: 14)) \(megabytes(section.compressedBytes).padded(to: 14)) "
            + "\(megabytes(section.uncompressedBytes).padded(to: 16)) "
            + "\(format(Double(section.uncompressedBytes) / Double(section.compressedBytes), digits: 2).padded(to: 6)) "
            + "\((items.map { "\($0.count) \($0.what)" } ?? "").padded(to: 14)) \(perItem ?? "")"
    )
}
print(
    """
    whole file per account \(format(Double(info.fileBytes) / Double(statistics.accounts), digits: 1)) B, \
    per retained key \(format(Double(info.fileBytes) / Double(max(1, statistics.retainedKeys)), digits: 1)) B

    restart to serving (Engine.open with the default configuration, then the first balance), seconds, median [min-max] of \(runs):
      serving                     \(spread(restarts.map(\.servingSeconds)).text(digits: 3))
      Engine.open                 \(spread(restarts.map(\.openSeconds)).text(digits: 3))
        directory, settings       \(spread(restarts.map(\.directorySeconds)).text(digits: 3))
        snapshot read and decode  \(spread(restarts.map(\.snapshotSeconds)).text(digits: 3))
        journal scan, tail replay \(spread(restarts.map(\.journalSeconds)).text(digits: 3)) (\(restarts[0].operationsReplayed) operations in \(restarts[0].recordsReplayed) records)
      first balance read          \(spread(restarts.map(\.firstReadSeconds)).text(digits: 3))
      peak RSS MB                 \(spread(restarts.map { Double($0.peakResidentBytes) / 1e6 }).text(digits: 0))
      CPU seconds, all threads    \(spread(restarts.map(\.cpuSeconds)).text(digits: 3))
      tail replay per record      \(spread(restarts.map { $0.journalSeconds / Double(max(1, $0.recordsReplayed)) * 1e6 }).text(digits: 2)) µs (journal phase / records; includes the scan)
    """
)
if !coldRestarts.isEmpty {
    print(
        """
        cold (the data directory dropped from the page cache first), median [min-max] of \(coldRestarts.count):
          serving                     \(spread(coldRestarts.map(\.servingSeconds)).text(digits: 3))
            snapshot read and decode  \(spread(coldRestarts.map(\.snapshotSeconds)).text(digits: 3))
            journal scan, tail replay \(spread(coldRestarts.map(\.journalSeconds)).text(digits: 3))
        """
    )
}
let readSpread = spread(decodes.map(\.readSeconds))
print(
    """

    SnapshotFile.read (warm cache): \(readSpread.text(digits: 3)) s; \
    \(spread(decodes.map { Double(uncompressed) / $0.readSeconds / 1e6 }).text(digits: 0)) MB/s of uncompressed state \
    (\(spread(decodes.map { Double(info.fileBytes) / $0.readSeconds / 1e6 }).text(digits: 0)) MB/s of file); \
    peak RSS \(spread(decodes.map { Double($0.peakResidentBytes) / 1e6 }).text(digits: 0)) MB; \
    CPU \(spread(decodes.map(\.readCPUSeconds)).text(digits: 3)) s, of which the calling thread \
    \(spread(decodes.map(\.readCallerCPUSeconds)).text(digits: 3)) s; \
    state digest (verifySnapshotDigest) \(spread(decodes.map(\.digestSeconds)).text(digits: 3)) s

    taken apart, per section, one thread, one step at a time over the whole section (median ms; MB/s of
    uncompressed bytes; zstd includes first-touch page faults of its output, decode those of the tables):
    section        pread      crc32c     zstd       decode     zstd MB/s  decode MB/s  both MB/s
    """
)
for (index, section) in info.sections.enumerated() {
    let samples = decodes.map { $0.sections[index] }
    let read = spread(samples.map(\.readSeconds)).median
    let checksum = spread(samples.map(\.checksumSeconds)).median
    let decompress = spread(samples.map(\.decompressSeconds)).median
    let decode = spread(samples.map(\.decodeSeconds)).median
    let bytes = Double(section.uncompressedBytes)
    print(
        "\("\(section.section)".padded(to: 14)) \(format(read * 1e3, digits: 1).padded(to: 10)) "
            + "\(format(checksum * 1e3, digits: 1).padded(to: 10)) \(format(decompress * 1e3, digits: 1).padded(to: 10)) "
            + "\(format(decode * 1e3, digits: 1).padded(to: 10)) \(format(bytes / decompress / 1e6, digits: 0).padded(to: 10)) "
            + "\(format(bytes / decode / 1e6, digits: 0).padded(to: 12)) \(format(bytes / (decompress + decode) / 1e6, digits: 0))"
    )
}
let totals = decodes.map { sample in
    sample.sections.reduce(0.0) { $0 + $1.readSeconds + $1.checksumSeconds + $1.decompressSeconds + $1.decodeSeconds }
}
print("sum of the steps \(spread(totals).text(digits: 3)) s (one step at a time over whole sections)")

extension String {
    func padded(to width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }
}
