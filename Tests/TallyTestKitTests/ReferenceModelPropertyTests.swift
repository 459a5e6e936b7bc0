import TallyCore
import TallyTestKit
import Testing

/// Differential property tests: `TallyCore.Ledger` against the naive `ReferenceLedger`, which was
/// written from docs/LEDGER.md alone, on hundreds of thousands of adversarial random operations.
///
/// Every batch must give equal results element by element, equal due expiries, equal accounts and
/// asset totals; every few thousand operations the core's own invariant check runs and aggregates,
/// open holds and remembered keys are compared too. Then each seed's batches are replayed into
/// fresh ledgers (one with another hash seed) for equal digests, and the last batches' keyed
/// operations are resent to check that retries replay and change nothing.
@Suite struct ReferenceModelPropertyTests {
    static let seeds: [UInt64] = [0x5EED_0001, 0x5EED_0002, 0x5EED_0003, 0x5EED_0004]
    static let operationsPerSeed = 75_000
    /// Operations between the expensive checks (invariants, aggregates, holds, keys).
    static let heavyCheckInterval = 5_000

    /// Far longer than any run's engine time, so that no transaction record is ever evicted: the
    /// model assumes that (see ``ReferenceLedger``).
    static let transactionRetentionSeconds: UInt64 = 100 * 366 * 86_400

    static func configuration(hashSeed: UInt64 = 0x5441_4C4C_595F_5345) -> LedgerConfiguration {
        LedgerConfiguration(
            idempotencyWindowSeconds: RandomOperations.idempotencyWindowSeconds,
            transactionRetentionSeconds: transactionRetentionSeconds,
            hashSeed: hashSeed,
            accountsMax: RandomOperations.accountsMax
        )
    }

    @Test func coreMatchesReferenceModel() async {
        let reports = await withTaskGroup(of: SeedReport.self) { group in
            for seed in Self.seeds {
                group.addTask { Self.run(seed: seed) }
            }
            group.addTask { Self.runLimits() }
            var reports: [SeedReport] = []
            for await report in group { reports.append(report) }
            return reports
        }
        var coverage = Set<UInt16>()
        var operations = 0
        for report in reports.sorted(by: { $0.name < $1.name }) {
            coverage.formUnion(report.coverage)
            operations += report.operationsCompared
            for failure in report.failures {
                Issue.record(Comment(rawValue: failure))
            }
        }
        coverage.formUnion(Self.retentionScenario())
        var kindCodes: [UInt32: Int] = [:]
        for report in reports { kindCodes.merge(report.kindCodes, uniquingKeysWith: +) }
        #expect(operations >= 200_000, "compared only \(operations) operations")
        // Every code is reachable: `transaction_not_retained` only in the scripted retention
        // scenario (the model never evicts records), `assets_limit_reached` and the end-of-time
        // `hold_timeout_invalid` in the limits run.
        let missing = ResultCode.all.filter { !coverage.contains($0.code.rawValue) }.map { $0.name }
        #expect(missing.isEmpty, "result codes never produced: \(missing)")
        // Rules that only some operation kinds reach, so a code seen elsewhere does not prove them.
        let missingPairs = Self.requiredKindCodes.filter { kind, code in
            kindCodes[UInt32(kind.rawValue) << 16 | UInt32(code.rawValue), default: 0] == 0
        }
        #expect(missingPairs.isEmpty, "operation kinds that never produced a code: \(missingPairs)")
        let seedReports = reports.filter { $0.name.hasPrefix("seed") }
        #expect(seedReports.allSatisfy { $0.keyChunkDrops > 0 }, "a seed never dropped key chunks")
        #expect(seedReports.allSatisfy { $0.replayedRejections > 0 }, "a seed never replayed a rejection")
        #expect(seedReports.contains { $0.replaysInFailedChains > 0 }, "no failed chain replayed an earlier result")
    }

    /// Pairs of operation kind and result code that the random batches must produce.
    static let requiredKindCodes: [(OperationKind, ResultCode)] = [
        (.post, .exceedsCredits), (.post, .exceedsDebits), (.post, .amountOverflow), (.post, .unbalanced),
        (.hold, .exceedsCredits), (.hold, .exceedsDebits), (.hold, .amountOverflow), (.hold, .accountFrozen),
        (.capture, .holdExpired), (.capture, .accountFrozen), (.capture, .captureExceedsHold), (.capture, .ok),
        (.increaseHold, .amountOverflow), (.increaseHold, .exceedsCredits), (.increaseHold, .exceedsDebits),
        (.increaseHold, .holdExpired), (.voidHold, .holdExpired), (.voidHold, .holdAlreadyFinal),
        (.expireHold, .ok), (.expireHold, .holdNotDue), (.expireHold, .holdAlreadyFinal),
        (.expireHold, .linkedOperationFailed), (.reverse, .amountOverflow), (.reverse, .exceedsCredits),
        (.reverse, .exceedsDebits), (.reverse, .accountFrozen), (.reverse, .alreadyReversed),
        (.reverse, .notReversible), (.createAsset, .linkedOperationFailed),
        (.createAccount, .linkedOperationFailed), (.setAccountStatus, .accountNotEmpty),
        (.setAccountStatus, .accountClosed),
    ]

    // MARK: - One seed

    struct SeedReport: Sendable {
        var name: String
        var coverage: Set<UInt16> = []
        /// How often each operation kind produced each code: kind << 16 | code.
        var kindCodes: [UInt32: Int] = [:]
        /// Members of failed chains, other than the failing one, that replayed an earlier result.
        var replaysInFailedChains = 0
        /// Replays of a remembered rejection.
        var replayedRejections = 0
        /// Batches at whose start key chunks were dropped.
        var keyChunkDrops = 0
        var operationsCompared = 0
        var failures: [String] = []
    }

    static func run(seed: UInt64) -> SeedReport {
        var run = DifferentialRun(name: "seed \(String(seed, radix: 16))", configuration: configuration())
        var generator = RandomOperations(seed: seed)
        var batches: [RandomOperations.Batch] = []
        var operationsSinceHeavyCheck = 0
        while run.report.operationsCompared < operationsPerSeed && run.report.failures.isEmpty {
            let time = generator.nextTime(observing: run.model)
            let now = max(time, run.model.recordedTime)
            let due = run.model.dueHoldExpiries(at: now)
            let coreDue = run.ledger.dueHoldExpiries(at: now)
            guard due == coreDue else {
                run.fail("batch \(batches.count): due expiries at \(now): model \(due), core \(coreDue)")
                break
            }
            let operations = generator.nextBatch(dueExpiries: due, model: run.model)
            batches.append(RandomOperations.Batch(time: time, operations: operations))
            guard run.applyAndCompare(operations, at: time, batchNumber: batches.count - 1) != nil else { break }
            generator.observe(run.model)
            operationsSinceHeavyCheck += operations.count
            if operationsSinceHeavyCheck >= heavyCheckInterval {
                operationsSinceHeavyCheck = 0
                run.heavyChecks(batchNumber: batches.count - 1)
            }
        }
        guard run.report.failures.isEmpty else { return run.report }
        run.heavyChecks(batchNumber: batches.count - 1)
        run.checkDeterminism(batches)
        run.checkRetries(batches)
        return run.report
    }

    // MARK: - Limits that random batches do not reach

    /// 4,096 assets, and holds at the end of 64-bit time.
    static func runLimits() -> SeedReport {
        var run = DifferentialRun(name: "limits", configuration: configuration())
        var time = Timestamp(secondsSinceEpoch: 1_000)
        var batchNumber = 0
        func step(_ operations: [Operation], linked: [Bool]? = nil) -> [OperationResult]? {
            let flags = linked ?? [Bool](repeating: false, count: operations.count)
            defer { batchNumber += 1 }
            return run.applyAndCompare(
                zip(operations, flags).map { (operation: $0, linked: $1) },
                at: time,
                batchNumber: batchNumber
            )
        }
        var creations: [Operation] = []
        for number in 0..<4_096 {
            creations.append(.createAsset(CreateAsset(code: AssetCode("A\(number)") ?? "A", scale: UInt8(number % 39))))
            if creations.count == 512 {
                guard step(creations) != nil else { return run.report }
                creations = []
            }
        }
        let header = TransactionHeader(key: 1, type: .capture)
        guard
            step(
                [
                    .createAsset(CreateAsset(code: "ONE.MORE", scale: 2)),
                    .createAsset(CreateAsset(code: "A7", scale: 7)),
                    .createAsset(CreateAsset(code: "A7", scale: 8)),
                    .createAccount(CreateAccount(id: 1, asset: "A2", kind: .bankCash)),
                    .createAccount(CreateAccount(id: 2, asset: "A2", kind: .merchantPayable)),
                    // A chain whose asset creation fails at the limit.
                    .createAccount(CreateAccount(id: 3, asset: "A2", kind: .bankCash)),
                    .createAsset(CreateAsset(code: "LAST", scale: 0)),
                ],
                linked: [false, false, false, false, false, true, false]
            ) != nil
        else { return run.report }

        // Near the end of 64-bit nanoseconds: a deadline that would not fit is rejected.
        time = Timestamp(nanosecondsSinceEpoch: UInt64.max - 5 * Timestamp.nanosecondsPerSecond)
        guard
            step([
                .hold(header, HoldTerms(debit: 1, credit: 2, amount: 10, timeoutSeconds: 6)),
                .hold(
                    TransactionHeader(key: 2, type: .capture),
                    HoldTerms(debit: 1, credit: 2, amount: 10, timeoutSeconds: 5)
                ),
                .hold(
                    TransactionHeader(key: 3, type: .capture),
                    HoldTerms(debit: 1, credit: 2, amount: 10, timeoutSeconds: 4)
                ),
                .hold(header, HoldTerms(debit: 1, credit: 2, amount: 10, timeoutSeconds: 6)),
            ]) != nil
        else { return run.report }
        time = Timestamp(nanosecondsSinceEpoch: UInt64.max)
        let due = run.model.dueHoldExpiries(at: time)
        let coreDue = run.ledger.dueHoldExpiries(at: time)
        if due != coreDue {
            run.fail("limits: due expiries at the end of time: model \(due), core \(coreDue)")
            return run.report
        }
        guard step(due.map { .expireHold(hold: $0) } + [.expireHold(hold: 1), .expireHold(hold: 99)]) != nil else {
            return run.report
        }
        run.heavyChecks(batchNumber: batchNumber)
        return run.report
    }

    // MARK: - Transaction retention (scripted from docs/LEDGER.md; the model never evicts)

    /// A short transaction retention: an evicted post cannot be reversed, a finished hold whose
    /// record is gone is not found, and an open hold still works. Returns the codes produced.
    static func retentionScenario() -> Set<UInt16> {
        var ledger = Ledger(configuration: LedgerConfiguration(transactionRetentionSeconds: 60))
        var batch = OperationBatch()
        batch.append(.createAsset(CreateAsset(code: "USD", scale: 2)))
        batch.append(.createAccount(CreateAccount(id: 1, asset: "USD", kind: .bankCash)))
        batch.append(.createAccount(CreateAccount(id: 2, asset: "USD", kind: .merchantPayable)))
        batch.append(.post(TransactionHeader(key: 1, type: .capture), legs: [.debit(1, 100), .credit(2, 100)]))
        batch.append(.hold(TransactionHeader(key: 2, type: .capture), HoldTerms(debit: 1, credit: 2, amount: 50)))
        batch.append(.hold(TransactionHeader(key: 3, type: .capture), HoldTerms(debit: 1, credit: 2, amount: 40)))
        batch.append(.voidHold(TransactionHeader(key: 4, type: .capture), hold: 3))
        let first = ledger.apply(batch, at: Timestamp(secondsSinceEpoch: 1_000))
        #expect(first.map(\.code) == [.ok, .ok, .ok, .ok, .ok, .ok, .ok])

        batch = OperationBatch()
        batch.append(.reverse(TransactionHeader(key: 5, type: .refund), transaction: 1))
        batch.append(.capture(TransactionHeader(key: 6, type: .capture), CaptureTerms(hold: 3, amount: 1)))
        batch.append(.capture(TransactionHeader(key: 7, type: .capture), CaptureTerms(hold: 2, amount: 50)))
        batch.append(.reverse(TransactionHeader(key: 8, type: .refund), transaction: 99))
        let later = ledger.apply(batch, at: Timestamp(secondsSinceEpoch: 1_000 + 86_400))
        #expect(
            later == [
                .rejected(.transactionNotRetained), .rejected(.holdNotFound), .ok(5), .rejected(.transactionNotFound),
            ]
        )
        #expect(ledger.transaction(1) == .notRetained)
        #expect(ledger.checkInvariants().isEmpty)
        return Set((first + later).map { $0.code.rawValue })
    }
}

// MARK: - The comparison machinery

/// A core ledger and the model side by side, with what was compared and what went wrong.
struct DifferentialRun: Sendable {
    var ledger: Ledger
    var model: ReferenceLedger
    var report: ReferenceModelPropertyTests.SeedReport
    /// Every key sent, for comparing remembered results.
    var keysSent: Set<IdempotencyKey> = []

    init(name: String, configuration: LedgerConfiguration) {
        self.ledger = Ledger(configuration: configuration)
        self.model = ReferenceLedger(configuration: configuration)
        self.report = ReferenceModelPropertyTests.SeedReport(name: name)
    }

    mutating func fail(_ message: String) {
        self.report.failures.append("\(self.report.name): \(message)")
    }

    /// Applies one batch to both sides and compares results and the cheap O(accounts) state.
    /// Returns the results, or nil after recording a mismatch.
    mutating func applyAndCompare(
        _ operations: [(operation: Operation, linked: Bool)],
        at time: Timestamp,
        batchNumber: Int
    ) -> [OperationResult]? {
        var batch = OperationBatch()
        for (operation, linked) in operations {
            batch.append(operation, linked: linked)
            if let key = operation.header?.key { self.keysSent.insert(key) }
        }
        let transactionsBefore = self.model.lastTransaction
        let keysBefore = self.model.retainedKeyCount
        let coreResults = self.ledger.apply(batch, at: time)
        let modelResults = self.model.apply(operations, at: time)
        self.report.operationsCompared += operations.count
        self.countScenarios(operations, modelResults, keysBefore: keysBefore)
        for (entry, result) in zip(operations, coreResults) {
            self.report.coverage.insert(result.code.rawValue)
            self.report.kindCodes[
                UInt32(entry.operation.kind.rawValue) << 16 | UInt32(result.code.rawValue),
                default: 0
            ] += 1
        }

        if coreResults != modelResults {
            var lines = ["batch \(batchNumber) at \(time) (recorded \(self.model.recordedTime)): results differ"]
            for index in operations.indices {
                let core = index < coreResults.count ? coreResults[index].description : "missing"
                let model = index < modelResults.count ? modelResults[index].description : "missing"
                let marker = core == model ? "  " : "!!"
                let link = operations[index].linked ? " [linked]" : ""
                lines.append("\(marker) #\(index)\(link) \(operations[index].operation)")
                lines.append("     core: \(core)   model: \(model)")
            }
            self.fail(lines.joined(separator: "\n"))
            return nil
        }
        let problems = self.cheapProblems(since: transactionsBefore)
        if !problems.isEmpty {
            var lines = ["batch \(batchNumber) at \(time): state differs after equal results"]
            lines += problems
            lines.append("batch:")
            for (index, entry) in operations.enumerated() {
                lines.append(
                    "  #\(index)\(entry.linked ? " [linked]" : "") \(entry.operation) -> \(modelResults[index])"
                )
            }
            self.fail(lines.joined(separator: "\n"))
            return nil
        }
        return coreResults
    }

    /// Counts the situations the coverage assertions ask for.
    mutating func countScenarios(
        _ operations: [(operation: Operation, linked: Bool)],
        _ results: [OperationResult],
        keysBefore: Int
    ) {
        let keysAdded = results.indices.filter { index in
            guard let key = operations[index].operation.header?.key, key.rawValue != 0 else { return false }
            return !results[index].isReplay && self.model.rememberedResult(key) == results[index]
        }
        if self.model.retainedKeyCount < keysBefore + keysAdded.count { self.report.keyChunkDrops += 1 }
        self.report.replayedRejections += results.filter { $0.isReplay && !$0.code.isOK }.count
        var start = 0
        for index in operations.indices where !operations[index].linked {
            let chain = results[start...index]
            if chain.count > 1 && chain.contains(where: { $0.code == .linkedOperationFailed && !$0.isReplay }) {
                let failing = chain.firstIndex { $0.code != .linkedOperationFailed && !$0.code.isOK } ?? -1
                self.report.replaysInFailedChains += chain.indices.filter { $0 != failing && chain[$0].isReplay }.count
            }
            start = index + 1
        }
    }

    /// Checks that cost O(accounts + assets + new transactions).
    func cheapProblems(since transactionsBefore: TransactionID) -> [String] {
        var problems: [String] = []
        if self.ledger.recordedTime != self.model.recordedTime {
            problems.append("recorded time: core \(self.ledger.recordedTime), model \(self.model.recordedTime)")
        }
        if self.ledger.lastTransaction != self.model.lastTransaction {
            problems.append(
                "last transaction: core \(self.ledger.lastTransaction), model \(self.model.lastTransaction)"
            )
        }
        let statistics = self.ledger.statistics
        if statistics.retainedKeys != self.model.retainedKeyCount {
            problems.append("retained keys: core \(statistics.retainedKeys), model \(self.model.retainedKeyCount)")
        }
        if statistics.openHolds != self.model.openHoldCount {
            problems.append("open holds: core \(statistics.openHolds), model \(self.model.openHoldCount)")
        }

        let coreAssets = self.ledger.allAssets
        for asset in coreAssets {
            let totals = asset.totals
            if totals.debitsPosted != totals.creditsPosted || totals.debitsPending != totals.creditsPending {
                problems.append("asset \(asset.code) does not balance: \(totals)")
            }
        }
        let assets = coreAssets.map(ReferenceLedger.Asset.init)
        if assets != self.model.allAssets {
            problems.append("assets: core \(assets)\n  model \(self.model.allAssets)")
        }

        let coreAccounts = self.ledger.allAccounts
        for account in coreAccounts {
            let balance = account.balance
            if account.flags.contains(.debitsMustNotExceedCredits),
                balance.debitsPosted.addingReportingOverflow(balance.debitsPending).overflow
                    || balance.debitsPosted + balance.debitsPending > balance.creditsPosted
            {
                problems.append("account \(account.id) breaks debits_must_not_exceed_credits: \(balance)")
            }
            if account.flags.contains(.creditsMustNotExceedDebits),
                balance.creditsPosted.addingReportingOverflow(balance.creditsPending).overflow
                    || balance.creditsPosted + balance.creditsPending > balance.debitsPosted
            {
                problems.append("account \(account.id) breaks credits_must_not_exceed_debits: \(balance)")
            }
        }
        let accounts = coreAccounts.map(ReferenceLedger.Account.init)
        let modelAccounts = self.model.allAccounts
        if accounts != modelAccounts {
            if accounts.count != modelAccounts.count {
                problems.append("account count: core \(accounts.count), model \(modelAccounts.count)")
            }
            for (core, model) in zip(accounts, modelAccounts) where core != model {
                problems.append("core  \(core)\n  model \(model)")
            }
        }

        var id = TransactionID(transactionsBefore.rawValue + 1)
        while id <= self.model.lastTransaction {
            problems += self.transactionProblems(id)
            id = TransactionID(id.rawValue + 1)
        }
        return problems
    }

    /// Compares the fields of a transaction record that docs/LEDGER.md specifies.
    func transactionProblems(_ id: TransactionID) -> [String] {
        guard let expected = self.model.transaction(id) else { return ["model lost transaction \(id)"] }
        guard case .found(let record) = self.ledger.transaction(id) else {
            return ["transaction \(id): core has no record (\(self.ledger.transaction(id)))"]
        }
        var differences: [String] = []
        func check<Value: Equatable>(_ name: String, _ core: Value, _ model: Value) {
            if core != model { differences.append("\(name) core \(core) model \(model)") }
        }
        check("id", record.id, expected.id)
        check("kind", record.kind, expected.kind)
        check("key", record.key, expected.key)
        check("fx rates", record.fxRates, expected.fxRates)
        check("references", record.references, expected.references)
        check("effective time", record.effectiveTime, expected.effectiveTime)
        check("recorded time", record.recordedTime, expected.recordedTime)
        check("actor", record.actor, expected.actor)
        check("reason", record.reason, expected.reason)
        check("link", record.link, expected.link)
        if expected.kind != .expireHold {
            check("type", record.type, expected.type)
        }
        switch expected.kind {
        case .post, .reverse:
            check("legs", record.legs, expected.legs)
        case .hold:
            check("deadline", record.deadline, expected.deadline)
        case .capture:
            check("final", record.isFinal, expected.isFinal)
            check("released", record.released, expected.released)
        case .voidHold, .expireHold:
            check("released", record.released, expected.released)
        case .createAsset, .createAccount, .setAccountStatus, .increaseHold:
            break
        }
        return differences.isEmpty
            ? [] : ["transaction \(id) (\(expected.kind)): " + differences.joined(separator: "; ")]
    }

    /// The expensive checks: the core's own invariants, open holds, aggregates, remembered keys.
    mutating func heavyChecks(batchNumber: Int) {
        var problems = self.ledger.checkInvariants().map { "invariant: \($0)" }
        let holds = self.ledger.openHolds.map(ReferenceLedger.Hold.init)
        if holds != self.model.openHolds {
            let coreOnly = Set(holds).subtracting(self.model.openHolds)
            let modelOnly = Set(self.model.openHolds).subtracting(holds)
            problems.append("open holds differ: core only \(coreOnly), model only \(modelOnly)")
        }

        var groups: [(AccountKind, AssetCode)] = []
        for account in self.model.allAccounts where !groups.contains(where: { $0 == (account.kind, account.asset) }) {
            groups.append((account.kind, account.asset))
        }
        for (kind, asset) in groups {
            var dimensions: [AggregateDimension] = [.total]
            dimensions += (0...5).map { AggregateDimension.merchant($0) }
            dimensions += (0...4).map { AggregateDimension.partner($0) }
            for dimension in dimensions {
                let core = self.ledger.aggregateBalance(kind: kind, asset: asset, dimension)
                let model = self.model.aggregateBalance(kind: kind, asset: asset, dimension)
                if core != model {
                    let text = "core \(String(describing: core)), model \(String(describing: model))"
                    problems.append("aggregate \(kind) \(asset) \(dimension): \(text)")
                }
            }
        }

        for (kind, asset) in groups {
            for grouping in [AggregateGrouping.merchant, .partner] {
                let core = self.ledger.aggregateBalances(kind: kind, asset: asset, by: grouping)
                let model = self.model.aggregateBalances(kind: kind, asset: asset, by: grouping)
                if core.map(\.value) != model.map(\.value) || core.map(\.balance) != model.map(\.balance) {
                    problems.append("aggregates \(kind) \(asset) by \(grouping): core \(core), model \(model)")
                }
            }
        }

        for key in self.keysSent {
            let record = self.ledger.idempotencyRecord(key)
            let expected = self.model.rememberedResult(key)
            if record?.result != expected {
                let text = "core \(String(describing: record?.result)), model \(String(describing: expected))"
                problems.append("key \(key): remembered results differ: \(text)")
            } else if let record, let transaction = record.transaction, transaction.id != record.result.transactionID {
                problems.append("key \(key): remembered transaction \(transaction.id) for result \(record.result)")
            }
        }
        if !problems.isEmpty {
            self.fail("heavy checks after batch \(batchNumber):\n" + problems.prefix(40).joined(separator: "\n"))
        }
    }

    /// Replays every batch into a fresh ledger and one with another hash seed: the digests must equal
    /// the original's. Only one of the replays asks for due expiries, which must not matter.
    mutating func checkDeterminism(_ batches: [RandomOperations.Batch]) {
        let digest = self.ledger.digest()
        var same = Ledger(configuration: self.ledger.configuration)
        var reseededConfiguration = self.ledger.configuration
        reseededConfiguration.hashSeed = 0x0123_4567_89AB_CDEF
        var reseeded = Ledger(configuration: reseededConfiguration)
        for batch in batches {
            var operations = OperationBatch()
            for (operation, linked) in batch.operations {
                operations.append(operation, linked: linked)
            }
            _ = same.dueHoldExpiries(at: batch.time)
            _ = same.apply(operations, at: batch.time)
            _ = reseeded.apply(operations, at: batch.time)
        }
        if same.digest() != digest || reseeded.digest() != digest {
            self.fail("digests differ: run \(digest), replay \(same.digest()), other hash seed \(reseeded.digest())")
        }
    }

    /// Resends every keyed operation of the last batches whose key is still retained with the same
    /// content, at the last batch's time: each must replay its remembered result, and nothing may
    /// change.
    mutating func checkRetries(_ batches: [RandomOperations.Batch]) {
        guard let time = batches.last?.time else { return }
        let digest = self.ledger.digest()
        let modelBefore = (self.model.retainedKeyCount, self.model.lastTransaction, self.model.allAccounts)
        var retries: [(operation: Operation, linked: Bool)] = []
        // The last batches, back to 200 retries at least (a late time jump may have dropped keys).
        for batch in batches.reversed() where retries.count < 200 {
            for (operation, _) in batch.operations where self.model.wouldReplay(operation) {
                retries.append((operation: operation, linked: false))
            }
        }
        if retries.count < 50 {
            self.fail("only \(retries.count) retries to check")
        }
        guard let results = self.applyAndCompare(retries, at: time, batchNumber: batches.count) else { return }
        for (retry, result) in zip(retries, results) {
            guard let key = retry.operation.header?.key, var expected = self.model.rememberedResult(key) else {
                self.fail("retry of \(retry.operation) is not remembered any more")
                continue
            }
            expected.isReplay = true
            if result != expected {
                self.fail("retry of \(retry.operation): \(result), remembered \(expected)")
            }
        }
        if self.ledger.digest() != digest {
            self.fail("retries changed the digest")
        }
        let modelAfter = (self.model.retainedKeyCount, self.model.lastTransaction, self.model.allAccounts)
        if modelBefore != modelAfter {
            self.fail("retries changed the model")
        }
    }
}
