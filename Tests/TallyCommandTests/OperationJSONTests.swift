import Foundation
import TallyCore
import TallyTestKit
import Testing

@testable import tally

/// The JSON Lines operation format of docs/CLI.md: every client operation kind round trips exactly,
/// integers at their edges decode exactly, and every kind of bad line is refused with its line
/// number, the field's path and what was expected.
@Suite("Operation JSON")
struct OperationJSONTests {
    /// A header with every field away from its default.
    static func header(_ key: UInt128, _ type: TransactionType = .capture) -> TransactionHeader {
        TransactionHeader(
            key: IdempotencyKey(key),
            type: type,
            effectiveTime: Timestamp(nanosecondsSinceEpoch: UInt64.max),
            actor: UInt64.max,
            reason: UInt32.max
        )
    }

    static let references = ExternalReferences(paymentID: "pay_\"quoted\"\n€", providerReference: "psp/ref\\1")

    /// Every kind a client may send, each field set, at the edges of its range where it has one.
    static let everyKind: [LinkedOperation] = [
        LinkedOperation(.createAsset(CreateAsset(code: "USDC.E-1_X", scale: UInt8.max)), linked: true),
        LinkedOperation(
            .createAccount(
                CreateAccount(
                    id: AccountID(UInt64.max),
                    asset: "ABCDEFGHIJKLMNOP",
                    kind: AccountKind(rawValue: UInt16.max),
                    normalSide: .debit,
                    merchant: UInt64.max,
                    partner: 1,
                    flags: .creditsMustNotExceedDebits
                )
            )
        ),
        // An invalid kind and unknown flag bits still round trip (as numbers): the ledger rejects them.
        LinkedOperation(
            .createAccount(
                CreateAccount(
                    id: 1,
                    asset: "EUR",
                    kind: AccountKind(rawValue: 11),
                    flags: AccountFlags(rawValue: 0xFFFF)
                )
            )
        ),
        LinkedOperation(.setAccountStatus(SetAccountStatus(account: 7, status: .frozen, actor: 3, reason: UInt32.max))),
        LinkedOperation(.setAccountStatus(SetAccountStatus(account: 7, status: .closed))),
        LinkedOperation(
            .post(
                header(UInt128.max, .fxConversion),
                legs: [
                    .debit(AccountID(UInt64.max), UInt128.max), .credit(1, UInt128.max), .debit(2, 1), .credit(3, 1),
                ],
                fxRates: [FXRate(base: "USD", quote: "EUR", numerator: UInt64.max, denominator: 1)],
                references: references
            ),
            linked: true
        ),
        LinkedOperation(
            .post(
                header(1, TransactionType(rawValue: 0)),
                legs: [.debit(1, 0)],
                references: ExternalReferences(paymentID: ExternalReference(bytes: [0xFF, 0x00, 0xC3]))
            )
        ),
        LinkedOperation(
            .hold(
                header(2, .reserveHold),
                HoldTerms(debit: 1, credit: AccountID(UInt64.max), amount: UInt128.max, timeoutSeconds: UInt32.max),
                references: references
            )
        ),
        LinkedOperation(
            .capture(header(3), CaptureTerms(hold: TransactionID(UInt64.max), amount: 1, isFinal: true)),
            linked: true
        ),
        LinkedOperation(.capture(header(4), CaptureTerms(hold: 5, amount: UInt128.max))),
        LinkedOperation(.increaseHold(header(5), IncreaseTerms(hold: 5, amount: 12_345), references: references)),
        LinkedOperation(.voidHold(header(6, .custom(65_535)!), hold: TransactionID(UInt64.max))),
        LinkedOperation(.reverse(header(7, .refund), transaction: 1, references: references)),
    ]

    /// Encodes, writes, reads and decodes one operation.
    static func roundTrip(_ linked: LinkedOperation) throws -> LinkedOperation {
        let line = OperationJSON.encode(linked).serialized()
        #expect(!line.contains("\n"), "one line: \(line)")
        return try OperationJSON.decode(JSONValue.parse(Array(line.utf8)))
    }

    @Test func everyClientKindRoundTripsExactly() throws {
        var kinds: Set<OperationKind> = []
        for linked in Self.everyKind {
            #expect(try Self.roundTrip(linked) == linked, "\(OperationJSON.encode(linked).serialized())")
            kinds.insert(linked.operation.kind)
        }
        #expect(kinds == Set(OperationKind.allCases).subtracting([.expireHold]))
        // The workload's operations (every flow of a payment platform) round trip too.
        var workload = PaymentSimulationSample.operations(count: 3_000)
        workload.removeAll { $0.operation.kind == .expireHold }
        for linked in workload {
            #expect(try Self.roundTrip(linked) == linked)
        }
    }

    @Test func aWholeFileRoundTripsThroughTheReader() throws {
        let text = Self.everyKind.map { OperationJSON.encode($0).serialized() }.joined(separator: "\n")
        let input = OperationInput.read(text)
        #expect(input.problems.isEmpty, "\(input.problems)")
        #expect(input.count == Self.everyKind.count)
        for (index, linked) in Self.everyKind.enumerated() {
            #expect(input.batch.operation(at: index) == linked.operation)
            #expect(input.batch.isLinked(at: index) == linked.isLinked)
            #expect(input.lines[index] == index + 1)
        }
    }

    @Test func linesSplitAcrossPiecesOfInputReadTheSame() throws {
        let text = Self.everyKind.map { OperationJSON.encode($0).serialized() }.joined(separator: "\r\n") + "\r\n\n{"
        let whole = OperationInput.read(text)
        #expect(
            whole.problems.map(\.description) == [
                "line \(Self.everyKind.count + 2), column 2: expected a member name in double quotes, found the end of the line"
            ]
        )
        for size in [1, 2, 7, 64, 1_000] {
            var pieces = OperationInput()
            let bytes = Array(text.utf8)
            for start in stride(from: 0, to: bytes.count, by: size) {
                pieces.consume(Data(bytes[start..<min(start + size, bytes.count)]))
            }
            pieces.finish()
            #expect(pieces.count == whole.count && pieces.lines == whole.lines, "pieces of \(size)")
            #expect(pieces.problems == whole.problems, "pieces of \(size)")
            #expect((0..<pieces.count).allSatisfy { pieces.batch.operation(at: $0) == whole.batch.operation(at: $0) })
        }
        // A line over the limit is refused whole, however it arrives.
        var long = OperationInput()
        for _ in 0..<20 {
            long.consume(Data(repeating: 0x20, count: OperationInput.lineBytesMax / 16))
        }
        long.consume(Data("{}\n".utf8))
        long.finish()
        #expect(long.problems.map(\.description) == ["line 1: the line is longer than the limit of 1048576 bytes"])
    }

    @Test func integersAndAmountsDecodeExactlyAtTheirEdges() throws {
        func hold(_ amount: String, debit: String = "1") throws -> HoldTerms {
            let line =
                #"{"op":"hold","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","debit":"#
                + debit + #","credit":2,"amount":"# + amount + "}"
            let decoded = try OperationJSON.decode(JSONValue.parse(Array(line.utf8)))
            guard case .hold(_, let terms, _) = decoded.operation else { throw CancellationError() }
            return terms
        }
        #expect(try hold(#""340282366920938463463374607431768211455""#).amount == UInt128.max)
        #expect(try hold("340282366920938463463374607431768211455").amount == UInt128.max)
        #expect(try hold(#""340282366920938463463374607431768211454""#).amount == UInt128.max - 1)
        #expect(try hold("18446744073709551617").amount == UInt128(UInt64.max) + 2)
        #expect(try hold("9007199254740993").amount == 9_007_199_254_740_993)  // 2^53 + 1: no Double
        #expect(try hold(#""0""#).amount == 0)
        #expect(try hold("1", debit: "18446744073709551615").debit == AccountID(UInt64.max))
        #expect(try hold("1", debit: "9007199254740993").debit == AccountID(9_007_199_254_740_993))

        // What scripts read back with Foundation's JSONDecoder: integers from their text, exactly.
        struct Ids: Decodable {
            var transactionId: UInt64
            var sequence: UInt64
        }
        let result = SubmittedResult(
            index: 0,
            operation: .reverse(Self.header(1), transaction: 2),
            result: .ok(TransactionID(UInt64.max)),
            sequence: UInt64.max - 1,
            recordedTime: Timestamp(nanosecondsSinceEpoch: 1)
        )
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let ids = try decoder.decode(Ids.self, from: Data(result.json.serialized().utf8))
        #expect(ids.transactionId == UInt64.max && ids.sequence == UInt64.max - 1)
    }

    @Test func keysAreHexadecimalOrUUIDs() throws {
        let key = IdempotencyKey(bytes: Array(1...16))!
        #expect(try LedgerText.key("0102030405060708090a0b0c0d0e0f10").get() == key)
        #expect(try LedgerText.key("0102030405060708090A0B0C0D0E0F10").get() == key)
        #expect(try LedgerText.key("01020304-0506-0708-090a-0b0c0d0e0f10").get() == key)
        #expect(key.description == "0102030405060708090a0b0c0d0e0f10")
        #expect(try LedgerText.key(String(repeating: "0", count: 32)).get().rawValue == 0)
        for bad in ["", "0102", "0102030405060708090a0b0c0d0e0f1g", "01020304-0506-0708-090a0b0c-0d0e0f10"] {
            #expect(throws: LedgerText.Message.self) { try LedgerText.key(bad).get() }
        }
        #expect(LedgerText.randomKey() != LedgerText.randomKey())
    }

    @Test func amountsInMajorUnits() {
        #expect(LedgerText.major(1_250, scale: 2) == "12.50")
        #expect(LedgerText.major(5, scale: 2) == "0.05")
        #expect(LedgerText.major(0, scale: 0) == "0")
        #expect(LedgerText.major(1, scale: 18) == "0.000000000000000001")
        #expect(LedgerText.major(UInt128.max, scale: 38) == "3.40282366920938463463374607431768211455")
        #expect(LedgerText.major(SignedAmount(magnitude: 1_250, isNegative: true), scale: 2) == "-12.50")
    }

    /// Lines that must be refused, each with the problem's path (or column) and words of its message.
    static let badLines: [(line: String, path: String?, column: Int?, message: String)] = [
        (#"{"op":"post""#, nil, 13, "expected ',' or '}' after a member, found the end of the line"),
        (#"{"op":"post",}"#, nil, 14, "expected a member name in double quotes, found '}'"),
        (#"["op"]"#, "", nil, "expected an operation as a JSON object, found an array"),
        (#"{"op":"post","op":"hold"}"#, nil, 14, #"the member "op" appears twice"#),
        (
            #"{"op":"transfer"}"#, "op", nil,
            #"expected one of create_asset, create_account, set_account_status, post, hold, capture, increase_hold, void, reverse, found "transfer""#
        ),
        (#"{"op":"expire_hold","hold":5}"#, "op", nil, "expire_hold is issued by the engine"),
        (#"{"linked":true}"#, "op", nil, "missing: an operation needs it"),
        (#"{"op":"create_asset","code":"usd","scale":2}"#, "code", nil, "codes are upper case (USD)"),
        (
            #"{"op":"create_asset","code":"USD","scale":256}"#, "scale", nil,
            "expected an integer from 0 to 255, found 256: above the largest, 255"
        ),
        (
            #"{"op":"create_asset","code":"USD","scale":"2"}"#, "scale", nil,
            #"found "2": write the number without quotes"#
        ),
        (
            #"{"op":"create_asset","code":"USD","scale":2,"decimals":2}"#, "decimals", nil,
            "unknown field: create_asset has op, linked, code, scale"
        ),
        (
            #"{"op":"create_account","id":-1,"asset":"USD","kind":"float"}"#, "id", nil,
            "found -1: integers here are never negative"
        ),
        (
            #"{"op":"create_account","id":18446744073709551616,"asset":"USD","kind":"float"}"#, "id", nil,
            "found 18446744073709551616: above the largest, 18446744073709551615"
        ),
        (
            #"{"op":"create_account","id":1.0,"asset":"USD","kind":"float"}"#, "id", nil,
            "found 1.0: integers here are whole numbers: no fraction"
        ),
        (
            #"{"op":"create_account","id":1e3,"asset":"USD","kind":"float"}"#, "id", nil,
            "found 1e3: write every digit: no exponent"
        ),
        (
            #"{"op":"create_account","id":1,"asset":"USD","kind":"cash"}"#, "kind", nil,
            "expected an account kind: merchant_payable"
        ),
        (
            #"{"op":"create_account","id":1,"asset":"USD","kind":"float","flags":["overdraft"]}"#, "flags[0]", nil,
            "expected an account flag"
        ),
        (
            #"{"op":"set_account_status","account":1,"status":"thawed"}"#, "status", nil,
            "expected an account status: open, frozen or closed"
        ),
        (#"{"op":"post","type":"capture","legs":[]}"#, "key", nil, "missing: post needs it"),
        (
            #"{"op":"post","key":5,"type":"capture","legs":[]}"#, "key", nil,
            "expected an idempotency key: 32 hexadecimal digits (16 bytes) or a UUID, found 5: give it as a JSON string"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":true,"legs":[]}"#, "type", nil,
            "expected a transaction type: capture, settlement, payout, refund, chargeback, fee, reserve_hold, reserve_release, fx_conversion, adjustment, exception, custom_<1000-65535>, or a code from 0 to 65535, found true"
        ),
        (
            #"{"op":"post","key":"00","type":"capture","legs":[]}"#, "key", nil,
            "2 characters, not 32 hexadecimal digits"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"purchase","legs":[]}"#, "type", nil,
            "expected a transaction type: capture, settlement"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":"12.50"}]}"#,
            "legs[0].amount", nil, #"found "12.50": amounts are whole numbers: no fraction"#
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":"1"},{"account":2,"side":"credit","amount":12.5}]}"#,
            "legs[1].amount", nil, "found 12.5: amounts are whole numbers: no fraction"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":"-5"}]}"#,
            "legs[0].amount", nil, "amounts are never negative"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":-5}]}"#,
            "legs[0].amount", nil, "amounts are never negative"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":"1e3"}]}"#,
            "legs[0].amount", nil, "write every digit: no exponent"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":"+5"}]}"#,
            "legs[0].amount", nil, "write the digits without a sign"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":"007"}]}"#,
            "legs[0].amount", nil, "no leading zeros"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":"1,000"}]}"#,
            "legs[0].amount", nil, "digits only: no ',' or '_'"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":""}]}"#,
            "legs[0].amount", nil, "it is empty"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":"340282366920938463463374607431768211456"}]}"#,
            "legs[0].amount", nil, "above the largest, 340282366920938463463374607431768211455"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":340282366920938463463374607431768211456}]}"#,
            "legs[0].amount", nil, "above the largest, 340282366920938463463374607431768211455"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":true}]}"#,
            "legs[0].amount", nil, "expected an amount in minor units, as a decimal string such as \"1250\", found true"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"left","amount":"1"}]}"#,
            "legs[0].side", nil, "expected a side: debit or credit"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"amount":"1"}]}"#,
            "legs[0].side", nil, "missing: a leg needs it"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[{"account":1,"side":"debit","amount":"1","memo":"x"}]}"#,
            "legs[0].memo", nil, "unknown field: a leg has account, side, amount"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":{}}"#, "legs", nil,
            "expected an array of legs, found an object"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[],"fx_rates":[{"base":"USD","quote":"EUR","numerator":1}]}"#,
            "fx_rates[0].denominator", nil, "missing: an FX rate needs it"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[],"payment_id":"a","payment_id_hex":"61"}"#,
            "payment_id_hex", nil, "give payment_id or payment_id_hex, not both"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[],"provider_reference_hex":"6"}"#,
            "provider_reference_hex", nil, "an odd number of digits"
        ),
        (
            #"{"op":"hold","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","debit":1,"credit":2,"amount":"1","timeout_seconds":4294967296}"#,
            "timeout_seconds", nil, "above the largest, 4294967295"
        ),
        (
            #"{"op":"capture","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","hold":5,"amount":"1","final":"yes"}"#,
            "final", nil, "expected true or false"
        ),
        (
            #"{"op":"void","key":"0102030405060708090a0b0c0d0e0f10","type":"capture"}"#, "hold", nil,
            "missing: void needs it"
        ),
        (
            #"{"op":"reverse","key":"0102030405060708090a0b0c0d0e0f10","type":"refund","transaction":1,"linked":1}"#,
            "linked", nil, "expected true or false, found 1"
        ),
        (
            #"{"op":"post","key":"0102030405060708090a0b0c0d0e0f10","type":"capture","legs":[],"payment_id":"\ud800"}"#,
            nil, 96, "a lone UTF-16 high surrogate"
        ),
    ]

    @Test func everyKindOfBadLineIsRefusedWithItsLineAndField() throws {
        for (offset, bad) in Self.badLines.enumerated() {
            // The bad line after a good one and a blank one: line numbers count every line.
            let good = OperationJSON.encode(LinkedOperation(.createAsset(CreateAsset(code: "USD", scale: 2))))
                .serialized()
            let input = OperationInput.read(good + "\n\n" + bad.line + "\n")
            #expect(input.problems.count == 1, "case \(offset): \(bad.line) → \(input.problems)")
            guard let problem = input.problems.first else { continue }
            #expect(problem.line == 3, "case \(offset)")
            #expect(problem.path == bad.path, "case \(offset): \(problem)")
            #expect(problem.column == bad.column, "case \(offset): \(problem)")
            #expect(problem.message.contains(bad.message), "case \(offset): \(problem)")
        }
    }

    @Test func theReaderReportsEveryBadLineAndKeepsTheFirstHundred() {
        var text = ""
        for index in 0..<250 {
            text += index % 2 == 0 ? "{\"op\":\"nothing\"}\n" : "\n"
        }
        text += "\u{FF}\n"  // not UTF-8 (and not JSON)
        let input = OperationInput.read(text)
        #expect(input.problemCount == 126)
        #expect(input.problems.count == OperationInput.problemsKept)
        #expect(input.problems.prefix(3).map(\.line) == [1, 3, 5])
        #expect(input.count == 0)
    }

    @Test func invalidUTF8AndOverlongLinesAreRefused() {
        let line = Array(#"{"op":"create_asset","code":""#.utf8) + [0xC3, 0x28] + Array(#"","scale":2}"#.utf8)
        var input = OperationInput()
        input.consume(Data(line))
        input.finish()
        #expect(input.problems.map(\.description) == ["line 1, column 30: a string is not valid UTF-8"])

        let long = String(repeating: " ", count: OperationInput.lineBytesMax) + "{}\n{\"op\":\"x\"}"
        let overlong = OperationInput.read(long)
        #expect(overlong.problems.map(\.line) == [1, 2])
        #expect(overlong.problems.first?.message == "the line is longer than the limit of 1048576 bytes")
    }

    @Test func anInputEndingInsideAChainIsRefused() {
        let asset = #"{"op":"create_asset","code":"USD","scale":2,"linked":true}"#
        let input = OperationInput.read("\(asset)\n\(asset)\n\n\(asset)\n")
        #expect(
            input.problems.map(\.description) == [
                "line 4: linked: the input ends inside the atomic chain that starts at line 1: the last operation of a chain must not be linked"
            ]
        )
        let closed = OperationInput.read("\(asset)\n" + #"{"op":"create_asset","code":"EUR","scale":2}"#)
        #expect(closed.problems.isEmpty && closed.count == 2)
        #expect(closed.batch.isLinked(at: 0) && !closed.batch.isLinked(at: 1))
    }

    /// `n` operations with the chains given as (first index, length).
    static func input(count: Int, chains: [(Int, Int)]) -> OperationInput {
        var lines: [String] = []
        for index in 0..<count {
            let linked = chains.contains { index >= $0.0 && index < $0.0 + $0.1 - 1 }
            lines.append(#"{"op":"create_asset","code":"A\#(index)","scale":2,"linked":\#(linked)}"#)
        }
        return OperationInput.read(lines.joined(separator: "\n"))
    }

    @Test func batchesNeverSplitAChain() throws {
        let input = Self.input(count: 10, chains: [(2, 3), (6, 4)])
        #expect(input.problems.isEmpty)
        let plan = try input.plan(batchSize: 4, operationsMax: 100, bytesMax: 1 << 20).get()
        // [0,1] then the chain 2-4 does not fit; [2,3,4,5]; the chain 6-9 alone.
        #expect(plan == [0..<2, 2..<6, 6..<10])
        #expect(
            try input.plan(batchSize: 1, operationsMax: 100, bytesMax: 1 << 20).get() == [
                0..<1, 1..<2, 2..<5, 5..<6, 6..<10,
            ]
        )
        #expect(try input.plan(batchSize: 1_000, operationsMax: 1_000, bytesMax: 1 << 20).get() == [0..<10])
        // A chain longer than a request can carry cannot be sent at all.
        let refused = input.plan(batchSize: 2, operationsMax: 3, bytesMax: 1 << 20)
        #expect(throws: InputProblem.self) { try refused.get() }
        if case .failure(let problem) = refused {
            #expect(
                problem.description
                    == "line 7: the atomic chain of lines 7-10 holds 4 operations, more than the server takes in one request (3)"
            )
        }
        // Bytes bound a request too: a create_asset is 2 + 17 bytes, a batch header 6.
        let bytesPlan = try Self.input(count: 4, chains: []).plan(
            batchSize: 100,
            operationsMax: 100,
            bytesMax: 6 + 3 * 19
        ).get()
        #expect(bytesPlan == [0..<3, 3..<4])
    }

    @Test func theJSONParserIsStrict() throws {
        #expect(
            try JSONValue.parse(Array(#" {"a" : [1, -0.5e+3, true, false, null, "\u00e9\ud83d\ude00\n\/"]} "#.utf8))
                == .object([
                    .init(
                        "a",
                        .array([.number("1"), .number("-0.5e+3"), .bool(true), .bool(false), .null, .string("é😀\n/")])
                    )
                ])
        )
        let bad: [(String, Int, String)] = [
            ("", 0, "expected a JSON value, found the end of the line"),
            ("{} {}", 3, "unexpected text after the JSON value"),
            ("01", 1, "a JSON number has no leading zero"),
            ("1.", 2, "expected a digit after the decimal point"),
            ("-", 1, "expected a digit"),
            ("\"a\tb\"", 2, "a control character (byte 0x9) must be escaped"),
            ("\"\\x\"", 1, "unknown escape '\\x'"),
            ("\"\\udc00\"", 1, "a lone UTF-16 low surrogate"),
            ("tru", 0, "expected a JSON value, found 't'"),
            ("'a'", 0, "expected a JSON value, found '''"),
            (String(repeating: "[", count: 40), 32, "nest deeper than 32 levels"),
        ]
        for (text, offset, message) in bad {
            #expect(throws: JSONValue.SyntaxError.self) { try JSONValue.parse(Array(text.utf8)) }
            do {
                _ = try JSONValue.parse(Array(text.utf8))
            } catch {
                #expect(error.offset == offset, "\(text): \(error)")
                #expect(error.message.contains(message), "\(text): \(error)")
            }
        }
        // What the writer escapes reads back the same, and Foundation reads it the same.
        let tricky = "q\"b\\s/\u{0}\u{1F}\t\r\n\u{08}\u{0C}é😀"
        let written = JSONValue.object([.init("s", .string(tricky))]).serialized()
        #expect(try JSONValue.parse(Array(written.utf8)) == .object([.init("s", .string(tricky))]))
        let foundation = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: String]
        #expect(foundation?["s"] == tricky)
        // Members are written sorted by name, as JSONOutput does.
        #expect(JSONValue.object([.init("b", .null), .init("a", .integer(1))]).serialized() == #"{"a":1,"b":null}"#)
    }

    @Test func resultObjectsCarryEveryField() throws {
        let result = SubmittedResult(
            index: 4,
            line: 9,
            operation: .post(Self.header(0xAB), legs: []),
            result: OperationResult(code: .exceedsCredits, transactionID: 0, detail: 1, isReplay: true),
            sequence: 12,
            recordedTime: Timestamp(nanosecondsSinceEpoch: 1_700_000_000_000_000_000)
        )
        #expect(
            result.json.serialized()
                == #"{"code":"exceeds_credits","code_number":63,"detail":1,"index":4,"key":"ab000000000000000000000000000000","line":9,"op":"post","recorded_time":1700000000000000000,"replay":true,"sequence":12,"transaction_id":0}"#
        )
        #expect(result.human == "line 9  post  REJECTED exceeds_credits (63) detail 1  (replay)")
        let ok = SubmittedResult(
            index: 0,
            operation: .createAsset(CreateAsset(code: "USD", scale: 2)),
            result: .ok(),
            sequence: 1,
            recordedTime: .zero
        )
        #expect(ok.json.serialized().contains(#""key":null"#))
        #expect(ok.human == "create_asset  ok")
    }
}

/// Operations of the seeded payment workload, for round trips of realistic content.
enum PaymentSimulationSample {
    static func operations(count: Int) -> [LinkedOperation] {
        var workload = PaymentWorkload(configuration: .scaled(toAccounts: 40, seed: 3))
        var ledger = Ledger()
        var batch = OperationBatch()
        var operations: [LinkedOperation] = []
        while operations.count < count {
            let time = workload.nextBatch(into: &batch, count: 200)
            workload.observe(ledger.apply(batch, at: time), of: batch)
            for index in 0..<batch.count {
                operations.append(LinkedOperation(batch.operation(at: index), linked: batch.isLinked(at: index)))
            }
        }
        return operations
    }
}
