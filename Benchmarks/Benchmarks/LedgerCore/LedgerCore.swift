import Benchmark
import LedgerWorkloads
import TallyCore

// The ledger core's hot paths, per operation, in steady state.
//
// Each iteration applies one batch of `scalingFactor` (1,000) operations to a ledger that was
// prefilled past its idempotency window (about two million retained keys, evicting as it goes;
// see RigSettings). Building the batch is outside the measured region unless a benchmark's name
// says otherwise, and every result is checked to be what the benchmark claims (ok, or a replay)
// after the measured region. Figures are per operation ("*" in the output; per pair for
// hold-and-capture); the raw per-iteration values, which the thresholds files hold, are per 1,000.
//
// A chunk of 4,096 old keys is evicted in about one iteration in four (one in two for
// hold-and-capture, which adds 2,000 keys per iteration), so wall-clock distributions are
// bimodal: the median is an iteration without eviction, the mean is the sustained cost (the JMH
// export has every sample; perf/core-throughput.sh reports totals).
//
// Allocations are gated (Thresholds/); wall-clock and throughput are reported, not gated: they
// depend on the machine.
//
// Names have no spaces: benchmark 1.38.1 writes a thresholds file with the name's spaces turned
// into underscores but looks it up by the name as it is, so a benchmark named with a space would
// silently go unchecked.

/// The rig one benchmark drives; a class so the benchmark closure can mutate it.
final class Fixture {
    var rig: LedgerRig
    var accounts: [AccountID] = []
    var cursor = 0

    init() {
        self.rig = LedgerRig()
        self.rig.prefill()
    }
}

let benchmarks: @Sendable () -> Void = {
    // Allocation tolerance per iteration (1,000 operations) over the recorded p90: the core's
    // amortised growth (a 4,096-key chunk, a 1 MiB record chunk) stays far below it, and one
    // allocation per posting (1,000 per iteration) fails the check. Time is not gated.
    let mallocsPerIterationTolerance = 50
    let reportedOnly = BenchmarkThresholds(relative: BenchmarkThresholds.Relative.none)
    let thresholds: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: BenchmarkThresholds(absolute: [.p90: mallocsPerIterationTolerance]),
        .wallClock: reportedOnly,
        .throughput: reportedOnly,
        .peakMemoryResident: reportedOnly,
    ]

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        timeUnits: .nanoseconds,
        warmupIterations: 20,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 5_000,
        thresholds: thresholds
    )

    Benchmark("post-2-leg") { (benchmark: Benchmark, fixture: Fixture) in
        fixture.rig.buildTransfers(benchmark.scaledIterations.count)
        benchmark.startMeasurement()
        fixture.rig.apply()
        benchmark.stopMeasurement()
        fixture.rig.requireAllOK()
    } setup: {
        Fixture()
    }

    Benchmark("post-2-leg-with-batch-build") { (benchmark: Benchmark, fixture: Fixture) in
        benchmark.startMeasurement()
        fixture.rig.buildTransfers(benchmark.scaledIterations.count)
        fixture.rig.apply()
        benchmark.stopMeasurement()
        fixture.rig.requireAllOK()
    } setup: {
        Fixture()
    }

    Benchmark("capture-3-leg-with-fee") { (benchmark: Benchmark, fixture: Fixture) in
        fixture.rig.buildCaptures(benchmark.scaledIterations.count)
        benchmark.startMeasurement()
        fixture.rig.apply()
        benchmark.stopMeasurement()
        fixture.rig.requireAllOK()
    } setup: {
        Fixture()
    }

    // One scaled iteration is a pair: a hold, and later its full capture. Each batch captures the
    // previous batch's 1,000 holds and places 1,000 new ones (2,000 operations), so about 1,000
    // holds are open at any time.
    Benchmark("hold-and-capture") { (benchmark: Benchmark, fixture: Fixture) in
        let pairs = benchmark.scaledIterations.count
        fixture.rig.buildHoldRound(pairs)
        benchmark.startMeasurement()
        fixture.rig.apply()
        benchmark.stopMeasurement()
        fixture.rig.collectHolds(pairs)
    } setup: {
        let fixture = Fixture()
        fixture.rig.buildHoldRound(1_000)
        fixture.rig.apply()
        fixture.rig.collectHolds(1_000)
        return fixture
    }

    // Exact resends of transfers applied earlier (random ones among the newest 1.5 million, all
    // retained), answered from the idempotency table. The engine clock stands still so that no
    // key expires during the run.
    Benchmark("idempotent-duplicate") { (benchmark: Benchmark, fixture: Fixture) in
        fixture.rig.buildReplays(benchmark.scaledIterations.count, amongRecent: 1_500_000)
        benchmark.startMeasurement()
        fixture.rig.apply(advancingTime: false)
        benchmark.stopMeasurement()
        fixture.rig.requireAllOK(replays: true)
    } setup: {
        Fixture()
    }

    Benchmark("balance-read") { (benchmark: Benchmark, fixture: Fixture) in
        let ledger = fixture.rig.ledger
        let count = benchmark.scaledIterations.count
        if fixture.cursor + count > fixture.accounts.count {
            fixture.cursor = 0
        }
        let accounts = fixture.accounts[fixture.cursor..<fixture.cursor + count]
        fixture.cursor += count
        var checksum: UInt128 = 0
        benchmark.startMeasurement()
        for account in accounts {
            if let balance = ledger.balance(of: account) {
                checksum &+= balance.creditsPosted
            }
        }
        benchmark.stopMeasurement()
        precondition(checksum != 0)
        blackHole(checksum)
    } setup: {
        let fixture = Fixture()
        fixture.accounts = fixture.rig.randomPoolAccounts(1 << 20)
        return fixture
    }
}
