import Testing

@testable import TallyCore

/// Transaction records round-trip through the compact store: what ``Ledger/transaction(_:)``
/// returns is exactly what was applied, for every kind.
@Suite("Transaction records")
struct TransactionRecordTests {
    let psp = Fixture.psp
    let merchant = Fixture.merchant

    func expectFound(
        _ ledger: Ledger,
        _ expected: TransactionRecord,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(ledger.transaction(expected.id) == .found(expected), sourceLocation: sourceLocation)
        if expected.key.rawValue != 0 {
            #expect(ledger.idempotencyRecord(expected.key)?.transaction == expected, sourceLocation: sourceLocation)
        }
    }

    @Test func everyKindRoundTrips() {
        var ledger = Fixture.ledger()
        let t1 = Fixture.time(1)
        let t2 = Fixture.time(40)
        let fxLegs: [Leg] = [
            .debit(psp, 0x1_0000_0000_0000_0000), .credit(Fixture.fxUSD, 0x1_0000_0000_0000_0000),
            .debit(Fixture.fxEUR, 255), .credit(Fixture.merchantEUR, 255),
        ]
        let rate = Op.rate("USD", "EUR", .max, 1)
        let references = ExternalReferences(paymentID: Op.reference(64), providerReference: "psp-ref-\u{e9}")
        let effective = Timestamp(nanosecondsSinceEpoch: 1_600_000_000_123_456_789)
        // A 16-byte amount that still leaves room in USD's volume for everything else.
        let big = UInt128.max - (1 << 65)
        let results = ledger.apply(
            [
                Op.post(
                    10,
                    fxLegs,
                    fx: [rate],
                    type: .adjustment,
                    refs: references,
                    effective: effective,
                    actor: .max,
                    reason: .max
                ),
                Op.hold(
                    11,
                    psp,
                    merchant,
                    256,
                    timeout: 30,
                    type: .reserveHold,
                    refs: ExternalReferences(paymentID: "h")
                ),
                Op.capture(12, 4, 56, final: false, type: TransactionType(rawValue: 1_000)),
                Op.increase(13, 4, 44),
                Op.capture(14, 4, 100, final: true, refs: ExternalReferences(providerReference: "final")),
                Op.hold(15, psp, merchant, big, timeout: 20),
                Op.hold(16, psp, merchant, 7),
                Op.void(17, 9),
                Op.capture(18, 8, 1),
            ],
            at: t1
        )
        #expect(results == (3...11).map { OperationResult.ok(TransactionID($0)) })
        #expect(
            ledger.apply([Op.expire(8), Op.reverse(19, 3, refs: references), Op.reverse(20, 7)], at: t2) == [
                .ok(12), .ok(13), .ok(14),
            ]
        )

        expectFound(
            ledger,
            TransactionRecord(
                id: 3,
                kind: .post,
                type: .adjustment,
                key: 10,
                legs: fxLegs,
                fxRates: [rate],
                references: references,
                effectiveTime: effective,
                recordedTime: t1,
                actor: .max,
                reason: .max
            )
        )
        expectFound(
            ledger,
            TransactionRecord(
                id: 4,
                kind: .hold,
                type: .reserveHold,
                key: 11,
                legs: [.debit(psp, 256), .credit(merchant, 256)],
                references: ExternalReferences(paymentID: "h"),
                recordedTime: t1,
                deadline: Fixture.time(31)
            )
        )
        expectFound(
            ledger,
            TransactionRecord(
                id: 5,
                kind: .capture,
                type: TransactionType(rawValue: 1_000),
                key: 12,
                legs: [.debit(psp, 56), .credit(merchant, 56)],
                recordedTime: t1,
                link: 4
            )
        )
        expectFound(
            ledger,
            TransactionRecord(
                id: 6,
                kind: .increaseHold,
                type: .capture,
                key: 13,
                legs: [.debit(psp, 44), .credit(merchant, 44)],
                recordedTime: t1,
                link: 4
            )
        )
        expectFound(
            ledger,
            TransactionRecord(
                id: 7,
                kind: .capture,
                type: .capture,
                key: 14,
                legs: [.debit(psp, 100), .credit(merchant, 100)],
                references: ExternalReferences(providerReference: "final"),
                recordedTime: t1,
                link: 4,
                released: 144,
                isFinal: true
            )
        )
        expectFound(
            ledger,
            TransactionRecord(
                id: 8,
                kind: .hold,
                type: .capture,
                key: 15,
                legs: [.debit(psp, big), .credit(merchant, big)],
                recordedTime: t1,
                deadline: Fixture.time(21)
            )
        )
        expectFound(
            ledger,
            TransactionRecord(
                id: 10,
                kind: .voidHold,
                type: .capture,
                key: 17,
                legs: [.debit(psp, 7), .credit(merchant, 7)],
                recordedTime: t1,
                link: 9,
                released: 7
            )
        )
        expectFound(
            ledger,
            TransactionRecord(
                id: 12,
                kind: .expireHold,
                type: .capture,
                key: 0,
                legs: [.debit(psp, big - 1), .credit(merchant, big - 1)],
                recordedTime: t2,
                link: 8,
                released: big - 1
            )
        )
        expectFound(
            ledger,
            TransactionRecord(
                id: 13,
                kind: .reverse,
                type: .refund,
                key: 19,
                legs: fxLegs.map { Leg(account: $0.account, side: $0.side.opposite, amount: $0.amount) },
                fxRates: [rate],
                references: references,
                recordedTime: t2,
                link: 3
            )
        )
        expectFound(
            ledger,
            TransactionRecord(
                id: 14,
                kind: .reverse,
                type: .refund,
                key: 20,
                legs: [.credit(psp, 100), .debit(merchant, 100)],
                recordedTime: t2,
                link: 7
            )
        )
        #expect(ledger.transaction(0) == .notFound)
        #expect(ledger.transaction(15) == .notFound)
        #expect(ledger.transaction(TransactionID(.max)) == .notFound)
    }

    @Test func anEarlierBatchTimeRecordsTheLaterOne() {
        var ledger = Fixture.ledger()
        var results: [OperationResult] = []
        #expect(
            ledger.apply(
                OperationBatch([Op.post(10, [.debit(psp, 1), .credit(merchant, 1)])]),
                at: Fixture.time(10),
                results: &results
            ) == Fixture.time(10)
        )
        #expect(
            ledger.apply(
                OperationBatch([Op.post(11, [.debit(psp, 1), .credit(merchant, 1)])]),
                at: Fixture.time(5),
                results: &results
            ) == Fixture.time(10)
        )
        #expect(results == [.ok(4)])
        guard case .found(let record) = ledger.transaction(4) else {
            Issue.record("transaction 4 not found")
            return
        }
        #expect(record.recordedTime == Fixture.time(10))
        #expect(ledger.recordedTime == Fixture.time(10))
        #expect(ledger.statistics.recordedTime == Fixture.time(10))
    }

    @Test func recordsAreRetainedForExactlyTheRetentionWindow() {
        var ledger = Fixture.ledger(LedgerConfiguration(transactionRetentionSeconds: 10))
        let t0 = Fixture.time(1).nanosecondsSinceEpoch
        let window = 10 * Timestamp.nanosecondsPerSecond
        #expect(
            ledger.apply(Op.post(10, [.debit(psp, 1), .credit(merchant, 1)]), at: Timestamp(nanosecondsSinceEpoch: t0))
                == .ok(3)
        )
        #expect(ledger.apply([], at: Timestamp(nanosecondsSinceEpoch: t0 + window)) == [])
        #expect(ledger.transaction(3) != .notRetained)
        // Records go by chunk: the fixture's, older than the window, share the chunk of record 3.
        #expect(ledger.transaction(1) != .notRetained)
        #expect(ledger.statistics.retainedTransactions == 3)
        #expect(ledger.apply([], at: Timestamp(nanosecondsSinceEpoch: t0 + window + 1)) == [])
        #expect(ledger.transaction(3) == .notRetained)
        #expect(ledger.statistics.retainedTransactions == 0)
        #expect(ledger.statistics.transactions == 3)
        // New records after the store was emptied are found; the old ones stay not retained.
        #expect(
            ledger.apply(
                Op.post(11, [.debit(psp, 1), .credit(merchant, 1)]),
                at: Timestamp(nanosecondsSinceEpoch: t0 + window + 1)
            ) == .ok(4)
        )
        #expect(ledger.transaction(4) != .notRetained && ledger.transaction(4) != .notFound)
        #expect(ledger.transaction(3) == .notRetained)
        #expect(ledger.transaction(5) == .notFound)
    }

    /// A post whose record is about 170 bytes, so that some 6,000 of them fill a 1 MiB chunk.
    func widePost(_ key: UInt128) -> Operation {
        Op.post(
            IdempotencyKey(key),
            [.debit(psp, 1), .credit(merchant, 1)],
            refs: ExternalReferences(paymentID: Op.reference(64), providerReference: Op.reference(64))
        )
    }

    /// Records across a chunk boundary of the store: lookups on both sides, a failed chain whose
    /// records crossed into a new chunk, and eviction of the older chunk only.
    @Test func recordsAcrossAChunkBoundary() {
        let t0 = Fixture.time(1)
        var probe = Fixture.ledger()
        probe.apply((0..<8_000).map { widePost(100_000 + UInt128($0)) }, at: t0)
        #expect(probe.transactions.chunks.count == 2)
        let boundary = probe.transactions.chunks[1].firstID
        #expect(boundary > 3_000 && boundary < 8_000)

        var ledger = Fixture.ledger(LedgerConfiguration(transactionRetentionSeconds: 10))
        let before = Int(boundary) - 52
        ledger.apply((0..<before).map { widePost(100_000 + UInt128($0)) }, at: t0)
        #expect(ledger.lastTransaction.rawValue == boundary - 50)

        // A chain whose records run into a second chunk, then fail: the chunk goes again.
        var chain = OperationBatch()
        for offset in 0..<100 {
            chain.append(widePost(50_000 + UInt128(offset)), linked: true)
        }
        chain.append(Op.post(49_999, [.debit(Fixture.capped, 5_000), .credit(psp, 5_000)]))
        let failed = ledger.apply(chain, at: t0)
        #expect(failed.last == .rejected(.exceedsCredits))
        #expect(ledger.transactions.chunks.count == 1)
        #expect(ledger.lastTransaction.rawValue == boundary - 50)
        #expect(ledger.transaction(TransactionID(boundary - 49)) == .notFound)

        let applied = ledger.apply((0..<100).map { widePost(60_000 + UInt128($0)) }, at: t0)
        #expect(applied.allSatisfy { $0.code == .ok })
        #expect(ledger.transactions.chunks.map(\.firstID) == [1, boundary])
        #expect(ledger.apply(widePost(70_000), at: Fixture.time(6)) == .ok(TransactionID(boundary + 51)))
        for id in [
            1, 2, boundary - 51, boundary - 50, boundary - 49, boundary - 1, boundary, boundary + 50, boundary + 51,
        ] {
            guard case .found(let record) = ledger.transaction(TransactionID(id)) else {
                Issue.record("transaction \(id) not found")
                continue
            }
            #expect(record.id.rawValue == id)
            #expect(record.kind == .post)
            let expectedKey: UInt128 =
                id <= 2
                ? 0xF0 + UInt128(id)
                : id <= boundary - 50
                    ? 100_000 + UInt128(id - 3)
                    : id <= boundary + 50 ? 60_000 + UInt128(id - (boundary - 49)) : 70_000
            #expect(record.key.rawValue == expectedKey, "transaction \(id)")
        }

        // Eleven seconds after t0 the first chunk (newest record at t0) goes; the second (newest
        // at t0 + 5 s) stays.
        #expect(ledger.apply([], at: Timestamp(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + 10_000_000_000)) == [])
        #expect(ledger.statistics.retainedTransactions == Int(boundary) + 51)
        #expect(ledger.apply([], at: Timestamp(nanosecondsSinceEpoch: t0.nanosecondsSinceEpoch + 10_000_000_001)) == [])
        #expect(ledger.statistics.retainedTransactions == 52)
        #expect(ledger.transaction(TransactionID(boundary - 1)) == .notRetained)
        #expect(ledger.transaction(TransactionID(boundary)) != .notRetained)
        let reversals = ledger.apply(
            [Op.reverse(80_000, TransactionID(boundary - 1)), Op.reverse(80_001, TransactionID(boundary))],
            at: Fixture.time(12)
        )
        #expect(reversals == [.rejected(.transactionNotRetained), .ok(TransactionID(boundary + 52))])
        #expect(ledger.checkInvariants() == [])
    }
}

/// ``OperationBatch`` keeps operations in flat buffers; reading them back gives what was appended.
@Suite("OperationBatch")
struct OperationBatchTests {
    @Test func operationsRoundTripThroughFlatStorage() {
        let operations =
            FingerprintTests.samples.map(\.operation) + ScenarioTable.all.prefix(40).flatMap(\.step.operations)
        var batch = OperationBatch()
        for (index, operation) in operations.enumerated() {
            batch.append(operation, linked: index % 3 == 0)
        }
        #expect(batch.count == operations.count)
        #expect(batch.operations == operations)
        for index in operations.indices {
            #expect(batch.operation(at: index) == operations[index])
            #expect(batch.isLinked(at: index) == (index % 3 == 0))
        }
        batch.setLinked(false, at: 0)
        #expect(!batch.isLinked(at: 0))
        batch.removeAll()
        #expect(batch.isEmpty)
        #expect(OperationBatch(operations).operations == operations)
    }
}
