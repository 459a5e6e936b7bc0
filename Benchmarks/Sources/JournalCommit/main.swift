// TallyStorage.Journal alone, over the real file system: the commit latency of one record at a time,
// and sustained group commit with records appended as fast as one thread can. Each run measures
// the disk floor first (DiskFloor's measurements, same directory), so that the ratios compare
// figures taken minutes, not hours, apart. perf/journal-benchmarks.sh builds and runs it.
//
//   JournalCommit [--runs 5] [--records 2000] [--seconds 3] [--payloads 136,98038,1048576]
//                 [--segment-mib 64] [--directory perf/tmp] [--json]
//
// Latency: append one record (136 bytes of payload by default: a one-operation engine record),
// wait until durable, repeat. Throughput: for each payload size, a fresh journal; one thread
// appends records back to back for a warm-up and then --seconds; the figures are what became
// durable during the measured window: records/s, MB/s (record bytes, headers included), records per
// sync. The file system is SystemFileSystem behind a meter that counts writes and syncs by thread.

import CommitBenchmarkSupport
import Synchronization
import SystemPackage
import TallyStorage

#if canImport(Glibc)
import Glibc
#endif

struct Throughput: Codable {
    var payloadBytes: Int
    var seconds: Double
    var recordsPerSecond: Double
    /// Record bytes (24-byte header + payload) made durable per second, in MB/s.
    var megabytesPerSecond: Double
    var recordsPerSync: Double
    var syncsPerSecond: Double
    /// Every byte written to disk per second (records, segment headers, zero-filling of spares).
    var diskMegabytesPerSecond: Double
    /// The appending thread's CPU time over the window: near 1, the appender is the limit.
    var appenderBusy: Double
    var segmentRotations: UInt64
    /// Share of the sync thread's time in pwrite, in fdatasync, in fsync (directories).
    var syncThreadWriteShare: Double
    var syncThreadDataSyncShare: Double
    var syncThreadFullSyncShare: Double
    /// Share of the window the sync thread waited for a spare segment at rotations.
    var syncThreadSpareWaitShare: Double
    var dataSync: LatencySummary
    var threads: ThreadActivity
}

struct RunResult: Codable {
    var machine: MachineState
    var floor: DiskFloor
    var latency: JournalProbe.Latency
    var throughput: [Throughput]
}

var options = Options(
    program: "JournalCommit",
    summary: "Commit latency and sustained group commit of TallyStorage.Journal, with the disk floor of the same run."
)
options.option("runs", default: "5", "repetitions; figures are medians")
options.option("records", default: "2000", "one-at-a-time commits timed per run (and disk floor syncs)")
options.option("payload", default: "136", "payload bytes of the one-at-a-time records (one-operation engine record)")
options.option("payloads", default: "136,98038,1048576", "payload sizes of the throughput runs (empty: none)")
options.option("seconds", default: "3", "measured seconds per throughput run")
options.option("warmup-seconds", default: "0.5", "unmeasured seconds before each throughput window")
options.option("segment-mib", default: "64", "journal segment size, MiB")
options.option("bandwidth-mib", default: "256", "MiB written per size by the disk floor's bandwidth measurement")
options.option("directory", default: defaultScratchDirectory, "where journals and scratch files go")
options.flag("json", "print the results as JSON")
options.parse(Array(CommandLine.arguments.dropFirst()))

let runs = max(1, options.int("runs"))
let records = max(1, options.int("records"))
let payloadBytes = max(1, options.int("payload"))
let payloads = options.ints("payloads").filter { $0 > 0 }
let seconds = options.double("seconds")
let warmupSeconds = options.double("warmup-seconds")
let segmentBytes = max(Journal.segmentBytesMin, options.int("segment-mib") << 20)
let json = options.isSet("json")
var floorSettings = DiskFloor.Settings()
floorSettings.syncs = records
floorSettings.bandwidthTotalBytes = options.int("bandwidth-mib") << 20
floorSettings.smallWriteBytes = payloadBytes + JournalFormat.recordHeaderBytes

/// One journal, one thread appending `payload` back to back; the window's durable records.
func throughput(in directory: String, payloadBytes: Int) throws -> Throughput {
    let scratch = try ScratchDirectory(in: directory, prefix: "journal-throughput")
    defer { scratch.remove() }
    let fileSystem = MeteredFileSystem()
    let (journal, _) = try Journal.open(
        directory: FilePath(scratch.path + "/journal"),
        fileSystem: fileSystem,
        configuration: Journal.Configuration(segmentBytes: segmentBytes),
        replay: { _, _ in },
        onDurable: { _ in }
    )
    defer { try? journal.close() }
    let payload = [UInt8](repeating: 0x5A, count: payloadBytes)
    let started = monotonicNanoseconds()
    let windowStart = started + UInt64(warmupSeconds * 1e9)
    let windowEnd = windowStart + UInt64(seconds * 1e9)
    var inWindow = false
    var durableAtStart: UInt64 = 0
    var filesAtStart = fileSystem.snapshot
    var threadsAtStart = ThreadActivity.sample()
    var cpuAtStart: UInt64 = 0
    var actualStart: UInt64 = 0
    try payload.withUnsafeBytes { bytes in
        var appended = 0
        while true {
            try journal.append(bytes)
            appended += 1
            // The clock is read every few records only when records are small.
            guard payloadBytes >= 4_096 || appended % 16 == 0 else { continue }
            let now = monotonicNanoseconds()
            if !inWindow && now >= windowStart {
                inWindow = true
                actualStart = monotonicNanoseconds()
                durableAtStart = journal.durableSequence
                filesAtStart = fileSystem.snapshot
                fileSystem.resetLatencies()
                threadsAtStart = ThreadActivity.sample()
                cpuAtStart = threadCPUNanoseconds()
            } else if inWindow && now >= windowEnd {
                break
            }
        }
    }
    let actualEnd = monotonicNanoseconds()
    let durableAtEnd = journal.durableSequence
    let files = fileSystem.snapshot.since(filesAtStart)
    let threads = ThreadActivity.sample().since(threadsAtStart, prefix: "tally-")
    let cpu = threadCPUNanoseconds() - cpuAtStart
    let elapsed = actualEnd - actualStart
    let durable = Double(durableAtEnd - durableAtStart)
    let recordBytes = Double(payloadBytes + JournalFormat.recordHeaderBytes)
    let elapsedDouble = Double(elapsed)
    return Throughput(
        payloadBytes: payloadBytes,
        seconds: elapsedDouble / 1e9,
        recordsPerSecond: durable / elapsedDouble * 1e9,
        megabytesPerSecond: megabytesPerSecond(bytes: durable * recordBytes, nanoseconds: elapsed),
        recordsPerSync: files.groupSyncs == 0 ? .nan : durable / Double(files.groupSyncs),
        syncsPerSecond: Double(files.groupSyncs) / elapsedDouble * 1e9,
        diskMegabytesPerSecond: megabytesPerSecond(bytes: Double(files.bytesWritten), nanoseconds: elapsed),
        appenderBusy: Double(cpu) / elapsedDouble,
        segmentRotations: files.sync.renames,
        syncThreadWriteShare: Double(files.sync.writeNanoseconds) / elapsedDouble,
        syncThreadDataSyncShare: Double(files.sync.dataSyncNanoseconds) / elapsedDouble,
        syncThreadFullSyncShare: Double(files.sync.fullSyncNanoseconds) / elapsedDouble,
        syncThreadSpareWaitShare: Double(files.sync.spareWaitNanoseconds) / elapsedDouble,
        dataSync: fileSystem.syncThreadLatencies.dataSync,
        threads: threads
    )
}

func bytesText(_ bytes: Int) -> String {
    bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) B"
}

do {
    let scratch = try ScratchDirectory(in: options.string("directory"), prefix: "journal-commit")
    defer { scratch.remove() }
    if !json {
        print(
            "JournalCommit: \(runs) runs; latency: \(records) commits of \(payloadBytes)-byte payloads; "
                + "throughput: \(format(seconds)) s per payload size; segments of \(segmentBytes >> 20) MiB; "
                + MachineState.sample(directory: scratch.path).fileSystemText
        )
    }
    var results: [RunResult] = []
    for index in 1...runs {
        let machine = MachineState.sample(directory: scratch.path)
        let floor = try DiskFloor.measure(in: scratch.path, floorSettings)
        let latency = try JournalProbe.commitLatency(in: scratch.path, payloadBytes: payloadBytes, count: records)
        var rates: [Throughput] = []
        for payload in payloads {
            rates.append(try throughput(in: scratch.path, payloadBytes: payload))
        }
        let result = RunResult(machine: machine, floor: floor, latency: latency, throughput: rates)
        results.append(result)
        guard !json else { continue }
        print(
            "run \(index) (\(machine.loadText) at start, \(MachineState.sample(directory: scratch.path).loadText) at end):"
        )
        for line in floor.lines {
            print("  floor: \(line)")
        }
        print("  journal commit, \(payloadBytes) B: \(latency.commit.text)")
        print(
            "    sync thread per commit: pwrite p50 \(format(latency.syncThreadWrite.p50Microseconds)) µs, "
                + "fdatasync p50 \(format(latency.syncThreadDataSync.p50Microseconds)) µs; "
                + "p50 / floor 4 KiB p50 = "
                + format(latency.commit.p50Microseconds / (floor.latency4KiB?.p50Microseconds ?? .nan), digits: 2)
        )
        for rate in rates {
            print(
                "  throughput, \(bytesText(rate.payloadBytes)) records: \(format(rate.recordsPerSecond, digits: 0)) records/s, "
                    + "\(format(rate.megabytesPerSecond, digits: 0)) MB/s "
                    + "(\(format(rate.megabytesPerSecond / floor.bestMegabytesPerSecond * 100))% of the best floor), "
                    + "\(format(rate.recordsPerSync)) records per sync, \(format(rate.syncsPerSecond, digits: 0)) syncs/s"
            )
            print(
                "    disk writes \(format(rate.diskMegabytesPerSecond, digits: 0)) MB/s, "
                    + "\(rate.segmentRotations) segment rotations; appender busy "
                    + "\(format(rate.appenderBusy * 100, digits: 0))%; sync thread in pwrite "
                    + "\(format(rate.syncThreadWriteShare * 100, digits: 0))%, fdatasync "
                    + "\(format(rate.syncThreadDataSyncShare * 100, digits: 0))%, fsync "
                    + "\(format(rate.syncThreadFullSyncShare * 100, digits: 0))%, waiting for a spare segment "
                    + "\(format(rate.syncThreadSpareWaitShare * 100, digits: 0))%; fdatasync \(rate.dataSync.text)"
            )
            for line in rate.threads.lines(over: UInt64(rate.seconds * 1e9)) {
                print("    \(line)")
            }
        }
    }

    func spread(_ value: (RunResult) -> Double) -> Spread { Spread(results.map(value)) }
    struct Summary: Codable {
        var floor4KiBp50Microseconds: Spread
        var floorSmallAppendp50Microseconds: Spread
        var floorBestMegabytesPerSecond: Spread
        var commitp50Microseconds: Spread
        var commitp90Microseconds: Spread
        var commitp99Microseconds: Spread
        var commitp50OverFloor4KiBp50: Spread
        var throughput: [String: [String: Spread]]
    }
    var throughputs: [String: [String: Spread]] = [:]
    for (position, payload) in payloads.enumerated() {
        throughputs[bytesText(payload)] = [
            "recordsPerSecond": spread { $0.throughput[position].recordsPerSecond },
            "megabytesPerSecond": spread { $0.throughput[position].megabytesPerSecond },
            "overBestFloor": spread { $0.throughput[position].megabytesPerSecond / $0.floor.bestMegabytesPerSecond },
            "recordsPerSync": spread { $0.throughput[position].recordsPerSync },
            "syncsPerSecond": spread { $0.throughput[position].syncsPerSecond },
            "diskMegabytesPerSecond": spread { $0.throughput[position].diskMegabytesPerSecond },
            "appenderBusy": spread { $0.throughput[position].appenderBusy },
            "spareWaitShare": spread { $0.throughput[position].syncThreadSpareWaitShare },
        ]
    }
    let summary = Summary(
        floor4KiBp50Microseconds: spread { $0.floor.latency4KiB?.p50Microseconds ?? .nan },
        floorSmallAppendp50Microseconds: spread { $0.floor.latencySmallAppend?.p50Microseconds ?? .nan },
        floorBestMegabytesPerSecond: spread { $0.floor.bestMegabytesPerSecond },
        commitp50Microseconds: spread { $0.latency.commit.p50Microseconds },
        commitp90Microseconds: spread { $0.latency.commit.p90Microseconds },
        commitp99Microseconds: spread { $0.latency.commit.p99Microseconds },
        commitp50OverFloor4KiBp50: spread {
            $0.latency.commit.p50Microseconds / ($0.floor.latency4KiB?.p50Microseconds ?? .nan)
        },
        throughput: throughputs
    )
    if json {
        struct Report: Codable {
            var summary: Summary
            var runs: [RunResult]
        }
        printJSON(Report(summary: summary, runs: results))
    } else {
        print("median [min-max] over \(runs) runs:")
        print("  floor 4 KiB p50 \(summary.floor4KiBp50Microseconds.text()) µs, ")
        print(
            "  floor \(floorSettings.smallWriteBytes) B append p50 \(summary.floorSmallAppendp50Microseconds.text()) µs"
        )
        print("  floor best sequential synced bandwidth \(summary.floorBestMegabytesPerSecond.text(digits: 0)) MB/s")
        print(
            "  journal commit p50 \(summary.commitp50Microseconds.text()) p90 \(summary.commitp90Microseconds.text()) "
                + "p99 \(summary.commitp99Microseconds.text()) µs; p50 / floor p50 "
                + summary.commitp50OverFloor4KiBp50.text(digits: 2)
        )
        for payload in payloads {
            guard let figures = throughputs[bytesText(payload)] else { continue }
            print(
                "  \(bytesText(payload)) records: \(figures["recordsPerSecond"]!.text(digits: 0)) records/s, "
                    + "\(figures["megabytesPerSecond"]!.text(digits: 0)) MB/s = "
                    + "\(figures["overBestFloor"]!.text(digits: 2)) of the best floor, "
                    + "\(figures["recordsPerSync"]!.text()) records per sync, "
                    + "disk writes \(figures["diskMegabytesPerSecond"]!.text(digits: 0)) MB/s, "
                    + "sync thread waiting for spares \(figures["spareWaitShare"]!.text(scale: 100, digits: 0))%"
            )
        }
    }
} catch {
    print("error: \(error)")
    exit(1)
}
