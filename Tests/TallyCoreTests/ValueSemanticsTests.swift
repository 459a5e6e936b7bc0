import TallyCore
import Testing

/// `Ledger` is a value: a copy evolves independently of the original, down to the transaction
/// records that share storage until one side writes (the record chunks are copy-on-write).
struct ValueSemanticsTests {
    private static func setup() -> OperationBatch {
        OperationBatch([
            .createAsset(CreateAsset(code: "USD", scale: 2)),
            .createAccount(CreateAccount(id: 1, asset: "USD", kind: .pspReceivable)),
            .createAccount(CreateAccount(id: 2, asset: "USD", kind: .merchantPayable)),
        ])
    }

    private static func post(key: UInt64, amount: UInt128, reference: String) -> Operation {
        .post(
            TransactionHeader(key: IdempotencyKey(UInt128(key)), type: .capture),
            legs: [.debit(1, amount), .credit(2, amount)],
            references: ExternalReferences(paymentID: ExternalReference(reference))
        )
    }

    @Test func aCopyAndItsOriginalEvolveIndependently() throws {
        var original = Ledger()
        _ = original.apply(Self.setup(), at: Timestamp(secondsSinceEpoch: 1))
        _ = original.apply(Self.post(key: 1, amount: 100, reference: "shared"), at: Timestamp(secondsSinceEpoch: 2))

        var copy = original
        // Both write the next record into what was, until now, the same chunk.
        #expect(
            original.apply(Self.post(key: 2, amount: 7, reference: "original"), at: Timestamp(secondsSinceEpoch: 3))
                == .ok(2)
        )
        #expect(
            copy.apply(Self.post(key: 3, amount: 9, reference: "copy"), at: Timestamp(secondsSinceEpoch: 3)) == .ok(2)
        )

        guard case .found(let first) = original.transaction(1), case .found(let firstInCopy) = copy.transaction(1),
            case .found(let second) = original.transaction(2), case .found(let secondInCopy) = copy.transaction(2)
        else {
            Issue.record("records missing")
            return
        }
        #expect(first == firstInCopy)
        #expect(second.references.paymentID == "original")
        #expect(second.legs[0].amount == 7)
        #expect(secondInCopy.references.paymentID == "copy")
        #expect(secondInCopy.legs[0].amount == 9)
        #expect(original.balance(of: 2)?.creditsPosted == 107)
        #expect(copy.balance(of: 2)?.creditsPosted == 109)

        // Each equals a ledger built from its own history alone.
        var rebuilt = Ledger()
        _ = rebuilt.apply(Self.setup(), at: Timestamp(secondsSinceEpoch: 1))
        _ = rebuilt.apply(Self.post(key: 1, amount: 100, reference: "shared"), at: Timestamp(secondsSinceEpoch: 2))
        _ = rebuilt.apply(Self.post(key: 3, amount: 9, reference: "copy"), at: Timestamp(secondsSinceEpoch: 3))
        #expect(rebuilt.digest() == copy.digest())
        #expect(original.digest() != copy.digest())
        #expect(original.checkInvariants().isEmpty && copy.checkInvariants().isEmpty)
    }
}
