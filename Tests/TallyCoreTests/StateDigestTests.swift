import Testing

@testable import TallyCore

/// ``Ledger/digest()`` (version 1): pinned by a golden value, and independent of everything that
/// never affects a result.
@Suite("State digest")
struct StateDigestTests {
    /// A small fixed history touching every part of the state.
    static let history: [(seconds: UInt64, operations: [Operation])] = [
        (0, Fixture.operations),
        (
            1,
            [
                Op.hold(10, Fixture.psp, Fixture.merchant, 100, timeout: 30),
                Op.post(
                    11,
                    [
                        .debit(Fixture.psp, 100), .credit(Fixture.fxUSD, 100), .debit(Fixture.fxEUR, 90),
                        .credit(Fixture.merchantEUR, 90),
                    ],
                    fx: [Op.rate("USD", "EUR")],
                    type: .fxConversion,
                    refs: ExternalReferences(paymentID: "pay-11", providerReference: "psp-11"),
                    effective: Timestamp(secondsSinceEpoch: 999),
                    actor: 4,
                    reason: 5
                ),
                Op.post(12, [.debit(Fixture.capped, 5_000), .credit(Fixture.psp, 5_000)]),
            ]
        ),
        (2, [Op.capture(13, 3, 40), Op.reverse(14, 1), Op.status(Fixture.fees, .frozen)]),
    ]

    static func ledger(_ configuration: LedgerConfiguration = LedgerConfiguration()) -> Ledger {
        var ledger = Ledger(configuration: configuration)
        for (seconds, operations) in history {
            ledger.apply(operations, at: Fixture.time(seconds))
        }
        return ledger
    }

    @Test func goldenDigest() {
        #expect(
            Self.ledger().digest().description == "4ddf4e5af9c2fabc44bc1ebd47b95b9d0bf69b6e870fc09926afbefa7462cae1"
        )
    }

    @Test func hashSeedsAndCapacitiesDoNotChangeTheDigest() {
        let reference = Self.ledger().digest()
        for seed: UInt64 in [0, 1, 0xDEAD_BEEF, .max] {
            let configuration = LedgerConfiguration(hashSeed: seed, expectedAccounts: 1, expectedRetainedKeys: 1)
            #expect(Self.ledger(configuration).digest() == reference, "seed \(seed)")
        }
    }

    @Test func batchingAtTheSameTimeDoesNotChangeTheDigest() {
        let operations = Fixture.operations + Self.history[1].operations + Self.history[2].operations
        var whole = Ledger()
        let wholeResults = whole.apply(operations, at: Fixture.time(5))
        var single = Ledger()
        var singleResults: [OperationResult] = []
        for operation in operations {
            singleResults.append(single.apply(operation, at: Fixture.time(5)))
        }
        var pairs = Ledger()
        var pairResults: [OperationResult] = []
        for start in stride(from: 0, to: operations.count, by: 3) {
            pairResults += pairs.apply(Array(operations[start..<min(start + 3, operations.count)]), at: Fixture.time(5))
        }
        #expect(singleResults == wholeResults)
        #expect(pairResults == wholeResults)
        #expect(single.digest() == whole.digest())
        #expect(pairs.digest() == whole.digest())
        // The operational counters differ, and are left out on purpose.
        #expect(single.statistics.batches != whole.statistics.batches)
    }

    @Test func everyPartOfTheStateChangesTheDigest() {
        let base = Self.ledger()
        var digests = [base.digest()]
        func variant(_ change: (inout Ledger) -> Void) {
            var ledger = base
            change(&ledger)
            digests.append(ledger.digest())
        }
        variant { _ = $0.apply([], at: Fixture.time(3)) }  // recorded time
        variant { _ = $0.apply(Op.asset("GBP"), at: Fixture.time(2)) }  // an asset
        variant { _ = $0.apply(Op.account(99, "USD", .suspense), at: Fixture.time(2)) }  // an account
        variant { _ = $0.apply(Op.status(Fixture.psp, .frozen), at: Fixture.time(2)) }  // a status
        variant { _ = $0.apply(Op.post(20, [.debit(Fixture.psp, 1)]), at: Fixture.time(2)) }  // a key
        variant { _ = $0.apply(Op.post(21, [.debit(Fixture.psp, 1), .credit(Fixture.fees, 1)]), at: Fixture.time(2)) }
        variant { _ = $0.apply(Op.increase(22, 3, 1), at: Fixture.time(2)) }  // a hold
        variant { _ = $0.apply(Op.reverse(23, 4), at: Fixture.time(2)) }  // a reversal
        #expect(Set(digests).count == digests.count)
        #expect(Self.ledger(LedgerConfiguration(idempotencyWindowSeconds: 1_000_000)).digest() != base.digest())
        #expect(Self.ledger(LedgerConfiguration(transactionRetentionSeconds: 1_000_000)).digest() != base.digest())
    }

    @Test func hexRoundTrip() {
        let digest = Self.ledger().digest()
        #expect(digest.bytes.count == 32)
        #expect(StateDigest(hex: digest.description) == digest)
        #expect(StateDigest(hex: String(digest.description.dropLast())) == nil)
        #expect(StateDigest(hex: String(repeating: "g", count: 64)) == nil)
        #expect(StateDigest(hex: String(repeating: "0", count: 64))?.bytes == [UInt8](repeating: 0, count: 32))
    }
}
