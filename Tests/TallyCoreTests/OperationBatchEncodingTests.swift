import Foundation
import TallyCore
import TallyTestKit
import Testing

/// The operation batch encoding (format v1) is what the journal stores and replays: these tests pin
/// its bytes, check that every batch comes back exactly (and applies exactly as the original), and
/// that no input, however broken, makes the decoder trap or accept what it should refuse.
@Suite("Operation batch encoding")
struct OperationBatchEncodingTests {
    typealias DecodingError = OperationBatch.DecodingError
    /// Not Foundation's.
    typealias Operation = TallyCore.Operation

    // MARK: - Helpers

    static func encode(_ batch: OperationBatch) -> [UInt8] {
        var bytes: [UInt8] = []
        batch.encode(into: &bytes)
        return bytes
    }

    static func decode(_ bytes: [UInt8]) -> Result<OperationBatch, DecodingError> {
        bytes.withUnsafeBytes { buffer in
            Result { () throws(DecodingError) in try OperationBatch.decode(buffer) }
        }
    }

    static func decodeError(_ bytes: [UInt8]) -> DecodingError? {
        if case .failure(let error) = Self.decode(bytes) { return error }
        return nil
    }

    static func linkedFlags(_ batch: OperationBatch) -> [Bool] {
        (0..<batch.count).map { batch.isLinked(at: $0) }
    }

    static func batch(_ operations: [(operation: Operation, linked: Bool)]) -> OperationBatch {
        var batch = OperationBatch()
        for entry in operations {
            batch.append(entry.operation, linked: entry.linked)
        }
        return batch
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0..<$0 + 2]), radix: 16)! }
    }

    /// Encodes `batch`, decodes it back and checks that nothing was lost; returns the encoding.
    @discardableResult
    static func checkRoundTrip(
        _ batch: OperationBatch,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [UInt8] {
        // Encoding appends: what is already in the buffer stays.
        var bytes: [UInt8] = [0xAA, 0xBB]
        batch.encode(into: &bytes)
        #expect(bytes.prefix(2) == [0xAA, 0xBB], sourceLocation: sourceLocation)
        bytes.removeFirst(2)
        #expect(bytes.count == batch.encodedByteCount, sourceLocation: sourceLocation)

        // Decoding into a batch that held something else replaces it entirely.
        var decoded = OperationBatch([
            .expireHold(hold: 99),
            Op.post(
                9,
                [.debit(1, 1), .credit(2, 1)],
                refs: ExternalReferences(paymentID: "stale", providerReference: "old")
            ),
        ])
        decoded.setLinked(true, at: 0)
        do {
            try bytes.withUnsafeBytes { buffer in try decoded.decode(buffer) }
        } catch {
            Issue.record("a valid encoding was refused: \(error)", sourceLocation: sourceLocation)
            return bytes
        }
        #expect(decoded.operations == batch.operations, sourceLocation: sourceLocation)
        #expect(Self.linkedFlags(decoded) == Self.linkedFlags(batch), sourceLocation: sourceLocation)
        // The encoding is canonical: the decoded batch encodes to the same bytes.
        #expect(Self.encode(decoded) == bytes, sourceLocation: sourceLocation)
        return bytes
    }

    /// Applies `original` and its decoded copy to two ledgers and checks the results agree.
    static func applyBoth(
        _ original: OperationBatch,
        at time: Timestamp,
        to ledgers: inout (original: Ledger, decoded: Ledger),
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [OperationResult] {
        guard case .success(let decoded) = Self.decode(Self.encode(original)) else {
            Issue.record("a valid encoding was refused", sourceLocation: sourceLocation)
            return []
        }
        let results = ledgers.original.apply(original, at: time)
        let replayed = ledgers.decoded.apply(decoded, at: time)
        #expect(results == replayed, sourceLocation: sourceLocation)
        return results
    }

    // MARK: - Golden bytes

    /// The worked example of docs/FORMATS.md: a linked 2-leg post, then a final capture.
    static func exampleBatch() -> OperationBatch {
        var batch = OperationBatch()
        batch.appendPost(
            TransactionHeader(
                key: IdempotencyKey(rawValue: 0x0F0E_0D0C_0B0A_0908_0706_0504_0302_0100),
                type: .capture,
                effectiveTime: Timestamp(secondsSinceEpoch: 1_767_225_600)
            ),
            legs: [.debit(2, 1_050), .credit(1, 1_050)],
            paymentID: Array("pay-1001".utf8),
            linked: true
        )
        batch.appendCapture(
            TransactionHeader(key: IdempotencyKey(rawValue: 0x1F1E_1D1C_1B1A_1918_1716_1514_1312_1110), type: .capture),
            CaptureTerms(hold: 3, amount: 1_050, isFinal: true),
            providerReference: Array("psp-77".utf8)
        )
        return batch
    }

    static let exampleHex = """
        0100 02000000
        04 01
        000102030405060708090a0b0c0d0e0f 0100 0000faed51728618 0000000000000000 00000000
        0800 7061792d31303031 0000
        0200
        0200000000000000 01 1a040000000000000000000000000000
        0100000000000000 02 1a040000000000000000000000000000
        0000
        06 02
        101112131415161718191a1b1c1d1e1f 0100 0000000000000000 0000000000000000 00000000
        0000 0600 7073702d3737
        0300000000000000 1a040000000000000000000000000000
        """

    @Test func workedExampleHasItsGoldenBytes() throws {
        let batch = Self.exampleBatch()
        let bytes = Self.encode(batch)
        #expect(Self.hex(bytes) == Self.hex(Self.bytes(hex: Self.exampleHex)))
        #expect(bytes.count == 186 && batch.encodedByteCount == 186)

        let decoded = try Self.decode(bytes).get()
        #expect(
            decoded.operations == [
                .post(
                    TransactionHeader(
                        key: IdempotencyKey(rawValue: 0x0F0E_0D0C_0B0A_0908_0706_0504_0302_0100),
                        type: .capture,
                        effectiveTime: Timestamp(nanosecondsSinceEpoch: 1_767_225_600_000_000_000)
                    ),
                    legs: [.debit(2, 1_050), .credit(1, 1_050)],
                    references: ExternalReferences(paymentID: "pay-1001")
                ),
                .capture(
                    TransactionHeader(
                        key: IdempotencyKey(rawValue: 0x1F1E_1D1C_1B1A_1918_1716_1514_1312_1110),
                        type: .capture
                    ),
                    CaptureTerms(hold: 3, amount: 1_050, isFinal: true),
                    references: ExternalReferences(providerReference: "psp-77")
                ),
            ]
        )
        #expect(Self.linkedFlags(decoded) == [true, false])
    }

    /// The hex dump in docs/FORMATS.md is the golden encoding, byte for byte.
    @Test func documentedExampleMatchesTheGoldenBytes() throws {
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: repository.appendingPathComponent("docs/FORMATS.md"), encoding: .utf8)
        let start = try #require(text.range(of: "<!-- operation-batch-example -->"))
        let block = try #require(text[start.upperBound...].range(of: "```text\n"))
        let end = try #require(text[block.upperBound...].range(of: "```"))
        var documented: [UInt8] = []
        for line in text[block.upperBound..<end.lowerBound].split(separator: "\n") {
            // A byte line is `offset  hex bytes  meaning`, columns apart by two spaces or more;
            // other lines are notes.
            let columns = line.split(separator: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            guard columns.count >= 2, let offset = Int(columns[0]) else { continue }
            #expect(offset == documented.count, "the dump's offset \(offset) is not where its line starts")
            let bytes = columns[1].split(separator: " ")
            #expect(bytes.allSatisfy { $0.count == 2 && UInt8($0, radix: 16) != nil }, "not hex: \(columns[1])")
            documented += bytes.compactMap { UInt8($0, radix: 16) }
        }
        #expect(Self.hex(documented) == Self.hex(Self.encode(Self.exampleBatch())))
    }

    // MARK: - Round trips

    static let header = TransactionHeader(key: 1, type: .capture)
    static let fullHeader = TransactionHeader(
        key: IdempotencyKey(UInt128.max - 1),
        type: TransactionType(rawValue: .max),
        effectiveTime: Timestamp(nanosecondsSinceEpoch: .max),
        actor: .max,
        reason: .max
    )
    /// Everything zero, including the key and the type, which the ledger rejects.
    static let zeroHeader = TransactionHeader(key: 0, type: TransactionType(rawValue: 0))

    static func reference(_ count: Int, seed: UInt8 = 0) -> ExternalReference {
        ExternalReference(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ Int(seed)) })
    }

    static let referenceVariants: [ExternalReferences] = [
        .none,
        ExternalReferences(paymentID: "pay-1"),
        ExternalReferences(providerReference: "psp-1"),
        ExternalReferences(paymentID: reference(64), providerReference: reference(64, seed: 1)),
        ExternalReferences(paymentID: reference(100), providerReference: reference(1, seed: 9)),
        ExternalReferences(
            paymentID: reference(OperationBatch.EncodingLimits.referenceBytesMax),
            providerReference: reference(OperationBatch.EncodingLimits.referenceBytesMax, seed: 3)
        ),
    ]

    /// One operation of every kind with every optional field unset, and variants with every field
    /// set (to extreme values), including content the ledger rejects.
    static func sampleOperations() -> [Operation] {
        var operations: [Operation] = [
            .createAsset(CreateAsset(code: "USD", scale: 2)),
            .createAsset(CreateAsset(code: AssetCode(rawValue: 0), scale: 0)),
            .createAsset(CreateAsset(code: AssetCode(rawValue: .max), scale: .max)),
            .createAccount(CreateAccount(id: 1, asset: "USD", kind: .bankCash)),
            .createAccount(
                CreateAccount(
                    id: AccountID(.max),
                    asset: "USDC.ETH-1_X",
                    kind: AccountKind(rawValue: .max),
                    normalSide: .credit,
                    merchant: .max,
                    partner: 7,
                    flags: .all
                )
            ),
            .createAccount(
                CreateAccount(
                    id: 0,
                    asset: AssetCode(rawValue: .max),
                    kind: AccountKind(rawValue: 0),
                    normalSide: .debit,
                    flags: AccountFlags(rawValue: .max)
                )
            ),
        ]
        for status in AccountStatus.allCases {
            operations.append(.setAccountStatus(SetAccountStatus(account: 3, status: status)))
            operations.append(
                .setAccountStatus(SetAccountStatus(account: AccountID(.max), status: status, actor: .max, reason: .max))
            )
        }
        let legs: [[Leg]] = [
            [.debit(1, 10), .credit(2, 10)],
            [],
            [.debit(1, 0)],
            (0..<40).map { index in
                Leg(account: AccountID(UInt64(index)), side: index % 2 == 0 ? .debit : .credit, amount: 0)
            },
            [.debit(AccountID(.max), .max), .credit(0, .max), .debit(5, 1)],
        ]
        let rates: [[FXRate]] = [
            [],
            [FXRate(base: "USD", quote: "EUR", numerator: 92, denominator: 100)],
            (0..<17).map {
                FXRate(
                    base: AssetCode(rawValue: UInt128($0)),
                    quote: AssetCode(rawValue: .max),
                    numerator: .max,
                    denominator: 0
                )
            },
        ]
        for (index, references) in Self.referenceVariants.enumerated() {
            let header = [Self.header, Self.fullHeader, Self.zeroHeader][index % 3]
            operations.append(
                .post(
                    header,
                    legs: legs[index % legs.count],
                    fxRates: rates[index % rates.count],
                    references: references
                )
            )
            operations.append(
                .hold(
                    header,
                    HoldTerms(debit: 1, credit: 2, amount: UInt128(index), timeoutSeconds: index % 2 == 0 ? 0 : .max),
                    references: references
                )
            )
            operations.append(
                .capture(header, CaptureTerms(hold: 3, amount: .max, isFinal: index % 2 == 0), references: references)
            )
            operations.append(
                .increaseHold(header, IncreaseTerms(hold: TransactionID(.max), amount: 0), references: references)
            )
            operations.append(.voidHold(header, hold: 0, references: references))
            operations.append(.reverse(header, transaction: TransactionID(UInt64(index)), references: references))
        }
        operations.append(.expireHold(hold: 0))
        operations.append(.expireHold(hold: TransactionID(.max)))
        return operations
    }

    @Test func everyKindWithEveryFieldSetAndUnsetRoundTrips() {
        let samples = Self.sampleOperations()
        #expect(Set(samples.map(\.kind)) == Set(OperationKind.allCases))
        for operation in samples {
            Self.checkRoundTrip(OperationBatch([operation]))
            var linked = OperationBatch()
            linked.append(operation, linked: true)
            Self.checkRoundTrip(linked)
        }
        // All together, with assorted linked flags.
        Self.checkRoundTrip(Self.batch(samples.enumerated().map { (operation: $1, linked: $0 % 3 != 0) }))
        Self.checkRoundTrip(OperationBatch())
    }

    @Test func aCaptureKeepsItsFinalFlagNextToTheLinkedFlag() throws {
        for isFinal in [false, true] {
            for linked in [false, true] {
                var batch = OperationBatch()
                batch.appendCapture(Self.header, CaptureTerms(hold: 1, amount: 5, isFinal: isFinal), linked: linked)
                let bytes = Self.checkRoundTrip(batch)
                #expect(bytes[7] == (linked ? 1 : 0) | (isFinal ? 2 : 0))
            }
        }
    }

    /// The decoder passes on what the ledger rejects, so replay meets the same rejections.
    @Test func contentTheLedgerRejectsReachesItUnchanged() {
        var ledgers = (original: Ledger(), decoded: Ledger())
        let time = Timestamp(secondsSinceEpoch: 1_000)
        let setup = OperationBatch([
            Op.asset("USD"), Op.account(1, "USD", .bankCash), Op.account(2, "USD", .merchantPayable),
        ])
        _ = Self.applyBoth(setup, at: time, to: &ledgers)
        let fortyLegs: [Leg] = (0..<40).map { index in
            index % 2 == 0 ? .debit(1, 1) : .credit(2, 1)
        }
        let rejected = OperationBatch([
            .post(TransactionHeader(key: 10, type: .capture), legs: fortyLegs),
            .post(
                TransactionHeader(key: 11, type: .capture),
                legs: [.debit(1, 5), .credit(2, 5)],
                references: ExternalReferences(paymentID: Self.reference(100))
            ),
            .post(TransactionHeader(key: 12, type: TransactionType(rawValue: 0)), legs: [.debit(1, 5), .credit(2, 5)]),
            .post(TransactionHeader(key: 13, type: .capture), legs: [.debit(1, 0), .credit(2, 0)]),
            .post(TransactionHeader(key: 0, type: .capture), legs: [.debit(1, 5), .credit(2, 5)]),
            .hold(
                TransactionHeader(key: 14, type: .capture),
                HoldTerms(debit: 1, credit: 2, amount: 5, timeoutSeconds: .max)
            ),
            .post(TransactionHeader(key: 15, type: .capture), legs: [.debit(1, 5), .credit(2, 5)]),
        ])
        let results = Self.applyBoth(rejected, at: time, to: &ledgers)
        #expect(
            results.map(\.code) == [
                .legsTooMany, .externalReferenceTooLong, .transactionTypeInvalid, .amountZero, .idempotencyKeyInvalid,
                .holdTimeoutInvalid, .ok,
            ]
        )
        // And the same batch again replays the remembered rejections.
        #expect(
            Self.applyBoth(rejected, at: time, to: &ledgers).allSatisfy {
                $0.isReplay || $0.code == .idempotencyKeyInvalid
            }
        )
        #expect(ledgers.original.digest() == ledgers.decoded.digest())
    }

    @Test func randomOperationsRoundTripAndApplyAlike() {
        for seed: UInt64 in [1, 0xC0DEC] {
            var model = ReferenceLedger(
                idempotencyWindowSeconds: RandomOperations.idempotencyWindowSeconds,
                accountsMax: RandomOperations.accountsMax
            )
            let configuration = LedgerConfiguration(
                idempotencyWindowSeconds: RandomOperations.idempotencyWindowSeconds,
                accountsMax: RandomOperations.accountsMax
            )
            var ledgers = (
                original: Ledger(configuration: configuration), decoded: Ledger(configuration: configuration)
            )
            var generator = RandomOperations(seed: seed)
            var kinds: Set<OperationKind> = []
            var linkedCount = 0
            while generator.operationCount < 2_500 {
                let time = generator.nextTime(observing: model)
                let due = model.dueHoldExpiries(at: max(time, model.recordedTime))
                let operations = generator.nextBatch(dueExpiries: due, model: model)
                let batch = Self.batch(operations)
                Self.checkRoundTrip(batch)
                let results = Self.applyBoth(batch, at: time, to: &ledgers)
                #expect(results.count == operations.count)
                _ = model.apply(operations, at: time)  // the generator aims at the model's state
                generator.observe(model)
                kinds.formUnion(operations.map(\.operation.kind))
                linkedCount += operations.filter(\.linked).count
            }
            #expect(kinds == Set(OperationKind.allCases))
            #expect(linkedCount > 100)
            #expect(ledgers.original.digest() == ledgers.decoded.digest())
        }
    }

    @Test func paymentWorkloadRoundTripsAndAppliesAlike() {
        var workload = PaymentWorkload(configuration: .scaled(toAccounts: 300, seed: 7))
        var ledgers = (original: Ledger(), decoded: Ledger())
        var batch = OperationBatch()
        var decoded = OperationBatch()
        var bytes: [UInt8] = []
        var operations = 0
        while operations < 4_000 {
            let time = workload.nextBatch(into: &batch, count: 200)
            let expiries = OperationBatch(ledgers.original.dueHoldExpiries(at: time).map { .expireHold(hold: $0) })
            _ = Self.applyBoth(expiries, at: time, to: &ledgers)

            // The journal's way: one reused buffer and one reused batch.
            bytes.removeAll(keepingCapacity: true)
            batch.encode(into: &bytes)
            do {
                try bytes.withUnsafeBytes { buffer in try decoded.decode(buffer) }
            } catch {
                Issue.record("a valid encoding was refused: \(error)")
                return
            }
            #expect(decoded.operations == batch.operations)
            #expect(Self.linkedFlags(decoded) == Self.linkedFlags(batch))
            let results = ledgers.original.apply(batch, at: time)
            #expect(ledgers.decoded.apply(decoded, at: time) == results)
            workload.observe(results, of: batch)
            operations += workload.isSetUp ? batch.count : 0
        }
        #expect(ledgers.original.statistics.transactions > 3_000)
        #expect(ledgers.original.digest() == ledgers.decoded.digest())
    }

    // MARK: - Limits

    @Test func decoderLimitsAdmitEverythingTheLedgerAccepts() {
        typealias EncodingLimits = OperationBatch.EncodingLimits
        #expect(EncodingLimits.operationsMax == Limits.operationsPerBatchMax)
        #expect(EncodingLimits.legsPerPostMax > Limits.legsPerTransactionMax)
        #expect(EncodingLimits.fxRatesPerPostMax > Limits.fxRatesPerTransactionMax)
        #expect(EncodingLimits.referenceBytesMax > Limits.externalReferenceBytesMax)
        #expect(EncodingLimits.legsPerPostMax <= Int(UInt16.max) && EncodingLimits.fxRatesPerPostMax <= Int(UInt16.max))
        #expect(EncodingLimits.referenceBytesMax <= Int(UInt16.max))
        #expect(UInt32(EncodingLimits.operationsMax) < UInt32.max)
    }

    static func post(legs: Int, rates: Int, referenceBytes: Int) -> OperationBatch {
        OperationBatch([
            .post(
                Self.header,
                legs: (0..<legs).map { .debit(AccountID(UInt64($0)), UInt128($0)) },
                fxRates: (0..<rates).map { FXRate(base: "USD", quote: "EUR", numerator: UInt64($0), denominator: 1) },
                references: ExternalReferences(paymentID: Self.reference(referenceBytes))
            )
        ])
    }

    @Test func batchesAtTheLimitsRoundTripAndBeyondThemAreFlagged() {
        typealias EncodingLimits = OperationBatch.EncodingLimits
        let atLimits = Self.post(
            legs: EncodingLimits.legsPerPostMax,
            rates: EncodingLimits.fxRatesPerPostMax,
            referenceBytes: EncodingLimits.referenceBytesMax
        )
        #expect(atLimits.isWithinEncodingLimits)
        Self.checkRoundTrip(atLimits)
        let expiries = OperationBatch(
            (0..<EncodingLimits.operationsMax).map { .expireHold(hold: TransactionID(UInt64($0))) }
        )
        #expect(expiries.isWithinEncodingLimits)
        Self.checkRoundTrip(expiries)

        #expect(!Self.post(legs: EncodingLimits.legsPerPostMax + 1, rates: 0, referenceBytes: 0).isWithinEncodingLimits)
        #expect(
            !Self.post(legs: 2, rates: EncodingLimits.fxRatesPerPostMax + 1, referenceBytes: 0).isWithinEncodingLimits
        )
        #expect(
            !Self.post(legs: 2, rates: 0, referenceBytes: EncodingLimits.referenceBytesMax + 1).isWithinEncodingLimits
        )
        var tooLong = OperationBatch()
        tooLong.appendVoid(
            Self.header,
            hold: 1,
            providerReference: Array(repeating: 7, count: EncodingLimits.referenceBytesMax + 1)
        )
        #expect(!tooLong.isWithinEncodingLimits)
        var tooMany = expiries
        tooMany.appendExpiry(hold: 1)
        #expect(!tooMany.isWithinEncodingLimits)
    }

    @Test func encodingBeyondTheLimitsTraps() async {
        await #expect(processExitsWith: .failure) {
            var bytes: [UInt8] = []
            OperationBatchEncodingTests.post(legs: 256, rates: 0, referenceBytes: 0).encode(into: &bytes)
        }
        await #expect(processExitsWith: .failure) {
            var bytes: [UInt8] = []
            OperationBatchEncodingTests.post(legs: 2, rates: 256, referenceBytes: 0).encode(into: &bytes)
        }
        await #expect(processExitsWith: .failure) {
            var batch = OperationBatch()
            batch.appendHold(
                OperationBatchEncodingTests.header,
                HoldTerms(debit: 1, credit: 2, amount: 1),
                providerReference: [UInt8](repeating: 1, count: 1_025)
            )
            var bytes: [UInt8] = []
            batch.encode(into: &bytes)
        }
        await #expect(processExitsWith: .failure) {
            let batch = OperationBatch((0...16_384).map { _ in .expireHold(hold: 1) })
            var bytes: [UInt8] = []
            batch.encode(into: &bytes)
        }
    }

    // MARK: - Strictness

    /// A batch with every kind, small enough to cut at every byte.
    static func compactBatch() -> OperationBatch {
        Self.batch([
            (Op.asset("USD"), false),
            (Op.account(1, "USD", .bankCash, side: .debit, merchant: 3), true),
            (Op.status(1, .frozen, actor: 1, reason: 2), false),
            (
                .post(
                    Self.header,
                    legs: [.debit(1, 5), .credit(2, 5)],
                    fxRates: [FXRate(base: "USD", quote: "EUR", numerator: 1, denominator: 2)],
                    references: ExternalReferences(paymentID: "p", providerReference: "pr")
                ), true
            ),
            (
                .hold(
                    Self.header,
                    HoldTerms(debit: 1, credit: 2, amount: 9, timeoutSeconds: 60),
                    references: ExternalReferences(paymentID: "h")
                ), false
            ),
            (.capture(Self.header, CaptureTerms(hold: 5, amount: 1, isFinal: true)), false),
            (
                .increaseHold(
                    Self.header,
                    IncreaseTerms(hold: 5, amount: 1),
                    references: ExternalReferences(providerReference: "i")
                ), false
            ),
            (.voidHold(Self.header, hold: 5), false),
            (.expireHold(hold: 5), true),
            (
                .reverse(
                    Self.header,
                    transaction: 4,
                    references: ExternalReferences(paymentID: "r", providerReference: "rr")
                ), false
            ),
        ])
    }

    @Test func everyTruncationThrowsAndNamesWhereTheInputEnds() {
        var checked = 0
        for batch in [Self.compactBatch(), Self.exampleBatch(), OperationBatch()] {
            let bytes = Self.encode(batch)
            for length in 0..<bytes.count {
                guard let error = Self.decodeError(Array(bytes.prefix(length))) else {
                    Issue.record("a \(length)-byte prefix of \(bytes.count) bytes decoded")
                    continue
                }
                guard case .truncated(let needed) = error.reason else {
                    Issue.record("a \(length)-byte prefix: \(error)")
                    continue
                }
                // The part named starts inside the input and ends after it.
                #expect(error.offset <= length && error.offset + needed > length, "\(error)")
                checked += 1
            }
        }
        #expect(checked > 500)
        // Cut inside a long reference and inside a long list of legs.
        let big = Self.encode(Self.post(legs: 255, rates: 255, referenceBytes: 1_024))
        for length in stride(from: 0, to: big.count, by: 97) {
            guard case .truncated = Self.decodeError(Array(big.prefix(length)))?.reason else {
                Issue.record("a \(length)-byte prefix of the big post did not report truncation")
                continue
            }
        }
    }

    /// Replaces the bytes at `offset` with the little-endian bytes of `value`.
    static func patched<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, _ value: T) -> [UInt8] {
        var bytes = bytes
        for index in 0..<MemoryLayout<T>.size {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (index * 8))
        }
        return bytes
    }

    static func expectError(
        _ bytes: [UInt8],
        _ expected: DecodingError,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(Self.decodeError(bytes) == expected, sourceLocation: sourceLocation)
    }

    @Test func versionAndCountErrorsNameTheirOffset() {
        let bytes = Self.encode(Self.exampleBatch())
        Self.expectError(
            Self.patched(bytes, at: 0, UInt16(2)),
            DecodingError(offset: 0, reason: .unsupportedVersion(2))
        )
        Self.expectError(
            Self.patched(bytes, at: 0, UInt16(0)),
            DecodingError(offset: 0, reason: .unsupportedVersion(0))
        )
        // Big-endian 1 is not 1.
        Self.expectError([0, 1], DecodingError(offset: 0, reason: .unsupportedVersion(256)))
        Self.expectError([2], DecodingError(offset: 0, reason: .truncated(needed: 2)))
        Self.expectError([1, 0, 0], DecodingError(offset: 2, reason: .truncated(needed: 4)))
        Self.expectError(
            Self.patched(bytes, at: 2, UInt32(16_385)),
            DecodingError(offset: 2, reason: .tooManyOperations(16_385))
        )
        Self.expectError(
            Self.patched(bytes, at: 2, UInt32.max),
            DecodingError(offset: 2, reason: .tooManyOperations(.max))
        )
        // More operations announced than present: the input ends where the third should start.
        Self.expectError(
            Self.patched(bytes, at: 2, UInt32(3)),
            DecodingError(offset: 186, reason: .truncated(needed: 2))
        )
        // A big count on a short input is refused without a big allocation (and quickly).
        Self.expectError(
            Self.patched(bytes, at: 2, UInt32(16_384)),
            DecodingError(offset: 186, reason: .truncated(needed: 2))
        )
        // Fewer: the rest is trailing.
        Self.expectError(
            Self.patched(bytes, at: 2, UInt32(1)),
            DecodingError(offset: 112, reason: .trailingBytes(count: 74))
        )
        Self.expectError(bytes + [0], DecodingError(offset: 186, reason: .trailingBytes(count: 1)))
        Self.expectError(
            Self.encode(OperationBatch()) + [9, 9],
            DecodingError(offset: 6, reason: .trailingBytes(count: 2))
        )
    }

    @Test func kindAndFlagErrorsNameTheirOffset() {
        let bytes = Self.encode(Self.exampleBatch())  // a post at 6, a capture at 112
        for kind: UInt8 in [0, 11, 255] {
            Self.expectError(
                Self.patched(bytes, at: 6, kind),
                DecodingError(offset: 6, reason: .unknownOperationKind(kind))
            )
            Self.expectError(
                Self.patched(bytes, at: 112, kind),
                DecodingError(offset: 112, reason: .unknownOperationKind(kind))
            )
        }
        for flags: UInt8 in [0x02, 0x03, 0x04, 0x80, 0xFF] {
            Self.expectError(
                Self.patched(bytes, at: 7, flags),
                DecodingError(offset: 7, reason: .invalidOperationFlags(flags))
            )
        }
        for flags: UInt8 in [0x04, 0x06, 0x40, 0xFF] {
            Self.expectError(
                Self.patched(bytes, at: 113, flags),
                DecodingError(offset: 113, reason: .invalidOperationFlags(flags))
            )
        }
        // The final bit is only for captures; every kind but capture refuses it.
        for kind in OperationKind.allCases where kind != .capture {
            var batch = OperationBatch()
            batch.append(Self.sampleOperations().first { $0.kind == kind }!)
            let encoded = Self.patched(Self.encode(batch), at: 7, UInt8(0x02))
            Self.expectError(encoded, DecodingError(offset: 7, reason: .invalidOperationFlags(0x02)))
        }
        for flags: UInt8 in [0, 1, 2, 3] {
            guard case .success(let decoded) = Self.decode(Self.patched(bytes, at: 113, flags)) else {
                Issue.record("capture flags \(flags) refused")
                continue
            }
            #expect(decoded.isLinked(at: 1) == (flags & 1 != 0))
            guard case .capture(_, let terms, _) = decoded.operation(at: 1) else {
                Issue.record("not a capture")
                continue
            }
            #expect(terms.isFinal == (flags & 2 != 0))
        }
    }

    @Test func fieldErrorsNameTheirOffset() {
        // create_account: the normal side is at 6 + 2 + 8 + 16 + 2.
        let account = Self.encode(OperationBatch([Op.account(1, "USD", .bankCash)]))
        #expect(account[34] == 0)
        for side: UInt8 in [3, 255] {
            Self.expectError(
                Self.patched(account, at: 34, side),
                DecodingError(offset: 34, reason: .invalidNormalSide(side))
            )
        }
        // set_account_status: the status is at 6 + 2 + 8.
        let status = Self.encode(OperationBatch([Op.status(1, .closed)]))
        #expect(status[16] == 3)
        for value: UInt8 in [0, 4, 255] {
            Self.expectError(
                Self.patched(status, at: 16, value),
                DecodingError(offset: 16, reason: .invalidAccountStatus(value))
            )
        }
        // The example's post: payment id length at 46, provider length at 56, leg count at 58,
        // legs at 60 and 85 (side at +8), rate count at 110.
        let example = Self.encode(Self.exampleBatch())
        #expect(example[46] == 8 && example[56] == 0 && example[58] == 2 && example[110] == 0)
        for side: UInt8 in [0, 3, 255] {
            Self.expectError(Self.patched(example, at: 68, side), DecodingError(offset: 68, reason: .invalidSide(side)))
            Self.expectError(Self.patched(example, at: 93, side), DecodingError(offset: 93, reason: .invalidSide(side)))
        }
        Self.expectError(
            Self.patched(example, at: 58, UInt16(256)),
            DecodingError(offset: 58, reason: .tooManyLegs(256))
        )
        Self.expectError(
            Self.patched(example, at: 58, UInt16.max),
            DecodingError(offset: 58, reason: .tooManyLegs(.max))
        )
        Self.expectError(
            Self.patched(example, at: 110, UInt16(256)),
            DecodingError(offset: 110, reason: .tooManyFXRates(256))
        )
        // Legal counts that the input does not hold.
        Self.expectError(
            Self.patched(example, at: 58, UInt16(255)),
            DecodingError(offset: 60, reason: .truncated(needed: 255 * 25))
        )
        Self.expectError(
            Self.patched(example, at: 110, UInt16(2)),
            DecodingError(offset: 112, reason: .truncated(needed: 96))
        )
        Self.expectError(
            Self.patched(example, at: 46, UInt16(1_025)),
            DecodingError(offset: 46, reason: .referenceTooLong(1_025))
        )
        Self.expectError(
            Self.patched(example, at: 56, UInt16(1_025)),
            DecodingError(offset: 56, reason: .referenceTooLong(1_025))
        )
        Self.expectError(
            Self.patched(example, at: 56, UInt16.max),
            DecodingError(offset: 56, reason: .referenceTooLong(.max))
        )
        Self.expectError(
            Self.patched(example, at: 56, UInt16(1_024)),
            DecodingError(offset: 58, reason: .truncated(needed: 1_024))
        )
        // The capture's provider reference length is at 112 + 2 + 38 + 2.
        #expect(example[154] == 6)
        Self.expectError(
            Self.patched(example, at: 154, UInt16(2_000)),
            DecodingError(offset: 154, reason: .referenceTooLong(2_000))
        )
    }

    @Test func aFailedDecodeLeavesTheBatchEmpty() {
        var batch = Self.compactBatch()
        var bytes = Self.encode(Self.exampleBatch())
        bytes[6] = 0
        #expect(throws: DecodingError(offset: 6, reason: .unknownOperationKind(0))) {
            try bytes.withUnsafeBytes { buffer in try batch.decode(buffer) }
        }
        #expect(batch.isEmpty && batch.operations.isEmpty)
        // It is still usable.
        Self.checkRoundTrip(batch)
        try? Self.encode(Self.exampleBatch()).withUnsafeBytes { buffer in try batch.decode(buffer) }
        #expect(batch.operations == Self.exampleBatch().operations)
    }

    @Test func errorsDescribeThemselves() {
        let error = DecodingError(offset: 58, reason: .tooManyLegs(256))
        #expect(error.description == "operation batch v1 at byte 58: 256 legs, more than 255")
        #expect(DecodingError(offset: 7, reason: .invalidOperationFlags(0x80)).message.contains("0x80"))
        #expect(DecodingError(offset: 0, reason: .truncated(needed: 2)).description.contains("incomplete"))
    }

    /// Checks what a decode of arbitrary `bytes` did: it refused them with an offset inside the
    /// input, or it accepted them and they are the canonical encoding of what it returned.
    static func checkArbitrary(_ bytes: [UInt8]) -> Bool {
        switch Self.decode(bytes) {
        case .success(let batch):
            #expect(Self.encode(batch) == bytes)
            return true
        case .failure(let error):
            #expect(error.offset >= 0 && error.offset <= bytes.count, "\(error)")
            if case .truncated(let needed) = error.reason {
                #expect(error.offset + needed > bytes.count, "\(error)")
            }
            return false
        }
    }

    @Test func randomBytesNeverTrap() {
        var random = SeededRandom(seed: 0xBAD_B17E5)
        var accepted = 0
        for round in 0..<15_000 {
            var bytes = (0..<Int.random(in: 0...120, using: &random)).map { _ in
                UInt8.random(in: 0...255, using: &random)
            }
            // Most inputs get a valid version and a small count, so that the decoder goes deeper;
            // some also a valid kind and flags for their first operation.
            if round % 4 != 0 && bytes.count >= 6 {
                bytes[0] = 1
                bytes[1] = 0
                bytes[2] = UInt8.random(in: 0...3, using: &random)
                bytes[3...5] = [0, 0, 0]
                if bytes.count >= 8 && round % 2 == 0 {
                    bytes[6] = UInt8.random(in: 1...10, using: &random)
                    bytes[7] = UInt8.random(in: 0...1, using: &random)
                }
            }
            if Self.checkArbitrary(bytes) { accepted += 1 }
        }
        // The count of accepted inputs (expiries, mostly) shows the decoder was reached.
        #expect(accepted > 10)
    }

    @Test func bitFlipsOfValidEncodingsNeverTrap() {
        var random = SeededRandom(seed: 0xF11B)
        let encodings = [Self.compactBatch(), Self.exampleBatch()].map(Self.encode)
        var accepted = 0
        var refused = 0
        for round in 0..<20_000 {
            var bytes = encodings[round % encodings.count]
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                if random.chance(0.8) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^=
                        1 << UInt8.random(in: 0...7, using: &random)
                } else {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            }
            if Self.checkArbitrary(bytes) { accepted += 1 } else { refused += 1 }
        }
        // Most flips land in values (accepted as different content); many in structure.
        #expect(accepted > 5_000 && refused > 1_000)
    }
}
