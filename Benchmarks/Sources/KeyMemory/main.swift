// Measures the memory a retained idempotency key costs, table overhead included.
//
//   swift run --package-path Benchmarks -c release KeyMemory [keys ...]
//
// For each count N it builds a fresh ledger, measures the process's resident set size, applies N
// keyed operations, and measures again; the difference over N is the cost per key, as the machine
// sees it (large buffers that the tables outgrow go back to the system, so they do not count).
// Beside it, the figure the ledger's statistics compute from its table capacities. Two ways:
//
// - rejected: posts to an account that does not exist. A rejection is remembered under its key
//   and changes nothing else, so the difference is the key log and its index alone.
// - posted: 2-leg posts that succeed, with transaction retention 0 (records are dropped as soon
//   as time moves on), so the difference is the keys plus the bit per transaction of the reversed
//   set plus one retained record chunk.
//
// The index is not pre-sized: it grows by doubling as a real ledger's would, so the figure
// depends on where N falls between two doublings; several N show the range.
import Foundation
import Glibc
import TallyCore

func residentBytes() -> Int {
    var text = [CChar](repeating: 0, count: 256)
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    guard fgets(&text, Int32(text.count), file) != nil else { return 0 }
    let fields = String(cString: text).split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

enum Mode: String, CaseIterable {
    case rejected
    case posted
}

func measure(keys: Int, mode: Mode) -> (residentPerKey: Double, statisticsPerKey: Double) {
    var ledger = Ledger(
        configuration: LedgerConfiguration(
            idempotencyWindowSeconds: 365 * 86_400,
            transactionRetentionSeconds: 0
        )
    )
    var setup = OperationBatch()
    setup.append(.createAsset(CreateAsset(code: "USD", scale: 2)))
    setup.append(.createAccount(CreateAccount(id: 1, asset: "USD", kind: .pspReceivable)))
    setup.append(.createAccount(CreateAccount(id: 2, asset: "USD", kind: .merchantPayable)))
    _ = ledger.apply(setup, at: Timestamp(secondsSinceEpoch: 1_000))
    var batch = OperationBatch()
    var results: [OperationResult] = []
    results.reserveCapacity(1_000)
    batch.reserveCapacity(operations: 1_000, legs: 2_000)
    var legs = [Leg.debit(1, 1), Leg.credit(mode == .rejected ? 99 : 2, 1)]

    let residentBefore = residentBytes()
    var applied = 0
    var second: UInt64 = 1_001
    while applied < keys {
        batch.removeAll(keepingCapacity: true)
        let count = min(1_000, keys - applied)
        for offset in 0..<count {
            let key = UInt128(applied + offset + 1) &* 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835
            legs[0].amount = UInt128(offset + 1)
            legs[1].amount = UInt128(offset + 1)
            batch.appendPost(TransactionHeader(key: IdempotencyKey(key), type: .capture), legs: legs)
        }
        ledger.apply(batch, at: Timestamp(secondsSinceEpoch: second), results: &results)
        precondition(results.allSatisfy { $0.code == (mode == .rejected ? .accountUnknown : .ok) })
        applied += count
        second += 1
    }
    let statistics = ledger.statistics
    precondition(statistics.retainedKeys == keys)
    let residentDelta = residentBytes() - residentBefore
    return (Double(residentDelta) / Double(keys), Double(statistics.keyMemoryBytes) / Double(keys))
}

let counts = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let keyCounts = counts.isEmpty ? [1_000_000, 6_000_000, 12_000_000] : counts
print("keys        mode      resident B/key  tables B/key")
for mode in Mode.allCases {
    for keys in keyCounts {
        let result = measure(keys: keys, mode: mode)
        let label = String(keys).padding(toLength: 12, withPad: " ", startingAt: 0)
        let kind = mode.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
        let figures = String(format: "%14.1f  %12.1f", result.residentPerKey, result.statisticsPerKey)
        print(label + kind + figures)
    }
}
