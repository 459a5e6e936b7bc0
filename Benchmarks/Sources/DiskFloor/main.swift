// The disk's own cost, the floor every commit figure is compared with: bare pwrite + fdatasync on a
// preallocated, zero-filled scratch file (as the journal prepares its segments), in a directory on
// the file system of the data. perf/journal-benchmarks.sh builds and runs it.
//
//   DiskFloor [--runs 5] [--syncs 2000] [--bandwidth-mib 256] [--sizes-mib 1,4,16]
//             [--directory perf/tmp] [--unwritten] [--json]
//
// Each run prepares a fresh file, then measures: N x (4 KiB pwrite at the next offset + fdatasync);
// N x (a 160-byte append, the size of a one-operation engine record, + fdatasync); and for each
// size, writes of that size at consecutive offsets each followed by fdatasync (MB/s). Figures are
// the median of the runs, with the lowest and highest run.

import CommitBenchmarkSupport

#if canImport(Glibc)
import Glibc
#endif

struct RunResult: Codable {
    var machine: MachineState
    var floor: DiskFloor
    /// 4 KiB latency on a file that is only allocated (unwritten extents), with --unwritten.
    var unwritten4KiB: LatencySummary?
}

struct Report: Codable {
    var runs: [RunResult]
    var latency4KiBp50Microseconds: Spread
    var latency4KiBp90Microseconds: Spread
    var latency4KiBp99Microseconds: Spread
    var latency4KiBMaxMicroseconds: Spread
    var latencySmallAppendp50Microseconds: Spread
    var bandwidthMegabytesPerSecond: [String: Spread]
    var unwritten4KiBp50Microseconds: Spread?
}

var options = Options(
    program: "DiskFloor",
    summary: "Raw pwrite + fdatasync latency and sequential synced bandwidth of the disk under --directory."
)
options.option("runs", default: "5", "repetitions; figures are medians")
options.option("syncs", default: "2000", "timed pwrite + fdatasync pairs per latency measurement")
options.option("small-bytes", default: "160", "size of the small append (a one-operation engine record)")
options.option("sizes-mib", default: "1,4,16", "write sizes of the bandwidth measurement, MiB")
options.option("bandwidth-mib", default: "256", "MiB written per bandwidth size")
options.option("directory", default: defaultScratchDirectory, "where the scratch file goes")
options.flag("unwritten", "also: 4 KiB latency on a file that is fallocated but not zero-filled")
options.flag("json", "print the results as JSON")
options.parse(Array(CommandLine.arguments.dropFirst()))

var settings = DiskFloor.Settings()
settings.syncs = options.int("syncs")
settings.smallWriteBytes = max(1, options.int("small-bytes"))
settings.bandwidthWriteBytes = options.ints("sizes-mib").map { $0 << 20 }
settings.bandwidthTotalBytes = options.int("bandwidth-mib") << 20
let runs = max(1, options.int("runs"))
let json = options.isSet("json")

do {
    let scratch = try ScratchDirectory(in: options.string("directory"), prefix: "disk-floor")
    defer { scratch.remove() }
    if !json {
        let machine = MachineState.sample(directory: scratch.path)
        print("DiskFloor: \(runs) runs, \(settings.syncs) syncs per latency figure, \(machine.fileSystemText)")
    }
    var results: [RunResult] = []
    for index in 1...runs {
        let machine = MachineState.sample(directory: scratch.path)
        let floor = try DiskFloor.measure(in: scratch.path, settings)
        var unwritten: LatencySummary? = nil
        if options.isSet("unwritten") && settings.syncs > 0 {
            let probe = DiskProbe(directory: scratch.path)
            let file = try probe.prepareFile(name: "unwritten.tmp", bytes: settings.fileBytes, zeroFilled: false)
            defer { file.close() }
            unwritten = try probe.syncLatency(file, writeBytes: 4_096, count: settings.syncs)
        }
        results.append(RunResult(machine: machine, floor: floor, unwritten4KiB: unwritten))
        if !json {
            print("run \(index) (\(machine.loadText)):")
            for line in floor.lines {
                print("  \(line)")
            }
            if let unwritten {
                print("  4 KiB into fallocated, not zero-filled: \(unwritten.text)")
            }
        }
    }

    func spread(_ value: (RunResult) -> Double?) -> Spread? {
        let values = results.compactMap(value)
        return values.isEmpty ? nil : Spread(values)
    }
    var bandwidth: [String: Spread] = [:]
    for (position, writeBytes) in settings.bandwidthWriteBytes.enumerated() {
        bandwidth["\(writeBytes >> 20) MiB"] = spread { $0.floor.bandwidth[position].megabytesPerSecond }
    }
    let empty = Spread([.nan])
    let report = Report(
        runs: results,
        latency4KiBp50Microseconds: spread { $0.floor.latency4KiB?.p50Microseconds } ?? empty,
        latency4KiBp90Microseconds: spread { $0.floor.latency4KiB?.p90Microseconds } ?? empty,
        latency4KiBp99Microseconds: spread { $0.floor.latency4KiB?.p99Microseconds } ?? empty,
        latency4KiBMaxMicroseconds: spread { $0.floor.latency4KiB?.maxMicroseconds } ?? empty,
        latencySmallAppendp50Microseconds: spread { $0.floor.latencySmallAppend?.p50Microseconds } ?? empty,
        bandwidthMegabytesPerSecond: bandwidth,
        unwritten4KiBp50Microseconds: spread { $0.unwritten4KiB?.p50Microseconds }
    )
    if json {
        printJSON(report)
    } else {
        print("median [min-max] over \(runs) runs:")
        print(
            "  4 KiB pwrite + fdatasync, µs: p50 \(report.latency4KiBp50Microseconds.text()) "
                + "p90 \(report.latency4KiBp90Microseconds.text()) p99 \(report.latency4KiBp99Microseconds.text()) "
                + "max \(report.latency4KiBMaxMicroseconds.text(digits: 0))"
        )
        print(
            "  \(settings.smallWriteBytes) B append + fdatasync, µs: p50 "
                + report.latencySmallAppendp50Microseconds.text()
        )
        for writeBytes in settings.bandwidthWriteBytes {
            if let value = bandwidth["\(writeBytes >> 20) MiB"] {
                print("  \(writeBytes >> 20) MiB writes + fdatasync, MB/s: \(value.text(digits: 0))")
            }
        }
        if let unwritten = report.unwritten4KiBp50Microseconds {
            print("  4 KiB into a fallocated, not zero-filled file, µs: p50 \(unwritten.text())")
        }
    }
} catch {
    print("error: \(error)")
    exit(1)
}
