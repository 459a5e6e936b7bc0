import TallyCore
import TallyTestKit
import Testing

/// The ledger-state encoding of snapshots (``LedgerState``): a restored ledger has the same digest,
/// passes every invariant and behaves exactly like the original from then on (same results, same
/// evictions, same expiries); malformed sections are refused with an error, never a trap.
@Suite("Ledger state encoding")
struct LedgerStateTests {
    /// Every section of `ledger`, encoded.
    static func encode(_ ledger: Ledger) -> [LedgerState.Section: [UInt8]] {
        var sections: [LedgerState.Section: [UInt8]] = [:]
        for section in LedgerState.Section.allCases {
            nonisolated(unsafe) var bytes: [UInt8] = []
            try! ledger.encodeState(section) { bytes.append(contentsOf: $0) }
            sections[section] = bytes
        }
        return sections
    }

    static func decode(
        _ sections: [LedgerState.Section: [UInt8]],
        configuration: LedgerConfiguration
    ) throws -> Ledger {
        var decoder = LedgerStateDecoder(configuration: configuration)
        for section in LedgerState.Section.allCases {
            try decoder.decode(section, from: LedgerStateBytes(sections[section]!))
        }
        return try decoder.finish()
    }

    /// A configuration with short windows, so that a short run evicts keys and records.
    static func shortWindows(hashSeed: UInt64 = 1) -> LedgerConfiguration {
        LedgerConfiguration(
            idempotencyWindowSeconds: 120,
            transactionRetentionSeconds: 60,
            hashSeed: hashSeed,
            expectedAccounts: 64
        )
    }

    /// Drives the payment workload into both ledgers alike and checks every result is equal.
    static func applyAlike(
        _ workload: inout PaymentWorkload,
        _ ledgers: inout (Ledger, Ledger),
        operations: Int
    ) {
        var batch = OperationBatch()
        var applied = 0
        while applied < operations {
            let time = workload.nextBatch(into: &batch, count: 250)
            // The expiry schedule is not in the digest: both must find the same holds due.
            let due = ledgers.0.dueHoldExpiries(at: time)
            #expect(ledgers.1.dueHoldExpiries(at: time) == due)
            #expect(ledgers.1.nextHoldDeadline() == ledgers.0.nextHoldDeadline())
            let expiries = OperationBatch(due.map { .expireHold(hold: $0) })
            #expect(ledgers.0.apply(expiries, at: time) == ledgers.1.apply(expiries, at: time))
            let results = ledgers.0.apply(batch, at: time)
            #expect(ledgers.1.apply(batch, at: time) == results)
            workload.observe(results, of: batch)
            applied += batch.count
        }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func aRestoredLedgerHasTheSameDigestAndBehavesAlike(seed: UInt64) throws {
        var configuration = PaymentWorkload.Configuration.scaled(toAccounts: 400, seed: seed)
        configuration.businessStepNanoseconds = 20_000_000  // 50 operations per business second
        var workload = PaymentWorkload(configuration: configuration)
        var ledger = Ledger(configuration: Self.shortWindows())
        var scratch = Ledger(configuration: Self.shortWindows())
        var pair = (ledger, scratch)
        Self.applyAlike(&workload, &pair, operations: 20_000)
        (ledger, scratch) = pair

        // The run must have evicted keys and records and left holds open, or the test proves little.
        let statistics = ledger.statistics
        #expect(statistics.openHolds > 0)
        #expect(statistics.retainedKeys < statistics.transactions)
        #expect(statistics.retainedTransactions < Int(statistics.transactions))

        // Another hash seed and other capacity hints: only the layout of the indexes changes.
        var restoredConfiguration = Self.shortWindows(hashSeed: 0xFEED_F00D)
        restoredConfiguration.expectedAccounts = 8
        restoredConfiguration.expectedRetainedKeys = 16
        let restored = try Self.decode(Self.encode(ledger), configuration: restoredConfiguration)
        #expect(restored.digest() == ledger.digest())
        #expect(restored.checkInvariants().isEmpty)
        #expect(Self.counts(restored.statistics) == Self.counts(ledger.statistics))
        // Encoding the restored ledger gives the same bytes.
        #expect(Self.encode(restored) == Self.encode(ledger))

        // From here on both behave alike: results, evictions, expiries.
        var both = (ledger, restored)
        Self.applyAlike(&workload, &both, operations: 10_000)
        #expect(both.0.digest() == both.1.digest())
        #expect(both.1.checkInvariants().isEmpty)
    }

    /// The statistics that are state, not memory layout.
    static func counts(_ statistics: LedgerStatistics) -> [UInt64] {
        [
            UInt64(statistics.assets), UInt64(statistics.accounts), UInt64(statistics.aggregateBuckets),
            UInt64(statistics.openHolds), statistics.transactions, UInt64(statistics.retainedTransactions),
            UInt64(statistics.reversedTransactions), UInt64(statistics.retainedKeys), statistics.rejectedOperations,
            statistics.batches, statistics.recordedTime.nanosecondsSinceEpoch,
        ]
    }

    @Test func randomOperationsRestoreExactly() throws {
        let configuration = LedgerConfiguration(
            idempotencyWindowSeconds: RandomOperations.idempotencyWindowSeconds,
            accountsMax: RandomOperations.accountsMax
        )
        var model = ReferenceLedger(
            idempotencyWindowSeconds: RandomOperations.idempotencyWindowSeconds,
            accountsMax: RandomOperations.accountsMax
        )
        var ledger = Ledger(configuration: configuration)
        var generator = RandomOperations(seed: 0x5AFE)
        var checkpoints = 0
        while generator.operationCount < 6_000 {
            let time = generator.nextTime(observing: model)
            let due = model.dueHoldExpiries(at: max(time, model.recordedTime))
            let operations = generator.nextBatch(dueExpiries: due, model: model)
            var batch = OperationBatch()
            for entry in operations {
                batch.append(entry.operation, linked: entry.linked)
            }
            #expect(ledger.apply(batch, at: time) == model.apply(operations, at: time))
            generator.observe(model)
            if generator.operationCount / 1_000 > checkpoints {
                checkpoints += 1
                let restored = try Self.decode(Self.encode(ledger), configuration: configuration)
                #expect(restored.digest() == ledger.digest())
                #expect(restored.checkInvariants().isEmpty)
                ledger = restored  // go on from the restored one: the model keeps it honest
            }
        }
        #expect(checkpoints >= 5)
        #expect(try ledger.digest() == Self.decode(Self.encode(ledger), configuration: configuration).digest())
    }

    @Test func anEmptyLedgerRoundTrips() throws {
        let ledger = Ledger()
        let restored = try Self.decode(Self.encode(ledger), configuration: LedgerConfiguration())
        #expect(restored.digest() == ledger.digest())
    }

    // MARK: - Refusals

    static func sampleState() -> (Ledger, [LedgerState.Section: [UInt8]]) {
        var simulation = PaymentSimulation(
            PaymentSimulation.Options(
                operations: 3_000,
                batchSize: 300,
                workload: .scaled(toAccounts: 120, seed: 9),
                ledger: Self.shortWindows()
            )
        )
        while simulation.step() {}
        return (simulation.ledger, Self.encode(simulation.ledger))
    }

    @Test func everyTruncationAndAnyTrailingByteIsRefused() {
        let (_, sections) = Self.sampleState()
        for section in LedgerState.Section.allCases {
            let bytes = sections[section]!
            #expect(!bytes.isEmpty)
            // Every cut point of the small sections, a spread of them in the large ones.
            let step = max(1, bytes.count / 300)
            for cut in stride(from: 0, to: bytes.count, by: step) {
                var damaged = sections
                damaged[section] = Array(bytes[..<cut])
                #expect(throws: LedgerState.DecodingError.self, "\(section) cut at \(cut)") {
                    try Self.decode(damaged, configuration: Self.shortWindows())
                }
            }
            var longer = sections
            longer[section] = bytes + [0]
            #expect(throws: LedgerState.DecodingError.self, "\(section) with a trailing byte") {
                try Self.decode(longer, configuration: Self.shortWindows())
            }
        }
    }

    @Test func flippedBytesAreRefusedOrCaughtByTheInvariantsAndNeverTrap() {
        let (ledger, sections) = Self.sampleState()
        let digest = ledger.digest()
        var random = SeededRandom(seed: 0xB17F)
        var refused = 0
        var caught = 0
        var unseen = 0
        for _ in 0..<600 {
            let section = LedgerState.Section.allCases.randomElement(using: &random)!
            var bytes = sections[section]!
            let index = Int.random(in: 0..<bytes.count, using: &random)
            bytes[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            var damaged = sections
            damaged[section] = bytes
            guard let restored = try? Self.decode(damaged, configuration: Self.shortWindows()) else {
                refused += 1
                continue
            }
            // Decoded: whatever changed must show in the digest (which reads every record, so it
            // would trap on a malformed one), unless the flip hit a field the digest leaves out.
            if restored.digest() != digest || !restored.checkInvariants().isEmpty {
                caught += 1
            } else {
                unseen += 1
            }
        }
        #expect(refused > 0)
        #expect(caught > 0)
        // Only the operational counters (batches, rejections) are outside the digest.
        #expect(unseen < 60)
    }

    @Test func theWindowsTheVersionAndTheOrderAreChecked() throws {
        let (_, sections) = Self.sampleState()
        var other = Self.shortWindows()
        other.idempotencyWindowSeconds += 1
        #expect(throws: LedgerState.DecodingError.self) { try Self.decode(sections, configuration: other) }

        var future = sections
        future[.counters]![0] = 2
        let error = try #require(throws: LedgerState.DecodingError.self) {
            try Self.decode(future, configuration: Self.shortWindows())
        }
        #expect(error.section == .counters && error.description.contains("version 2"))

        var decoder = LedgerStateDecoder(configuration: Self.shortWindows())
        #expect(throws: LedgerState.DecodingError.self) {
            try decoder.decode(.assets, from: LedgerStateBytes(sections[.assets]!))
        }
        try decoder.decode(.counters, from: LedgerStateBytes(sections[.counters]!))
        #expect(decoder.nextSection == .assets)
        #expect(throws: LedgerState.DecodingError.self) { try decoder.finish() }
    }

    @Test func duplicatesAreRefused() throws {
        var ledger = Ledger()
        _ = ledger.apply(
            OperationBatch([
                .createAsset(CreateAsset(code: "USD", scale: 2)),
                .createAccount(CreateAccount(id: 1, asset: "USD", kind: .bankCash)),
                .createAccount(CreateAccount(id: 2, asset: "USD", kind: .merchantPayable)),
            ]),
            at: Timestamp(secondsSinceEpoch: 1_800_000_000)
        )
        var sections = Self.encode(ledger)
        // Make the second account's id equal the first one's (the id is the first field).
        let accounts = sections[.accounts]!
        let recordBytes = (accounts.count - 4) / 2
        var damaged = accounts
        damaged.replaceSubrange(4 + recordBytes..<4 + recordBytes + 8, with: accounts[4..<12])
        sections[.accounts] = damaged
        let error = try #require(throws: LedgerState.DecodingError.self) {
            try Self.decode(sections, configuration: LedgerConfiguration())
        }
        #expect(error.description.contains("appears twice"))
    }

    @Test func duplicateKeysAndBucketsAreRefused() throws {
        let (_, sections) = Self.sampleState()
        // Keys: u32 chunk capacity, u64 head, u64 count, u64 chunk count, the chunk times, then
        // entries of 32 bytes. Make the last entry a copy of the first.
        var keys = sections[.keys]!
        let count = keys.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 12, as: UInt64.self).littleEndian) }
        let chunks = keys.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 20, as: UInt64.self).littleEndian) }
        #expect(count >= 2)
        let entries = 28 + 8 * chunks
        keys.replaceSubrange(entries + 32 * (count - 1)..<entries + 32 * count, with: keys[entries..<entries + 32])
        var damaged = sections
        damaged[.keys] = keys
        let keyError = try #require(throws: LedgerState.DecodingError.self) {
            try Self.decode(damaged, configuration: Self.shortWindows())
        }
        #expect(keyError.section == .keys && keyError.description.contains("appears twice"), "\(keyError)")

        // Aggregate buckets: u32 count, then 77 bytes each, the key in the first 13. Give the second
        // bucket the first one's key.
        var buckets = sections[.aggregates]!
        buckets.replaceSubrange(4 + 77..<4 + 77 + 13, with: buckets[4..<4 + 13])
        damaged = sections
        damaged[.aggregates] = buckets
        let bucketError = try #require(throws: LedgerState.DecodingError.self) {
            try Self.decode(damaged, configuration: Self.shortWindows())
        }
        #expect(
            bucketError.section == .aggregates && bucketError.description.contains("appears twice"),
            "\(bucketError)"
        )
    }

    @Test func keysDecodedApartRestoreTheSameState() throws {
        let (ledger, sections) = Self.sampleState()
        var decoder = LedgerStateDecoder(configuration: Self.shortWindows())
        // The keys are checked against the counters: not before those are decoded.
        #expect(throws: LedgerState.DecodingError.self) { try decoder.keysDecoder() }
        try decoder.decode(.counters, from: LedgerStateBytes(sections[.counters]!))
        let keysDecoder = try decoder.keysDecoder()
        let keys = try keysDecoder.decode(from: LedgerStateBytes(sections[.keys]!))
        for section in [LedgerState.Section.assets, .aggregates, .accounts, .holds, .reversals] {
            try decoder.decode(section, from: LedgerStateBytes(sections[section]!))
        }
        try decoder.adopt(keys)
        try decoder.decode(.transactions, from: LedgerStateBytes(sections[.transactions]!))
        let restored = try decoder.finish()
        #expect(restored.digest() == ledger.digest())
        #expect(restored.checkInvariants().isEmpty)

        // A short keys section is refused apart as it is in order; and keys come in their turn only.
        #expect(throws: LedgerState.DecodingError.self) {
            _ = try keysDecoder.decode(from: LedgerStateBytes(Array(sections[.keys]!.dropLast())))
        }
        var early = LedgerStateDecoder(configuration: Self.shortWindows())
        try early.decode(.counters, from: LedgerStateBytes(sections[.counters]!))
        let earlyKeys = try early.keysDecoder().decode(from: LedgerStateBytes(sections[.keys]!))
        #expect(throws: LedgerState.DecodingError.self) { try early.adopt(earlyKeys) }
    }
}
