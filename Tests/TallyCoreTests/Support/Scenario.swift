import Testing

@testable import TallyCore

/// One batch applied at one engine time.
struct Step: Sendable {
    var time: Timestamp
    var operations: [Operation]
    /// Indices of the operations chained to the next one.
    var linked: Set<Int>
    /// For setup steps: the results they must give; nil means every one is `ok`.
    var expected: [OperationResult]?

    /// The default time of a scenario's step under test, in seconds after the fixture.
    static let defaultSeconds: UInt64 = 60

    init(
        at seconds: UInt64 = Step.defaultSeconds,
        _ operations: [Operation],
        linked: Set<Int> = [],
        expect expected: [OperationResult]? = nil
    ) {
        self.init(at: Fixture.time(seconds), operations, linked: linked, expect: expected)
    }

    init(
        at time: Timestamp,
        _ operations: [Operation],
        linked: Set<Int> = [],
        expect expected: [OperationResult]? = nil
    ) {
        self.time = time
        self.operations = operations
        self.linked = linked
        self.expected = expected
    }

    /// An empty batch: engine time moves to `seconds` and retention is enforced, nothing else.
    static func timePasses(to seconds: UInt64) -> Step {
        Step(at: seconds, [])
    }

    var batch: OperationBatch {
        var batch = OperationBatch()
        for (index, operation) in self.operations.enumerated() {
            batch.append(operation, linked: self.linked.contains(index))
        }
        return batch
    }
}

/// What a scenario's step changes, relative to the state before it. Transactions, reversals and
/// remembered keys are derived from the expected results; everything not listed must stay equal.
struct Effect: Sendable {
    /// New balances of the accounts whose balance changes (also for accounts created by the step).
    var balances: [AccountID: Balance] = [:]
    var statuses: [AccountID: AccountStatus] = [:]
    /// Assets the step creates, in creation order.
    var newAssets: [(code: AssetCode, scale: UInt8)] = []
    /// Accounts the step creates, in creation order (open, zero balance unless in ``balances``).
    var newAccounts: [CreateAccount] = []
    var newAggregateBuckets = 0
    /// Every open hold after the step; nil when the holds do not change.
    var holds: [HoldInfo]?

    /// A rejection, a replay, or a chain that was rolled back.
    static let nothing = Effect()
}

/// A ledger rule as one line of a table: a starting state, one batch, its exact results and its
/// exact effect.
struct Scenario: Sendable, CustomTestStringConvertible {
    var name: String
    var configuration: LedgerConfiguration
    /// Whether the scenario starts from ``Fixture``; otherwise from an empty ledger.
    var usesFixture: Bool
    var setup: [Step]
    var step: Step
    var expected: [OperationResult]
    var effect: Effect
    /// Extra assertions on the ledger after the step, for what the table's columns do not say.
    var check: (@Sendable (Ledger) -> Void)?

    init(
        _ name: String,
        configuration: LedgerConfiguration = LedgerConfiguration(),
        usesFixture: Bool = true,
        setup: [Step] = [],
        step: Step,
        expect expected: [OperationResult],
        effect: Effect = .nothing,
        check: (@Sendable (Ledger) -> Void)? = nil
    ) {
        self.name = name
        self.configuration = configuration
        self.usesFixture = usesFixture
        self.setup = setup
        self.step = step
        self.expected = expected
        self.effect = effect
        self.check = check
    }

    var testDescription: String { self.name }

    /// The codes the step under test is expected to produce.
    var codes: Set<UInt16> { Set(self.expected.map(\.code.rawValue)) }

    func run() {
        var ledger = Ledger(configuration: self.configuration)
        if self.usesFixture {
            Fixture.apply(to: &ledger)
        }
        for (index, step) in self.setup.enumerated() {
            let results = ledger.apply(step.batch, at: step.time)
            if let expected = step.expected {
                #expect(results == expected, "setup step \(index)")
            } else {
                #expect(results.allSatisfy { $0.code == .ok }, "setup step \(index): \(results)")
            }
        }

        let before = LedgerSnapshot(ledger)
        let statisticsBefore = ledger.statistics
        let keys = self.step.operations.compactMap(\.header?.key).filter { $0.rawValue != 0 }
        var recordsBefore: [IdempotencyKey: IdempotencyRecord] = [:]
        for key in keys {
            recordsBefore[key] = ledger.idempotencyRecord(key)
        }

        let results = ledger.apply(self.step.batch, at: self.step.time)
        #expect(results == self.expected)
        #expect(ledger.checkInvariants() == [])
        guard results.count == self.expected.count else { return }

        // Transactions: every `ok` that is not a replay took the next id, in order, without gaps.
        let created = zip(self.step.operations, self.expected).filter {
            $1.code == .ok && !$1.isReplay && $1.transactionID != 0
        }
        let firstID = before.lastTransaction.rawValue + 1
        #expect(created.map(\.1.transactionID.rawValue) == Array(firstID..<firstID + UInt64(created.count)))
        for (operation, result) in created {
            guard case .found(let record) = ledger.transaction(result.transactionID) else {
                Issue.record("transaction \(result.transactionID) not found")
                continue
            }
            #expect(record.kind == operation.kind)
            #expect(record.key == operation.header?.key ?? 0)
            #expect(record.recordedTime == self.step.time)
        }

        var wanted = before
        for index in wanted.accounts.indices {
            let id = wanted.accounts[index].id
            wanted.accounts[index].balance = self.effect.balances[id] ?? wanted.accounts[index].balance
            wanted.accounts[index].status = self.effect.statuses[id] ?? wanted.accounts[index].status
        }
        for (code, scale) in self.effect.newAssets {
            wanted.assets.append(AssetInfo(code: code, scale: scale, totals: .zero))
        }
        for body in self.effect.newAccounts {
            wanted.accounts.append(
                AccountInfo(
                    id: body.id,
                    asset: body.asset,
                    kind: body.kind,
                    normalSide: body.normalSide ?? body.kind.builtInNormalSide!,
                    merchant: body.merchant,
                    partner: body.partner,
                    flags: body.flags,
                    status: self.effect.statuses[body.id] ?? .open,
                    balance: self.effect.balances[body.id] ?? .zero
                )
            )
        }
        wanted.recomputeAssetTotals()
        wanted.holds = self.effect.holds ?? before.holds
        wanted.lastTransaction = TransactionID(before.lastTransaction.rawValue + UInt64(created.count))
        wanted.retainedTransactions += created.count
        wanted.reversedTransactions += created.count(where: { $0.0.kind == .reverse })
        wanted.aggregateBuckets += self.effect.newAggregateBuckets
        let after = LedgerSnapshot(ledger)
        #expect(after == wanted, "state after the step:\n\(after)\nexpected:\n\(wanted)")

        // Keys (docs/LEDGER.md, Idempotency and Batches): a key taken before keeps its record; a new
        // key remembers the first result reported under it, unless that result is a replay or one
        // of the three that are never remembered.
        let neverRemembered: Set<ResultCode> = [.idempotencyKeyInvalid, .idempotencyConflict, .linkedChainOpen]
        var remembered: [IdempotencyKey: OperationResult] = [:]
        for (operation, result) in zip(self.step.operations, self.expected) {
            guard let key = operation.header?.key, key.rawValue != 0, recordsBefore[key] == nil,
                remembered[key] == nil, !result.isReplay, !neverRemembered.contains(result.code)
            else { continue }
            remembered[key] = result
        }
        for key in keys {
            if let record = recordsBefore[key] {
                #expect(ledger.idempotencyRecord(key)?.result == record.result, "key \(key) changed its record")
            } else {
                #expect(ledger.idempotencyRecord(key)?.result == remembered[key], "key \(key)")
            }
        }
        let statistics = ledger.statistics
        #expect(statistics.retainedKeys == statisticsBefore.retainedKeys + remembered.count)
        #expect(
            statistics.rejectedOperations
                == statisticsBefore.rejectedOperations + UInt64(self.expected.count(where: { $0.code != .ok }))
        )
        #expect(statistics.batches == statisticsBefore.batches + 1)

        self.check?(ledger)
    }
}

/// The definition of an account a step creates, for ``Effect/newAccounts``.
func accountDefinition(
    _ id: AccountID,
    _ asset: AssetCode,
    _ kind: AccountKind,
    side: Side? = nil,
    merchant: UInt64 = 0,
    partner: UInt64 = 0,
    flags: AccountFlags = []
) -> CreateAccount {
    CreateAccount(
        id: id,
        asset: asset,
        kind: kind,
        normalSide: side,
        merchant: merchant,
        partner: partner,
        flags: flags
    )
}
