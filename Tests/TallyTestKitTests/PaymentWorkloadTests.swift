import TallyCore
import TallyTestKit
import Testing

/// Drives a workload against a ledger by hand (as ``PaymentSimulation`` does), handing every
/// applied batch and its results to `inspect`.
private func drive(
    _ configuration: PaymentWorkload.Configuration,
    operations: Int,
    batchSize: Int = 500,
    inspect: (inout Ledger, PaymentWorkload, OperationBatch, [OperationResult]) -> Void = { _, _, _, _ in }
) -> (ledger: Ledger, workload: PaymentWorkload) {
    var workload = PaymentWorkload(configuration: configuration)
    var ledger = Ledger(configuration: LedgerConfiguration(expectedAccounts: workload.accountCount))
    var batch = OperationBatch()
    var expiries = OperationBatch()
    var results: [OperationResult] = []
    var applied = 0
    while !workload.isSetUp {
        let time = workload.nextBatch(into: &batch, count: batchSize)
        ledger.apply(batch, at: time, results: &results)
        workload.observe(results, of: batch)
    }
    while applied < operations {
        let count = min(batchSize, operations - applied)
        let time = workload.nextBatch(into: &batch, count: count)
        let due = ledger.dueHoldExpiries(at: time)
        if !due.isEmpty {
            expiries.removeAll()
            for hold in due {
                expiries.append(.expireHold(hold: hold))
            }
            let expired = ledger.apply(expiries, at: time)
            #expect(expired.allSatisfy { $0.code == .ok })
        }
        ledger.apply(batch, at: time, results: &results)
        inspect(&ledger, workload, batch, results)
        workload.observe(results, of: batch)
        applied += count
    }
    return (ledger, workload)
}

@Suite struct PaymentWorkloadTests {
    @Test func sameSeedSameStreamAndDigest() {
        let configuration = PaymentWorkload.Configuration(seed: 11, merchants: 50)
        var streams: [[Operation]] = [[], []]
        var digests: [StateDigest] = []
        for run in 0..<2 {
            let (ledger, _) = drive(configuration, operations: 8_000) { _, _, batch, _ in
                streams[run].append(contentsOf: batch.operations)
            }
            digests.append(ledger.digest())
        }
        #expect(streams[0].count == 8_000)
        #expect(streams[0] == streams[1])
        #expect(digests[0] == digests[1])

        let summary = PaymentSimulation.run(.init(operations: 8_000, batchSize: 500, workload: configuration))
        #expect(summary.digest == digests[0], "the simulation drives the workload the same way")

        var other = configuration
        other.seed = 12
        var otherStream: [Operation] = []
        let (otherLedger, _) = drive(other, operations: 8_000) { _, _, batch, _ in
            otherStream.append(contentsOf: batch.operations)
        }
        #expect(otherStream != streams[0])
        #expect(otherLedger.digest() != digests[0])
    }

    @Test func everyFlowOccursAndRejectionsAreRare() {
        let summary = PaymentSimulation.run(.init(operations: 50_000, batchSize: 1_000, seed: 3))
        for flow in PaymentFlow.allCases {
            #expect(summary.flowCounts[flow] > 0, "no \(flow) in 50,000 operations")
        }
        print("flows:", summary.flowCounts)
        print("results:", summary.sortedResultCounts.map { "\($0.code)=\($0.count)" }.joined(separator: " "))
        print("rejections by flow:", summary.rejectionsByFlow)
        let workload = summary.workload
        print("rejection rate: \(summary.rejectionRate), postings: \(summary.postings)", terminator: ", ")
        print("fallbacks: \(workload.fallbacks), abandoned follow-ups: \(workload.followUpsAbandoned)")
        #expect(summary.rejectionRate < 0.02)
        #expect(summary.workload.replayed[.duplicateRetry] == summary.flowCounts[.duplicateRetry])
        #expect(summary.replays >= summary.flowCounts[.duplicateRetry])
        // Late captures come after the engine expired the hold.
        #expect(summary.workload.succeeded[.lateCapture] == 0)
        #expect(summary.postings > 45_000)
    }

    @Test func ledgerInvariantsHoldAndConstraintsAreRespected() {
        var configuration = PaymentWorkload.Configuration(seed: 5, merchants: 120)
        configuration.businessStepNanoseconds = 5_000_000_000
        let (ledger, workload) = drive(configuration, operations: 40_000)
        #expect(ledger.checkInvariants().isEmpty)
        #expect(ledger.statistics.accounts == workload.accountCount)
        // Only the deliberate late captures are rejected for want of balance or of a live hold.
        let statistics = workload.statistics
        var rejected = 0
        for flow in PaymentFlow.allCases where !flow.isDeliberate {
            rejected += statistics.rejected[flow]
        }
        #expect(Double(rejected) < 0.02 * Double(statistics.sent.total))

        // Merchant payables carry the constraint and hold money; bank cash has received
        // settlements and paid out.
        let usd = ledger.aggregateBalance(kind: .merchantPayable, asset: "USD", .total)!
        #expect(usd.creditsPosted > usd.debitsPosted && usd.debitsPosted > 0)
        let cash = ledger.aggregateBalance(kind: .bankCash, asset: "USD", .total)!
        #expect(cash.debitsPosted > cash.creditsPosted && cash.creditsPosted > 0)
        // Traffic is skewed: the 10 hottest merchants earn more than the 100 coldest together.
        var hottest: UInt128 = 0
        var coldest: UInt128 = 0
        for asset: AssetCode in ["USD", "EUR", "GBP"] {
            for (merchant, balance) in ledger.aggregateBalances(kind: .merchantPayable, asset: asset, by: .merchant) {
                if merchant >= 1 && merchant <= 10 { hottest += balance.creditsPosted }
                if merchant > 20 { coldest += balance.creditsPosted }
            }
        }
        #expect(hottest > coldest + coldest / 2)
    }

    @Test func holdsArePartiallyCapturedIncreasedVoidedAndExpired() {
        var configuration = PaymentWorkload.Configuration(seed: 9, merchants: 80)
        configuration.businessStepNanoseconds = 4_000_000_000
        var partialCaptures = 0
        var finalCaptures = 0
        var increases = 0
        var voids = 0
        var linkedFees = 0
        let (ledger, workload) = drive(configuration, operations: 30_000) { ledger, workload, batch, results in
            for index in 0..<batch.count where results[index].code == .ok && !results[index].isReplay {
                let id = results[index].transactionID
                guard case .found(let record) = ledger.transaction(id) else { continue }
                switch batch.operation(at: index) {
                case .capture(_, let terms, _):
                    guard record.type == .capture else { continue }
                    if let hold = ledger.hold(terms.hold) {
                        #expect(hold.captured > 0 && hold.captured < hold.amount)
                        partialCaptures += 1
                    } else if terms.isFinal {
                        finalCaptures += 1
                    }
                    if batch.isLinked(at: index) {
                        linkedFees += 1
                        #expect(workload.flow(ofOperationAt: index + 1) == .authorisationFee)
                    }
                case .increaseHold:
                    #expect(record.kind == .increaseHold)
                    increases += 1
                case .voidHold:
                    #expect(record.released > 0)
                    voids += 1
                default:
                    break
                }
            }
        }
        let statistics = workload.statistics
        print("partial", partialCaptures, "final", finalCaptures, "increases", increases, "voids", voids)
        #expect(partialCaptures > 20)
        #expect(finalCaptures > 20)
        #expect(increases > 20)
        #expect(voids > 20)
        #expect(linkedFees > 100)
        #expect(statistics.succeeded[.reserveRelease] > 0 && statistics.succeeded[.reserveRetention] > 0)
        #expect(statistics.succeeded[.reservePayback] > 0)
        // Holds left alone were expired by the driver; none is overdue.
        #expect(
            ledger.openHolds.allSatisfy {
                $0.deadline.nanosecondsSinceEpoch > ledger.recordedTime.nanosecondsSinceEpoch
            }
        )
        #expect(ledger.checkInvariants().isEmpty)
    }

    @Test func fxSettlementsCarryRatesAndBalancePerAsset() {
        var checked = 0
        var pairs = Set<String>()
        _ = drive(PaymentWorkload.Configuration(seed: 21, merchants: 60), operations: 30_000) {
            ledger,
            _,
            batch,
            results in
            for index in 0..<batch.count where results[index].code == .ok && !results[index].isReplay {
                guard case .post(let header, _, let rates, _) = batch.operation(at: index), !rates.isEmpty else {
                    continue
                }
                #expect(header.type == .settlement)
                guard case .found(let record) = ledger.transaction(results[index].transactionID) else {
                    Issue.record("settlement not found")
                    continue
                }
                #expect(record.fxRates == rates)
                #expect(rates.allSatisfy { $0.numerator > 0 && $0.denominator > 0 })
                var sums: [AssetCode: (debits: UInt128, credits: UInt128)] = [:]
                for leg in record.legs {
                    let asset = ledger.account(leg.account)!.asset
                    var sum = sums[asset, default: (0, 0)]
                    if leg.side == .debit { sum.debits += leg.amount } else { sum.credits += leg.amount }
                    sums[asset] = sum
                }
                #expect(sums.count == 2)
                #expect(sums.values.allSatisfy { $0.debits == $0.credits })
                let rate = rates[0]
                #expect(rate.quote == "USD" && sums[rate.base] != nil)
                // The quote amount is the base amount at the rate (rounded down).
                let base = sums[rate.base]!.debits
                let quote = sums[rate.quote]!.debits
                #expect(quote == base * UInt128(rate.numerator) / UInt128(rate.denominator))
                pairs.insert("\(rate.base)/\(rate.quote) \(rate.numerator)/\(rate.denominator)")
                checked += 1
            }
        }
        print("FX settlements:", checked, pairs.sorted().prefix(6))
        #expect(checked >= 10)
        #expect(Set(pairs.map { $0.prefix(4) }).count >= 3, "several currencies settle through FX")
    }

    @Test func queuesStayWithinTheirCapacity() {
        var configuration = PaymentWorkload.Configuration(seed: 2, merchants: 40)
        configuration.followUpCapacity = 16
        configuration.recentCaptureCapacity = 32
        configuration.retryCapacity = 4
        configuration.duplicateRetryRate = 0.05
        configuration.holdTimeoutSeconds = 86_400...(7 * 86_400)
        var highest = 0
        let (ledger, workload) = drive(configuration, operations: 20_000) { _, workload, _, _ in
            highest = max(highest, workload.pendingFollowUps)
            #expect(workload.bufferedElementCapacity <= workload.bufferedElementCapacityMax)
        }
        #expect(highest <= workload.followUpCapacity)
        #expect(workload.statistics.followUpsHighWater <= workload.followUpCapacity)
        #expect(workload.statistics.followUpsDropped > 0, "the queues were full and dropped follow-ups")
        #expect(workload.statistics.retriesDropped > 0)
        #expect(workload.bufferedElementCapacity <= workload.bufferedElementCapacityMax)
        #expect(ledger.checkInvariants().isEmpty)
    }

    @Test func chartOfAccountsAndScaling() {
        let configuration = PaymentWorkload.Configuration(seed: 1, merchants: 3, psps: 2, banks: 2)
        let (ledger, workload) = drive(configuration, operations: 0)
        #expect(workload.accountCount == 5 * (2 * 3 + 2 + 2 + 5))
        #expect(ledger.statistics.accounts == workload.accountCount)
        #expect(ledger.allAssets.map(\.code) == ["USD", "EUR", "GBP", "USDC", "ETH"])
        #expect(ledger.asset("ETH")?.scale == 18 && ledger.asset("USDC")?.scale == 6)
        let payable = ledger.account(1_000_000_002_001)!
        #expect(payable.kind == .merchantPayable && payable.asset == "USD" && payable.merchant == 2)
        #expect(payable.flags == .debitsMustNotExceedCredits)
        let cash = ledger.account(3_000_000_002_005)!
        #expect(cash.kind == .bankCash && cash.asset == "ETH" && cash.partner == 2_002)
        #expect(cash.flags == .creditsMustNotExceedDebits)
        #expect(ledger.account(2_000_000_001_003)?.partner == 1_001)
        #expect(ledger.account(10_000_000_000_002)?.kind == .suspense)
        #expect(ledger.account(8_000_000_003_004)?.kind == .rollingReserve)

        let large = PaymentWorkload.Configuration.scaled(toAccounts: 1_000_000)
        #expect(large.accountCount <= 1_000_000 && large.accountCount > 999_900)

        var month = PaymentWorkload.Configuration()
        month.spreadBusinessTime(seconds: 30 * 86_400, overOperations: 100_000_000)
        #expect(month.businessStepNanoseconds == 25_920_000)
    }
}
