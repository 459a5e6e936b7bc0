// A plain throughput harness for the ledger core: no benchmark framework, no interposer, only
// clocks. It drives the same workloads as the LedgerCore suite (LedgerWorkloads), on one thread,
// and prints the median of several runs. perf/core-throughput.sh builds and runs it.
//
//   CoreThroughput [--runs 5] [--operations 5000000] [--batch 1000] [--prefill 2500000]
//                  [--workload transfer|capture|hold|replay] [--window-seconds 2]
//
// Each run starts from a new ledger, prefilled (untimed) past its idempotency window, then applies
// `operations` operations in batches. Applying is timed per batch with the monotonic clock (wall)
// and the thread's CPU clock (cpu: what the thread got of a core, which a loaded machine distorts
// less); building the batches is timed separately. Every result is checked, untimed.

import LedgerWorkloads
import TallyCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum WorkloadKind: String, CaseIterable {
    /// 2-leg posts between pool accounts.
    case transfer
    /// 3-leg captures with fee.
    case capture
    /// Holds and their full captures (two operations per pair).
    case hold
    /// Exact resends of applied transfers.
    case replay
}

struct Options {
    var runs = 5
    var operations = 5_000_000
    var batch = 1_000
    var prefill: Int? = nil
    var windowSeconds: UInt64? = nil
    var workload = WorkloadKind.transfer

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var index = 0
        func value() -> String {
            index += 1
            guard index < arguments.count else { usage("\(arguments[index - 1]) needs a value") }
            return arguments[index]
        }
        func count(_ text: String) -> Int {
            guard let number = Int(String(text.filter { $0 != "_" })), number >= 0 else {
                usage("not a count: \(text)")
            }
            return number
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--runs": options.runs = max(1, count(value()))
            case "--operations", "--posts": options.operations = count(value())
            case "--batch": options.batch = max(1, min(count(value()), Limits.operationsPerBatchMax / 2))
            case "--prefill": options.prefill = count(value())
            case "--window-seconds": options.windowSeconds = UInt64(max(1, count(value())))
            case "--workload":
                let name = value()
                guard let workload = WorkloadKind(rawValue: name) else { usage("unknown workload \(name)") }
                options.workload = workload
            case "--help", "-h": usage(nil)
            default: usage("unknown argument \(arguments[index])")
            }
            index += 1
        }
        return options
    }
}

func usage(_ problem: String?) -> Never {
    if let problem { print("error: \(problem)") }
    print(
        """
        usage: CoreThroughput [--runs N] [--operations N] [--batch N] [--prefill N]
                              [--workload \(WorkloadKind.allCases.map(\.rawValue).joined(separator: "|"))]
                              [--window-seconds N]

        --window-seconds sets the idempotency window (engine time; 1 us per operation), and so
        how many keys are retained: 2 s (the default) is about two million.
        """
    )
    exit(problem == nil ? 0 : 2)
}

@inline(__always)
func nanoseconds(_ clock: clockid_t) -> UInt64 {
    var time = timespec()
    clock_gettime(clock, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

struct RunResult {
    var operations = 0
    var applyWallNanoseconds: UInt64 = 0
    var applyCPUNanoseconds: UInt64 = 0
    var buildWallNanoseconds: UInt64 = 0

    func perSecond(_ nanoseconds: UInt64) -> Double {
        self.operations == 0 ? .nan : Double(self.operations) * 1e9 / Double(max(nanoseconds, 1))
    }
    var applyWallRate: Double { self.perSecond(self.applyWallNanoseconds) }
    var applyCPURate: Double { self.perSecond(self.applyCPUNanoseconds) }
    var buildAndApplyRate: Double { self.perSecond(self.applyWallNanoseconds + self.buildWallNanoseconds) }
}

func run(_ options: Options) -> RunResult {
    var settings = RigSettings()
    settings.operationsPerBatch = options.batch
    if let prefill = options.prefill { settings.prefillOperations = prefill }
    if let window = options.windowSeconds { settings.idempotencyWindowSeconds = window }
    var rig = LedgerRig(settings: settings)
    rig.prefill()
    // The hold workload captures each round's holds in the next: place the first round untimed.
    let pairs = max(1, options.batch / 2)
    if options.workload == .hold {
        rig.buildHoldRound(pairs)
        rig.apply()
        rig.collectHolds(pairs)
    }
    let replayable = min(Int(rig.nextTransfer), settings.retainedKeysMax / 2)
    if options.workload == .replay && replayable == 0 {
        usage("--workload replay needs a prefill")
    }

    var result = RunResult()
    while result.operations < options.operations {
        let remaining = options.operations - result.operations
        let buildStart = nanoseconds(CLOCK_MONOTONIC)
        switch options.workload {
        case .transfer: rig.buildTransfers(min(remaining, options.batch))
        case .capture: rig.buildCaptures(min(remaining, options.batch))
        case .hold: rig.buildHoldRound(pairs)
        case .replay: rig.buildReplays(min(remaining, options.batch), amongRecent: replayable)
        }
        let applyStart = nanoseconds(CLOCK_MONOTONIC)
        let applyCPUStart = nanoseconds(CLOCK_THREAD_CPUTIME_ID)
        rig.apply(advancingTime: options.workload != .replay)
        let applyCPUEnd = nanoseconds(CLOCK_THREAD_CPUTIME_ID)
        let applyEnd = nanoseconds(CLOCK_MONOTONIC)
        result.buildWallNanoseconds += applyStart - buildStart
        result.applyWallNanoseconds += applyEnd - applyStart
        result.applyCPUNanoseconds += applyCPUEnd - applyCPUStart
        result.operations += rig.batch.count
        switch options.workload {
        case .transfer, .capture: rig.requireAllOK()
        case .hold: rig.collectHolds(pairs)
        case .replay: rig.requireAllOK(replays: true)
        }
    }
    return result
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func millions(_ rate: Double) -> String {
    guard rate.isFinite else { return "n/a" }
    let hundredths = Int((rate / 10_000).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) M/s"
}

func nanosecondsPerOperation(_ rate: Double) -> String {
    rate.isFinite && rate > 0 ? String(Int((1e9 / rate).rounded())) : "n/a"
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let prefill = options.prefill ?? RigSettings().prefillOperations
print(
    "CoreThroughput: workload \(options.workload.rawValue), \(options.runs) runs x \(options.operations) operations, "
        + "batches of \(options.batch), prefill \(prefill) transfers, "
        + "idempotency window \(options.windowSeconds ?? RigSettings().idempotencyWindowSeconds) s"
)
var results: [RunResult] = []
for index in 1...options.runs {
    let result = run(options)
    results.append(result)
    print(
        "run \(index): apply \(millions(result.applyWallRate)) wall, \(millions(result.applyCPURate)) cpu; "
            + "build+apply \(millions(result.buildAndApplyRate)) wall"
    )
}
for (name, rates) in [
    ("apply, wall", results.map(\.applyWallRate)),
    ("apply, thread cpu", results.map(\.applyCPURate)),
    ("build+apply, wall", results.map(\.buildAndApplyRate)),
] {
    print(
        "\(name): median \(millions(median(rates))) ops, min \(millions(rates.min()!)), max \(millions(rates.max()!)) "
            + "(\(nanosecondsPerOperation(median(rates))) ns/op)"
    )
}
