import Testing

@testable import TallyCore

/// The content fingerprint (version 1) is stored with every retained key and in snapshots: a
/// change of its output would turn every retry of an old key into a conflict. These golden values
/// pin it; a deliberate change needs a new fingerprint version, not new golden values.
@Suite("Content fingerprint")
struct FingerprintTests {
    static func hex(_ value: UInt64) -> String { String(value, radix: 16) }

    static func bytesHash(_ bytes: [UInt8]) -> UInt64 {
        var hasher = ContentHasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        return hasher.finalize()
    }

    @Test func contentHasherGoldenValues() {
        #expect(Self.hex(ContentHasher().finalize()) == "cedcc0a698789c1e")
        var zero = ContentHasher()
        zero.combine(UInt64(0))
        #expect(Self.hex(zero.finalize()) == "b17e82cf14979ca1")
        var wide = ContentHasher()
        wide.combine(UInt128(0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210))
        #expect(Self.hex(wide.finalize()) == "4764951b5a1bccae")
        // A byte string is its length, then its bytes eight to a word, little-endian.
        #expect(Self.hex(Self.bytesHash([])) == "b17e82cf14979ca1")
        #expect(Self.hex(Self.bytesHash([1])) == "ebadeb9637db61b6")
        #expect(Self.hex(Self.bytesHash(Array(1...8))) == "def08cd4b356dd98")
        #expect(Self.hex(Self.bytesHash(Array(1...9))) == "6bc7882951cc27cd")
    }

    @Test func aWideValueIsItsLowWordThenItsHighWord() {
        var wide = ContentHasher()
        wide.combine(UInt128(0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210))
        var words = ContentHasher()
        words.combine(UInt64(0xFEDC_BA98_7654_3210))
        words.combine(UInt64(0x0123_4567_89AB_CDEF))
        #expect(wide.finalize() == words.finalize())
    }

    /// One operation of every kind, with every field set to something non-default.
    static let samples: [(operation: Operation, golden: String)] = [
        (Op.asset("USD", scale: 2), "b28e85608db396e2"),
        (
            Op.account(
                7,
                "EUR",
                AccountKind(rawValue: 1_234),
                side: .credit,
                merchant: 5,
                partner: 6,
                flags: .debitsMustNotExceedCredits
            ),
            "d539ac9c04b9b9df"
        ),
        (Op.status(7, .frozen, actor: 3, reason: 4), "377b32646cd5e23d"),
        (
            Op.post(
                1,
                [.debit(1, 100), .credit(2, UInt128.max)],
                fx: [Op.rate("USD", "EUR", 9, 10)],
                type: .adjustment,
                refs: ExternalReferences(paymentID: "pay-1", providerReference: "psp-reference-123"),
                effective: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_000),
                actor: 42,
                reason: 7
            ),
            "3e4b43215584513d"
        ),
        (
            Op.hold(1, 1, 2, 500, timeout: 3_600, type: .reserveHold, refs: ExternalReferences(paymentID: "p")),
            "d05e9aee3b1e6f86"
        ),
        (Op.capture(1, 3, 250, final: true), "fc82c44789803c6c"),
        (Op.increase(1, 3, 25), "dcf720d7c66e46b5"),
        (Op.void(1, 3), "8ed1fc17c01a9eff"),
        (Op.expire(3), "607806d6c9ec2d61"),
        (Op.reverse(1, 4, refs: ExternalReferences(providerReference: "refund-9")), "f65ae48174791b6b"),
    ]

    @Test func fingerprintGoldenValuesForEveryKind() {
        #expect(Set(Self.samples.map(\.operation.kind)) == Set(OperationKind.allCases))
        for (operation, golden) in Self.samples {
            #expect(Self.hex(OperationBatch([operation]).fingerprint(at: 0)) == golden, "\(operation.kind)")
        }
    }

    /// The key, the linked flag and the operation's place in a batch (its slices of the shared
    /// buffers) are not content.
    @Test func fingerprintIgnoresKeyLinkAndPosition() {
        var crowded = OperationBatch()
        for (operation, _) in Self.samples.reversed() {
            crowded.append(operation, linked: true)
        }
        for (index, (_, golden)) in Self.samples.reversed().enumerated() {
            #expect(Self.hex(crowded.fingerprint(at: index)) == golden)
        }
        let rekeyed = OperationBatch([
            Op.post(
                999,
                [.debit(1, 100), .credit(2, UInt128.max)],
                fx: [Op.rate("USD", "EUR", 9, 10)],
                type: .adjustment,
                refs: ExternalReferences(paymentID: "pay-1", providerReference: "psp-reference-123"),
                effective: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_000),
                actor: 42,
                reason: 7
            )
        ])
        #expect(Self.hex(rekeyed.fingerprint(at: 0)) == "3e4b43215584513d")
    }
}
