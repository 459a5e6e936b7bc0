// Durable commit over the Unix socket: the release `tally serve` as a child process, driven by the
// raw frame socket (TallyTestKit.WireSocket) and by the product's async client (TallyClient), with
// the disk floor measured in the same run. perf/socket-benchmarks.sh builds and runs it.
//
//   SocketCommit [--tally ../.build/release/tally] [--runs 3] [--groups single,concurrent,batch]
//                [--single-requests 20000] [--clients 64] [--batch-operations 8000] [--depths 1,4]
//                [--seconds 5] [--shape capture|transfer] [--prefill 1000000] [--json-file PATH]
//
// Every scenario gets a server of its own (a fresh data directory: the chart of accounts, then the
// prefill, then warmup, then the measured part), so that the server's statistics at its end belong
// to that scenario alone; then SIGTERM, and the server must exit 0. Runs alternate the order of the
// scenarios (forward, backward); figures are the median of the runs with the lowest and highest.

import CommitBenchmarkSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

struct RunReport: Codable {
    var run: Int
    var machine: MachineState
    var floor: DiskFloor
    /// CPU time of the calling thread per 4 KiB pwrite + fdatasync (1,000 of them, after the floor).
    var floorCPUMicrosecondsPerSync: Double
    var scenarios: [ScenarioResult]
}

struct ScenarioSummary: Codable {
    var scenario: String
    var runs: Int
    var postingsPerSecond: Spread
    var p50Microseconds: Spread
    var p90Microseconds: Spread
    var p99Microseconds: Spread
    var p999Microseconds: Spread
    var maxMicroseconds: Spread
    /// Each run's p50 over the same run's 4 KiB pwrite + fdatasync p50.
    var p50OverFloor: Spread
    var p99OverFloor: Spread
    var serverSubmitP50Microseconds: Spread
    var serverSubmitP99Microseconds: Spread
    var serverCores: Spread
    var loadGeneratorCores: Spread
    var otherCores: Spread
    var serverMicrosecondsPerPosting: Spread
}

struct Report: Codable {
    var settings: [String: String]
    var runs: [RunReport]
    var floor4KiBp50Microseconds: Spread
    var floor4KiBp99Microseconds: Spread
    var floorSmallAppendp50Microseconds: Spread
    var summaries: [ScenarioSummary]
}

var options = Options(
    program: "SocketCommit",
    summary: "Durable postings over tally serve's Unix socket: single round trips, many clients, large batches."
)
let defaultTally = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/release/tally").path
options.option("tally", default: defaultTally, "the release tally binary")
options.option("runs", default: "3", "repetitions; figures are medians")
options.option("groups", default: "single,concurrent,batch", "which scenario groups to run")
options.option("only", default: "", "comma-separated scenario names to run (default: every one of the groups)")
options.option("single-requests", default: "20000", "measured requests per single-operation scenario")
options.option("single-warmup", default: "2000", "unmeasured requests before them")
options.option("clients", default: "64", "connections of the concurrent scenarios")
options.option("batch-operations", default: "8000", "operations per request of the batch scenarios")
options.option("depths", default: "1,4", "requests in flight per connection in the batch scenarios")
options.option("seconds", default: "5", "measured seconds of the concurrent and batch scenarios")
options.option("warmup-seconds", default: "1", "unmeasured seconds before them")
options.option("shape", default: "capture", "capture (3 legs with a fee) or transfer (2 legs)")
options.option("prefill", default: "1000000", "2-leg transfers applied before each scenario's warmup")
options.option("floor-syncs", default: "2000", "pwrite + fdatasync pairs of the disk floor per run (0: none)")
options.option("directory", default: defaultScratchDirectory, "where data directories and sockets go")
options.option("server-arguments", default: "", "more arguments for tally serve, separated by spaces")
options.option("json-file", default: "", "also write the whole report as JSON to this file")
options.flag("keep", "keep each scenario's data directory and server log")
options.parse(Array(CommandLine.arguments.dropFirst()))

let tallyBinary = options.string("tally")
guard FileManager.default.isExecutableFile(atPath: tallyBinary) else {
    print("error: no tally binary at \(tallyBinary); build it with swift build -c release --product tally")
    exit(2)
}
guard let shape = Shape(rawValue: options.string("shape")) else {
    options.usage("--shape takes capture or transfer")
}
let runs = max(1, options.int("runs"))
let groups = Set(options.string("groups").split(separator: ",").map(String.init))
let only = Set(options.string("only").split(separator: ",").map(String.init))
let scenarios = Scenario.all(
    clients: max(1, options.int("clients")),
    batchOperations: max(1, options.int("batch-operations")),
    depths: options.ints("depths").map { max(1, $0) }
)
.filter { groups.contains($0.group) && (only.isEmpty || only.contains($0.scenario.name)) }
.map(\.scenario)
let singleRequests = max(1, options.int("single-requests"))
let singleWarmup = options.int("single-warmup")
let seconds = options.double("seconds")
let warmupSeconds = options.double("warmup-seconds")
let prefill = options.int("prefill")
let serverArguments =
    ["--snapshot-every-records", "0", "--snapshot-interval-seconds", "0", "--max-connections", "1024"]
    + options.string("server-arguments").split(separator: " ").map(String.init)
let keep = options.isSet("keep")
let sequences = SequenceSource()

signal(SIGPIPE, SIG_IGN)

func measure(_ scenario: Scenario, run: Int, parent: String) async throws -> ScenarioResult {
    let server = try ServerUnderTest(
        binary: tallyBinary,
        parent: parent,
        name: "\(scenario.name)-run\(run)",
        extraArguments: serverArguments
    )
    var stopped = false
    defer {
        if !stopped { _ = server.stop(timeoutSeconds: 10) }
    }
    try server.waitUntilServing()
    try server.setUp(prefill: prefill)
    let pid = server.pid
    let path = server.socketPath
    let measured: (Tally, CPUShare)
    switch (scenario.client, scenario.kind) {
    case (.wire, .single):
        measured = try WireDrivers.single(
            socketPath: path,
            serverPID: pid,
            shape: shape,
            sequences: sequences,
            warmup: singleWarmup,
            requests: singleRequests
        )
    case (.client, .single(let mode)):
        measured = try await ClientDrivers.single(
            socketPath: path,
            serverPID: pid,
            shape: shape,
            sequences: sequences,
            mode: mode,
            warmup: singleWarmup,
            requests: singleRequests
        )
    case (.wire, .concurrent(let connections)):
        measured = try WireDrivers.concurrent(
            socketPath: path,
            serverPID: pid,
            shape: shape,
            sequences: sequences,
            connections: connections,
            operationsPerRequest: scenario.operationsPerRequest,
            warmupSeconds: warmupSeconds,
            seconds: seconds
        )
    case (.client, .concurrent(let connections)):
        measured = try await ClientDrivers.concurrent(
            socketPath: path,
            serverPID: pid,
            shape: shape,
            sequences: sequences,
            clients: connections,
            warmupSeconds: warmupSeconds,
            seconds: seconds
        )
    case (.wire, .pipelined(let depth)):
        measured = try WireDrivers.pipelined(
            socketPath: path,
            serverPID: pid,
            shape: shape,
            sequences: sequences,
            depth: depth,
            operationsPerRequest: scenario.operationsPerRequest,
            warmupSeconds: warmupSeconds,
            seconds: seconds
        )
    case (.client, .pipelined(let depth)):
        measured = try await ClientDrivers.pipelined(
            socketPath: path,
            serverPID: pid,
            shape: shape,
            sequences: sequences,
            depth: depth,
            operationsPerRequest: scenario.operationsPerRequest,
            warmupSeconds: warmupSeconds,
            seconds: seconds
        )
    }
    let statistics = try server.statistics()
    let status = server.stop(keep: keep)
    stopped = true
    if status != 0 {
        print("  the server exited with status \(status); its log: \(server.logPath)\n\(server.logTail)")
    }
    let (tally, cpu) = measured
    let elapsed = cpu.seconds
    return ScenarioResult(
        scenario: scenario.name,
        client: scenario.client,
        connections: scenario.connections,
        depth: scenario.depth,
        operationsPerRequest: scenario.operationsPerRequest,
        requests: tally.requests,
        operations: tally.operations,
        seconds: elapsed,
        postingsPerSecond: Double(tally.operations) / elapsed,
        requestsPerSecond: Double(tally.requests) / elapsed,
        latency: tally.latency.summary,
        failures: tally.failures,
        firstFailure: tally.firstFailure,
        server: ServerFigures(statistics),
        cpu: cpu,
        serverExitStatus: status
    )
}

do {
    let scratch = try ScratchDirectory(in: options.string("directory"), prefix: "socket-commit")
    defer { scratch.remove() }
    let machine = MachineState.sample(directory: scratch.path)
    print(
        "SocketCommit: \(runs) runs of \(scenarios.map(\.name).joined(separator: ", ")); \(shape.rawValue) "
            + "operations; prefill \(prefill); \(machine.fileSystemText)"
    )
    print("tally serve \(serverArguments.joined(separator: " "))")
    var floorSettings = DiskFloor.Settings()
    floorSettings.syncs = options.int("floor-syncs")
    floorSettings.bandwidthWriteBytes = [1 << 20]
    floorSettings.bandwidthTotalBytes = 64 << 20
    var reports: [RunReport] = []
    for run in 1...runs {
        let machine = MachineState.sample(directory: scratch.path)
        let floor = try DiskFloor.measure(in: scratch.path, floorSettings)
        print("run \(run) (\(machine.loadText)):")
        for line in floor.lines {
            print("  floor: \(line)")
        }
        // What one sync costs the thread that makes it (kernel time included): the part of the
        // journal sync thread's CPU that is the disk's, not the engine's.
        let probe = DiskProbe(directory: scratch.path)
        let file = try probe.prepareFile(name: "floor-cpu.tmp", bytes: 16 << 20)
        let cpuBefore = threadCPUNanoseconds()
        _ = try probe.syncLatency(file, writeBytes: 4_096, count: 1_000, warmup: 0)
        let floorCPU = Double(threadCPUNanoseconds() - cpuBefore) / 1_000 / 1_000
        file.close()
        print("  floor: CPU per 4 KiB pwrite + fdatasync: \(format(floorCPU)) µs")
        var results: [ScenarioResult] = []
        let order = run % 2 == 1 ? scenarios : scenarios.reversed()
        for scenario in order {
            let result = try await measure(scenario, run: run, parent: scratch.path)
            print("  \(result.text)")
            // Into a pipe (the script tees it) output is buffered: show progress scenario by scenario.
            fflush(nil)
            results.append(result)
        }
        reports.append(
            RunReport(
                run: run,
                machine: machine,
                floor: floor,
                floorCPUMicrosecondsPerSync: floorCPU,
                scenarios: results
            )
        )
    }

    func spread(_ values: [Double]) -> Spread { Spread(values.isEmpty ? [.nan] : values) }
    let floors = reports.map { $0.floor.latency4KiB?.p50Microseconds ?? .nan }
    let floorsP99 = reports.map { $0.floor.latency4KiB?.p99Microseconds ?? .nan }
    var summaries: [ScenarioSummary] = []
    for scenario in scenarios {
        let pairs = reports.compactMap { report in
            report.scenarios.first { $0.scenario == scenario.name }.map { ($0, report.floor) }
        }
        let results = pairs.map(\.0)
        summaries.append(
            ScenarioSummary(
                scenario: scenario.name,
                runs: results.count,
                postingsPerSecond: spread(results.map(\.postingsPerSecond)),
                p50Microseconds: spread(results.map(\.latency.p50Microseconds)),
                p90Microseconds: spread(results.map(\.latency.p90Microseconds)),
                p99Microseconds: spread(results.map(\.latency.p99Microseconds)),
                p999Microseconds: spread(results.map(\.latency.p999Microseconds)),
                maxMicroseconds: spread(results.map(\.latency.maxMicroseconds)),
                p50OverFloor: spread(
                    pairs.map { $0.0.latency.p50Microseconds / ($0.1.latency4KiB?.p50Microseconds ?? .nan) }
                ),
                p99OverFloor: spread(
                    pairs.map { $0.0.latency.p99Microseconds / ($0.1.latency4KiB?.p99Microseconds ?? .nan) }
                ),
                serverSubmitP50Microseconds: spread(results.map { Double($0.server.submitLatencyP50Microseconds) }),
                serverSubmitP99Microseconds: spread(results.map { Double($0.server.submitLatencyP99Microseconds) }),
                serverCores: spread(results.map(\.cpu.serverCores)),
                loadGeneratorCores: spread(results.map(\.cpu.loadGeneratorCores)),
                otherCores: spread(results.map(\.cpu.otherCores)),
                serverMicrosecondsPerPosting: spread(results.map(\.serverMicrosecondsPerPosting))
            )
        )
    }
    let report = Report(
        settings: [
            "tally": tallyBinary,
            "runs": "\(runs)",
            "shape": shape.rawValue,
            "prefill": "\(prefill)",
            "singleRequests": "\(singleRequests)",
            "singleWarmup": "\(singleWarmup)",
            "seconds": "\(seconds)",
            "warmupSeconds": "\(warmupSeconds)",
            "serverArguments": serverArguments.joined(separator: " "),
        ],
        runs: reports,
        floor4KiBp50Microseconds: spread(floors),
        floor4KiBp99Microseconds: spread(floorsP99),
        floorSmallAppendp50Microseconds: spread(reports.map { $0.floor.latencySmallAppend?.p50Microseconds ?? .nan }),
        summaries: summaries
    )
    print("median [min-max] over \(runs) runs:")
    print(
        "  floor: 4 KiB pwrite + fdatasync p50 \(report.floor4KiBp50Microseconds.text()) "
            + "p99 \(report.floor4KiBp99Microseconds.text()) µs; 160 B append p50 "
            + "\(report.floorSmallAppendp50Microseconds.text()) µs"
    )
    for summary in summaries {
        print(
            "  \(summary.scenario): \(summary.postingsPerSecond.text(digits: 0)) postings/s; "
                + "p50 \(summary.p50Microseconds.text()) p90 \(summary.p90Microseconds.text()) "
                + "p99 \(summary.p99Microseconds.text()) p99.9 \(summary.p999Microseconds.text()) "
                + "max \(summary.maxMicroseconds.text(digits: 0)) µs"
        )
        print(
            "      p50/floor \(summary.p50OverFloor.text(digits: 2)), p99/floor p99 "
                + "\(summary.p99OverFloor.text(digits: 2)); server submit p50 "
                + "\(summary.serverSubmitP50Microseconds.text(digits: 0)) p99 "
                + "\(summary.serverSubmitP99Microseconds.text(digits: 0)) µs; cores: server "
                + "\(summary.serverCores.text(digits: 2)), load generator \(summary.loadGeneratorCores.text(digits: 2)), "
                + "others \(summary.otherCores.text(digits: 2)); server CPU per posting "
                + "\(summary.serverMicrosecondsPerPosting.text(digits: 2)) µs"
        )
    }
    let jsonFile = options.string("json-file")
    if !jsonFile.isEmpty {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        try encoder.encode(report).write(to: URL(fileURLWithPath: jsonFile))
        print("JSON: \(jsonFile)")
    }
} catch {
    print("error: \(error)")
    exit(1)
}
