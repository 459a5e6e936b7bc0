import TallyCore

/// The text forms of ledger values that the command line reads and writes, in JSON and in flags
/// alike (docs/CLI.md): amounts as decimal minor units, idempotency keys in hexadecimal, names for
/// kinds, types, sides, statuses and flags. Each parser returns the value or a message that says
/// what was expected and what is wrong, for the caller to place (a flag, a line and field path).
enum LedgerText {
    /// `2^128 − 1`, the largest amount, as text.
    static let amountMaxText = String(UInt128.max)

    /// An amount of minor units: decimal digits only, no sign, fraction, exponent, separator or
    /// leading zero, at most 2^128 − 1. Exact for every `UInt128`.
    static func amount(_ text: String) -> Result<UInt128, Message> {
        switch self.decimal(text, as: UInt128.self) {
        case .success(let value):
            return .success(value)
        case .failure(let problem):
            return .failure(
                Message(
                    expected: "an amount in minor units (decimal digits, such as \"1250\" for 12.50 at scale 2)",
                    reason: problem.reason(maximum: Self.amountMaxText, what: "amounts")
                )
            )
        }
    }

    /// What is wrong with a decimal integer's text.
    enum DecimalProblem: Error, Hashable, Sendable {
        case empty
        case negative
        case sign
        case fraction
        case exponent
        case separator
        case space
        case leadingZero
        case tooLarge
        case notDigits

        func reason(maximum: String, what: String) -> String {
            switch self {
            case .empty: return "it is empty"
            case .negative: return "\(what) are never negative"
            case .sign: return "write the digits without a sign"
            case .fraction: return "\(what) are whole numbers: no fraction"
            case .exponent: return "write every digit: no exponent"
            case .separator: return "digits only: no ',' or '_'"
            case .space: return "digits only: no spaces"
            case .leadingZero: return "no leading zeros"
            case .tooLarge: return "above the largest, \(maximum)"
            case .notDigits: return "decimal digits only"
            }
        }
    }

    /// A non-negative decimal integer of type `T`, from its exact digits.
    static func decimal<T: FixedWidthInteger & UnsignedInteger>(
        _ text: String,
        as _: T.Type
    ) -> Result<T, DecimalProblem> {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return .failure(.empty) }
        var value: T = 0
        var allDigits = true
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                allDigits = false
                break
            }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(T(byte - UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else {
                // Finish checking the characters: "99…9x" is not digits, whatever its size.
                return .failure(
                    bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ? .tooLarge : .notDigits
                )
            }
            value = sum
        }
        if allDigits {
            return bytes.count > 1 && bytes[0] == UInt8(ascii: "0") ? .failure(.leadingZero) : .success(value)
        }
        if bytes.contains(where: { $0 == 0x20 || $0 == 0x09 }) { return .failure(.space) }
        let isNumeric = bytes.allSatisfy {
            ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+")
                || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E")
                || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "_")
        }
        guard isNumeric, bytes.contains(where: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .failure(.notDigits)
        }
        if bytes[0] == UInt8(ascii: "-") { return .failure(.negative) }
        if bytes.contains(UInt8(ascii: "e")) || bytes.contains(UInt8(ascii: "E")) { return .failure(.exponent) }
        if bytes.contains(UInt8(ascii: ".")) { return .failure(.fraction) }
        if bytes.contains(UInt8(ascii: ",")) || bytes.contains(UInt8(ascii: "_")) { return .failure(.separator) }
        if bytes[0] == UInt8(ascii: "+") { return .failure(.sign) }
        return .failure(.notDigits)
    }

    /// An unsigned integer of type `T` (ids, times, codes) from decimal digits.
    static func unsigned<T: FixedWidthInteger & UnsignedInteger>(_ text: String, as type: T.Type) -> Result<T, Message>
    {
        self.decimal(text, as: type).mapError {
            Message(
                expected: "an integer from 0 to \(T.max)",
                reason: $0.reason(maximum: String(T.max), what: "integers here")
            )
        }
    }

    /// An idempotency key: 32 hexadecimal digits, the 16 bytes in order (TallyCore's text form,
    /// ``IdempotencyKey/description``), or a UUID in its 8-4-4-4-12 form, its bytes in text order.
    static func key(_ text: String) -> Result<IdempotencyKey, Message> {
        let expected = "an idempotency key: 32 hexadecimal digits (16 bytes) or a UUID"
        var bytes = Array(text.utf8)
        if bytes.count == 36 {
            let dashes = [8, 13, 18, 23]
            guard dashes.allSatisfy({ bytes[$0] == UInt8(ascii: "-") }) else {
                return .failure(Message(expected: expected, reason: "36 characters, but not a UUID's 8-4-4-4-12 form"))
            }
            for index in dashes.reversed() {
                bytes.remove(at: index)
            }
        }
        guard bytes.count == 32 else {
            return .failure(
                Message(
                    expected: expected,
                    reason: "\(text.unicodeScalars.count) characters, not 32 hexadecimal digits"
                )
            )
        }
        // Byte i of the text is byte i of the key, the least significant first (IdempotencyKey).
        var value: UInt128 = 0
        for index in 0..<16 {
            guard let high = hexDigitValue(bytes[2 * index]), let low = hexDigitValue(bytes[2 * index + 1]) else {
                return .failure(Message(expected: expected, reason: "only 0-9, a-f and A-F are hexadecimal digits"))
            }
            value |= UInt128(high << 4 | low) << (8 * index)
        }
        return .success(IdempotencyKey(value))
    }

    /// A new random key that is not zero, for commands given no `--key`.
    static func randomKey() -> IdempotencyKey {
        var generator = SystemRandomNumberGenerator()
        while true {
            let key = IdempotencyKey(UInt128(generator.next() as UInt64) << 64 | UInt128(generator.next() as UInt64))
            if key.rawValue != 0 { return key }
        }
    }

    /// An asset code: 1 to 16 characters of `A-Z 0-9 . - _`.
    static func assetCode(_ text: String) -> Result<AssetCode, Message> {
        if let code = AssetCode(text) { return .success(code) }
        let expected = "an asset code: 1 to 16 characters of A-Z, 0-9, '.', '-' and '_'"
        if text.isEmpty { return .failure(Message(expected: expected, reason: "it is empty")) }
        if text.utf8.count > AssetCode.lengthMax {
            return .failure(Message(expected: expected, reason: "\(text.utf8.count) bytes, more than 16"))
        }
        if AssetCode(text.uppercased()) != nil {
            return .failure(Message(expected: expected, reason: "codes are upper case (\(text.uppercased()))"))
        }
        return .failure(Message(expected: expected, reason: "it has other characters"))
    }

    /// A transaction type: its name (`capture`, `settlement`, … `custom_1000`) or its code.
    static func transactionType(_ text: String) -> Result<TransactionType, Message> {
        if let type = TransactionType(name: text) { return .success(type) }
        if case .success(let code) = self.decimal(text, as: UInt16.self) {
            return .success(TransactionType(rawValue: code))
        }
        return .failure(
            Message(
                expected: "a transaction type: "
                    + TransactionType.builtIn.map(\.name).joined(separator: ", ")
                    + ", custom_<1000-65535>, or a code from 0 to 65535",
                reason: nil
            )
        )
    }

    /// An account kind: its name (`merchant_payable`, … `custom_1000`) or its code.
    static func accountKind(_ text: String) -> Result<AccountKind, Message> {
        if let kind = AccountKind(name: text) { return .success(kind) }
        if case .success(let code) = self.decimal(text, as: UInt16.self) {
            return .success(AccountKind(rawValue: code))
        }
        return .failure(
            Message(
                expected: "an account kind: " + AccountKind.builtIn.map(\.name).joined(separator: ", ")
                    + ", custom_<1000-65535>, or a code from 0 to 65535",
                reason: nil
            )
        )
    }

    /// The name written for a type: its name when it is valid, else its code (which reads back).
    static func name(of type: TransactionType) -> JSONValue {
        type.isValid ? .string(type.name) : .integer(type.rawValue)
    }

    /// The name written for a kind: its name when it is valid, else its code (which reads back).
    static func name(of kind: AccountKind) -> JSONValue {
        kind.isValid ? .string(kind.name) : .integer(kind.rawValue)
    }

    static func side(_ text: String) -> Result<Side, Message> {
        Side.allCases.first { $0.description == text }.map { .success($0) }
            ?? .failure(Message(expected: "a side: debit or credit", reason: nil))
    }

    static func status(_ text: String) -> Result<AccountStatus, Message> {
        AccountStatus.allCases.first { $0.description == text }.map { .success($0) }
            ?? .failure(Message(expected: "an account status: open, frozen or closed", reason: nil))
    }

    /// The names of the account flags, by bit.
    static let flagNames: [(name: String, flag: AccountFlags)] = [
        ("debits_must_not_exceed_credits", .debitsMustNotExceedCredits),
        ("credits_must_not_exceed_debits", .creditsMustNotExceedDebits),
    ]

    static func flag(_ text: String) -> Result<AccountFlags, Message> {
        Self.flagNames.first { $0.name == text }.map { .success($0.flag) }
            ?? .failure(
                Message(
                    expected: "an account flag: " + Self.flagNames.map(\.name).joined(separator: " or "),
                    reason: nil
                )
            )
    }

    /// Flags as names, or as their number when a bit has no name (so that it reads back).
    static func json(_ flags: AccountFlags) -> JSONValue {
        guard flags.subtracting(.all).isEmpty else { return .integer(flags.rawValue) }
        return .array(Self.flagNames.filter { flags.contains($0.flag) }.map { .string($0.name) })
    }

    /// Bytes as lowercase hexadecimal, two digits each.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Bytes from hexadecimal text (an even number of digits, either case).
    static func bytes(hex text: String) -> Result<[UInt8], Message> {
        let utf8 = Array(text.utf8)
        let expected = "bytes in hexadecimal (two digits each)"
        guard utf8.count % 2 == 0 else {
            return .failure(Message(expected: expected, reason: "an odd number of digits"))
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        for index in stride(from: 0, to: utf8.count, by: 2) {
            guard let high = hexDigitValue(utf8[index]), let low = hexDigitValue(utf8[index + 1]) else {
                return .failure(Message(expected: expected, reason: "only 0-9, a-f and A-F are hexadecimal digits"))
            }
            bytes.append(high << 4 | low)
        }
        return .success(bytes)
    }

    /// `minor` minor units at `scale` decimal places, in major units: 1250 at scale 2 is `12.50`.
    static func major(_ minor: UInt128, scale: UInt8) -> String {
        guard scale > 0 else { return String(minor) }
        var digits = String(minor)
        let places = Int(scale)
        if digits.count <= places {
            digits = String(repeating: "0", count: places - digits.count + 1) + digits
        }
        let split = digits.index(digits.endIndex, offsetBy: -places)
        return digits[..<split] + "." + digits[split...]
    }

    /// A signed amount in major units.
    static func major(_ amount: SignedAmount, scale: UInt8) -> String {
        (amount.isNegative ? "-" : "") + Self.major(amount.magnitude, scale: scale)
    }

    /// What a text value should have been, and what is wrong with it.
    struct Message: Error, Hashable, Sendable {
        var expected: String
        var reason: String?

        /// `expected X, found "Y": reason`.
        func text(found: String) -> String {
            "expected \(self.expected), found \(found)" + (self.reason.map { ": \($0)" } ?? "")
        }
    }
}
