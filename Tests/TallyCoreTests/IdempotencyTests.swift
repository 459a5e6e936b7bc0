import Testing

@testable import TallyCore

/// Idempotency keys (docs/LEDGER.md, Idempotency): replays, conflicts, and retention in chunks.
@Suite("Idempotency")
struct IdempotencyTests {
    let psp = Fixture.psp
    let merchant = Fixture.merchant
    let capped = Fixture.capped

    func pay(_ key: IdempotencyKey, _ amount: UInt128 = 10) -> Operation {
        Op.post(key, [.debit(psp, amount), .credit(merchant, amount)])
    }

    @Test func aReplayReturnsTheOriginalResultAndLeavesTheDigestUnchanged() {
        var ledger = Fixture.ledger()
        let time = Fixture.time(1)
        let originals: [Operation] = [
            pay(10),
            Op.post(11, [.debit(psp, 5), .credit(99, 5)]),
            Op.hold(12, capped, merchant, 2_000),
            Op.hold(13, psp, merchant, 50, timeout: 60),
            Op.capture(14, 5, 20),
        ]
        let first = ledger.apply(originals, at: time)
        #expect(
            first == [
                .ok(3), .rejected(.accountUnknown, detail: 1), .rejected(.exceedsCredits, detail: 0), .ok(4),
                .rejected(.holdNotFound),
            ]
        )
        let digest = ledger.digest()
        let statistics = ledger.statistics
        let replayed = ledger.apply(originals, at: time)
        #expect(replayed == first.map(\.replayed))
        #expect(ledger.digest() == digest)
        #expect(ledger.statistics.retainedKeys == statistics.retainedKeys)
        #expect(ledger.statistics.rejectedOperations == statistics.rejectedOperations + 3)
        // The same replay in a later batch: the same results, and the state differs from an empty
        // batch at that time in nothing (the digest covers the recorded time, so it moves anyway).
        var control = ledger
        #expect(control.apply([], at: Fixture.time(2)) == [])
        let later = ledger.apply(originals, at: Fixture.time(2))
        #expect(later == first.map(\.replayed))
        #expect(ledger.digest() == control.digest())
        #expect(ledger.digest() != digest)
        #expect(ledger.lastTransaction == 4)
    }

    /// Each pair is (original, changed content): every field of the content fingerprint.
    static let conflicts: [(name: String, original: Operation, changed: Operation)] = {
        let legs: [Leg] = [.debit(Fixture.psp, 10), .credit(Fixture.merchant, 10)]
        let fxLegs: [Leg] = [
            .debit(Fixture.psp, 100), .credit(Fixture.fxUSD, 100), .debit(Fixture.fxEUR, 90),
            .credit(Fixture.merchantEUR, 90),
        ]
        let rate = Op.rate("USD", "EUR", 9, 10)
        let key: IdempotencyKey = 77
        return [
            ("leg account", Op.post(key, legs), Op.post(key, [.debit(Fixture.psp, 10), .credit(Fixture.fees, 10)])),
            ("leg side", Op.post(key, legs), Op.post(key, [.credit(Fixture.psp, 10), .debit(Fixture.merchant, 10)])),
            ("leg amount", Op.post(key, legs), Op.post(key, [.debit(Fixture.psp, 11), .credit(Fixture.merchant, 11)])),
            ("leg order", Op.post(key, legs), Op.post(key, legs.reversed())),
            (
                "an extra leg", Op.post(key, legs),
                Op.post(key, [.debit(Fixture.psp, 10), .credit(Fixture.merchant, 5), .credit(Fixture.fees, 5)])
            ),
            (
                "rate numerator", Op.post(key, fxLegs, fx: [rate]),
                Op.post(key, fxLegs, fx: [Op.rate("USD", "EUR", 8, 10)])
            ),
            (
                "rate denominator", Op.post(key, fxLegs, fx: [rate]),
                Op.post(key, fxLegs, fx: [Op.rate("USD", "EUR", 9, 11)])
            ),
            (
                "rate direction", Op.post(key, fxLegs, fx: [rate]),
                Op.post(key, fxLegs, fx: [Op.rate("EUR", "USD", 9, 10)])
            ),
            ("rate added", Op.post(key, legs), Op.post(key, legs, fx: [rate])),
            ("type", Op.post(key, legs), Op.post(key, legs, type: .settlement)),
            ("effective time", Op.post(key, legs), Op.post(key, legs, effective: Timestamp(nanosecondsSinceEpoch: 1))),
            (
                "actor", Op.post(key, legs, type: .adjustment, actor: 1, reason: 1),
                Op.post(key, legs, type: .adjustment, actor: 2, reason: 1)
            ),
            (
                "reason", Op.post(key, legs, type: .adjustment, actor: 1, reason: 1),
                Op.post(key, legs, type: .adjustment, actor: 1, reason: 2)
            ),
            (
                "payment id", Op.post(key, legs, refs: .init(paymentID: "p-1")),
                Op.post(key, legs, refs: .init(paymentID: "p-2"))
            ),
            (
                "provider reference", Op.post(key, legs, refs: .init(providerReference: "r-1")),
                Op.post(key, legs, refs: .init(providerReference: "r-1 "))
            ),
            (
                "the same bytes as the other reference", Op.post(key, legs, refs: .init(paymentID: "ab")),
                Op.post(key, legs, refs: .init(providerReference: "ab"))
            ),
            (
                "reference bytes split differently",
                Op.post(key, legs, refs: .init(paymentID: "a", providerReference: "bc")),
                Op.post(key, legs, refs: .init(paymentID: "ab", providerReference: "c"))
            ),
            (
                "hold debit", Op.hold(key, Fixture.psp, Fixture.merchant, 10),
                Op.hold(key, Fixture.fees, Fixture.merchant, 10)
            ),
            (
                "hold credit", Op.hold(key, Fixture.psp, Fixture.merchant, 10),
                Op.hold(key, Fixture.psp, Fixture.fees, 10)
            ),
            (
                "hold amount", Op.hold(key, Fixture.psp, Fixture.merchant, 10),
                Op.hold(key, Fixture.psp, Fixture.merchant, 11)
            ),
            (
                "hold timeout", Op.hold(key, Fixture.psp, Fixture.merchant, 10),
                Op.hold(key, Fixture.psp, Fixture.merchant, 10, timeout: 1)
            ),
            ("capture hold id", Op.capture(key, 3, 10), Op.capture(key, 4, 10)),
            ("capture amount", Op.capture(key, 3, 10), Op.capture(key, 3, 9)),
            ("capture final flag", Op.capture(key, 3, 10), Op.capture(key, 3, 10, final: true)),
            ("increase hold id", Op.increase(key, 3, 10), Op.increase(key, 4, 10)),
            ("increase amount", Op.increase(key, 3, 10), Op.increase(key, 3, 11)),
            ("void hold id", Op.void(key, 3), Op.void(key, 4)),
            ("reversed transaction", Op.reverse(key, 1), Op.reverse(key, 2)),
            ("kind: void or reverse of the same id", Op.void(key, 1), Op.reverse(key, 1)),
            ("kind: capture or increase of the same hold and amount", Op.capture(key, 3, 10), Op.increase(key, 3, 10)),
        ]
    }()

    @Test(arguments: conflicts.indices)
    func changedContentConflicts(index: Int) {
        let (name, original, changed) = IdempotencyTests.conflicts[index]
        var ledger = Fixture.ledger()
        #expect(ledger.apply(Op.hold(50, psp, merchant, 100), at: Fixture.time(1)) == .ok(3), "\(name)")
        #expect(ledger.apply(Op.hold(51, psp, merchant, 100), at: Fixture.time(1)) == .ok(4), "\(name)")
        let first = ledger.apply(original, at: Fixture.time(2))
        let before = LedgerSnapshot(ledger)
        #expect(ledger.apply(changed, at: Fixture.time(3)) == .rejected(.idempotencyConflict), "\(name)")
        #expect(LedgerSnapshot(ledger) == before, "\(name)")
        #expect(ledger.idempotencyRecord(77)?.result == first, "\(name)")
        #expect(ledger.apply(original, at: Fixture.time(4)) == first.replayed, "\(name)")
    }

    @Test func theKeyAndTheLinkedFlagAreNotContent() {
        var ledger = Fixture.ledger()
        #expect(ledger.apply([pay(10), pay(11)], at: Fixture.time(1)) == [.ok(3), .ok(4)])
        let replays = ledger.apply([pay(10), pay(11)], linked: [0], at: Fixture.time(2))
        #expect(replays == [OperationResult.ok(3).replayed, OperationResult.ok(4).replayed])
    }

    @Test func retryingARejectedKeyAlwaysReturnsTheRejection() {
        var ledger = Fixture.ledger()
        let hold = Op.hold(10, capped, merchant, 1_500)
        #expect(ledger.apply(hold, at: Fixture.time(1)) == .rejected(.exceedsCredits, detail: 0))
        #expect(ledger.apply(Op.post(11, [.debit(psp, 1_000), .credit(capped, 1_000)]), at: Fixture.time(2)) == .ok(3))
        let before = LedgerSnapshot(ledger)
        for seconds: UInt64 in [3, 4, 86_400] {
            #expect(ledger.apply(hold, at: Fixture.time(seconds)) == OperationResult.rejected(.exceedsCredits).replayed)
        }
        #expect(LedgerSnapshot(ledger) == before)
        // A new key applies against today's balances.
        #expect(ledger.apply(Op.hold(12, capped, merchant, 1_500), at: Fixture.time(86_401)) == .ok(4))
    }

    @Test func keyZeroIsNeverRememberedAndNeverReplays() {
        var ledger = Fixture.ledger()
        let keys = ledger.statistics.retainedKeys
        for _ in 0..<3 {
            #expect(ledger.apply(pay(0), at: Fixture.time(1)) == .rejected(.idempotencyKeyInvalid))
        }
        #expect(ledger.idempotencyRecord(0) == nil)
        #expect(ledger.statistics.retainedKeys == keys)
        #expect(ledger.lastTransaction == 2)
    }

    @Test func theRecordOfAKeyOutlivesItsTransactionRecord() {
        var ledger = Fixture.ledger(LedgerConfiguration(idempotencyWindowSeconds: 100, transactionRetentionSeconds: 10))
        #expect(ledger.apply(pay(10), at: Fixture.time(1)) == .ok(3))
        #expect(ledger.idempotencyRecord(10)?.transaction?.id == 3)
        #expect(ledger.apply([], at: Fixture.time(20)) == [])
        #expect(ledger.idempotencyRecord(10)?.result == .ok(3))
        #expect(ledger.idempotencyRecord(10)?.transaction == nil)
        #expect(ledger.apply(pay(10), at: Fixture.time(21)) == OperationResult.ok(3).replayed)
    }

    // MARK: - Retention

    static let window: UInt64 = 100
    static let windowNanoseconds = window * Timestamp.nanosecondsPerSecond

    /// A ledger without any key yet: the asset and two accounts.
    func bareLedger() -> Ledger {
        var ledger = Ledger(configuration: LedgerConfiguration(idempotencyWindowSeconds: IdempotencyTests.window))
        let results = ledger.apply(
            [Op.asset("USD"), Op.account(psp, "USD", .pspReceivable), Op.account(merchant, "USD", .merchantPayable)],
            at: Timestamp(nanosecondsSinceEpoch: 0)
        )
        #expect(results == [.ok(), .ok(), .ok()])
        return ledger
    }

    func nanoseconds(_ value: UInt64) -> Timestamp { Timestamp(nanosecondsSinceEpoch: value) }

    /// `count` keys from `first`, remembered as rejections (cheap): one-leg posts.
    func rejections(from first: UInt128, count: Int) -> [Operation] {
        (0..<count).map { Op.post(IdempotencyKey(first + UInt128($0)), [.debit(psp, 1)]) }
    }

    @Test func aKeyIsRetainedForExactlyTheWindowWhenItsChunkHoldsNothingNewer() {
        var ledger = bareLedger()
        let t0: UInt64 = 5_000_000_000_000
        #expect(ledger.apply(pay(10), at: nanoseconds(t0)) == .ok(1))
        // At t0 + window the key is not older than the window: it replays.
        #expect(
            ledger.apply(pay(10), at: nanoseconds(t0 + IdempotencyTests.windowNanoseconds))
                == OperationResult.ok(1).replayed
        )
        #expect(ledger.statistics.retainedKeys == 1)
        // One nanosecond later it is gone, and the same content applies anew.
        #expect(ledger.apply([], at: nanoseconds(t0 + IdempotencyTests.windowNanoseconds + 1)) == [])
        #expect(ledger.statistics.retainedKeys == 0)
        #expect(ledger.idempotencyRecord(10) == nil)
        #expect(ledger.apply(pay(10), at: nanoseconds(t0 + IdempotencyTests.windowNanoseconds + 1)) == .ok(2))
        #expect(ledger.balance(of: psp) == Balance(debitsPosted: 20))
    }

    @Test func aDroppedKeyMayBeReusedWithOtherContent() {
        var ledger = bareLedger()
        #expect(ledger.apply(Op.post(10, [.debit(psp, 1)]), at: nanoseconds(1)) == .rejected(.legsTooFew))
        #expect(
            ledger.apply(pay(10), at: nanoseconds(1 + IdempotencyTests.windowNanoseconds))
                == .rejected(.idempotencyConflict)
        )
        #expect(ledger.apply(pay(10), at: nanoseconds(2 + IdempotencyTests.windowNanoseconds)) == .ok(1))
        #expect(ledger.idempotencyRecord(10)?.result == .ok(1))
    }

    @Test func keysAreDroppedInChunksOf4096OnceTheChunksNewestKeyIsOlderThanTheWindow() {
        var ledger = bareLedger()
        let t0: UInt64 = 1_000_000_000_000
        let t1 = t0 + 50 * Timestamp.nanosecondsPerSecond
        let window = IdempotencyTests.windowNanoseconds
        // Chunk 1: keys 1 to 4,096 at t0. Chunk 2: key 4,097 at t1.
        #expect(
            ledger.apply(rejections(from: 1, count: 4_096), at: nanoseconds(t0)).allSatisfy { $0.code == .legsTooFew }
        )
        #expect(ledger.apply(rejections(from: 4_097, count: 1), at: nanoseconds(t1)) == [.rejected(.legsTooFew)])
        #expect(ledger.statistics.retainedKeys == 4_097)

        #expect(ledger.apply([], at: nanoseconds(t0 + window)) == [])
        #expect(ledger.statistics.retainedKeys == 4_097)
        #expect(ledger.apply([], at: nanoseconds(t0 + window + 1)) == [])
        #expect(ledger.statistics.retainedKeys == 1)
        #expect(ledger.idempotencyRecord(1) == nil)
        #expect(ledger.idempotencyRecord(4_096) == nil)
        #expect(ledger.idempotencyRecord(4_097)?.result == .rejected(.legsTooFew))

        #expect(ledger.apply([], at: nanoseconds(t1 + window)) == [])
        #expect(ledger.statistics.retainedKeys == 1)
        #expect(ledger.apply([], at: nanoseconds(t1 + window + 1)) == [])
        #expect(ledger.statistics.retainedKeys == 0)
        #expect(ledger.idempotencyRecord(4_097) == nil)
        #expect(ledger.checkInvariants() == [])

        // The log continues after being emptied: new keys are found, old ones are not.
        #expect(ledger.apply(rejections(from: 9_000, count: 5_000), at: nanoseconds(t1 + window + 2)).count == 5_000)
        #expect(ledger.statistics.retainedKeys == 5_000)
        #expect(ledger.idempotencyRecord(9_000)?.result == .rejected(.legsTooFew))
        #expect(ledger.idempotencyRecord(13_999)?.result == .rejected(.legsTooFew))
        #expect(ledger.idempotencyRecord(4_097) == nil)
        #expect(ledger.checkInvariants() == [])
    }

    @Test func aKeyOlderThanTheWindowStaysWhileItsChunkHoldsANewerKey() {
        var ledger = bareLedger()
        let t0: UInt64 = 1_000_000_000_000
        let t1 = t0 + 50 * Timestamp.nanosecondsPerSecond
        let window = IdempotencyTests.windowNanoseconds
        // One chunk: keys 1 to 4,095 at t0 and key 4,096 at t1.
        #expect(ledger.apply(rejections(from: 1, count: 4_095), at: nanoseconds(t0)).count == 4_095)
        #expect(ledger.apply(rejections(from: 4_096, count: 1), at: nanoseconds(t1)) == [.rejected(.legsTooFew)])
        // Key 1 is older than the window, but its chunk's newest key is not: it still replays.
        #expect(
            ledger.apply(Op.post(1, [.debit(psp, 1)]), at: nanoseconds(t0 + window + 1))
                == OperationResult.rejected(.legsTooFew).replayed
        )
        #expect(ledger.apply([], at: nanoseconds(t1 + window)) == [])
        #expect(ledger.statistics.retainedKeys == 4_096)
        #expect(ledger.apply([], at: nanoseconds(t1 + window + 1)) == [])
        #expect(ledger.statistics.retainedKeys == 0)
        #expect(ledger.apply(Op.post(1, [.debit(psp, 1)]), at: nanoseconds(t1 + window + 1)) == .rejected(.legsTooFew))
    }

    @Test func theRetentionWindowKeepsAtLeastTheWindowEvenAcrossManyChunks() {
        var ledger = bareLedger()
        let second = Timestamp.nanosecondsPerSecond
        // 3 chunks and a bit, one batch per second.
        for batch in 0..<13 {
            let results = ledger.apply(
                rejections(from: UInt128(1 + batch * 1_000), count: 1_000),
                at: nanoseconds(UInt64(batch + 1) * second)
            )
            #expect(results.count == 1_000)
        }
        #expect(ledger.statistics.retainedKeys == 13_000)
        // At 105 s the cutoff is 5 s: chunk 1 (keys 1-4,096, newest at 5 s) stays.
        #expect(ledger.apply([], at: nanoseconds(105 * second)) == [])
        #expect(ledger.statistics.retainedKeys == 13_000)
        // At 105 s + 1 ns chunk 1 goes; chunk 2 (newest key 8,192 at 9 s) stays.
        #expect(ledger.apply([], at: nanoseconds(105 * second + 1)) == [])
        #expect(ledger.statistics.retainedKeys == 13_000 - 4_096)
        #expect(ledger.idempotencyRecord(4_096) == nil)
        #expect(ledger.idempotencyRecord(4_097) != nil)
        // Every key younger than the window is still there.
        #expect(ledger.apply([], at: nanoseconds(109 * second + 1)) == [])
        #expect(ledger.statistics.retainedKeys == 13_000 - 2 * 4_096)
        for key in [8_193, 9_001, 13_000] as [UInt128] {
            #expect(ledger.idempotencyRecord(IdempotencyKey(key)) != nil)
        }
        #expect(ledger.checkInvariants() == [])
    }
}
