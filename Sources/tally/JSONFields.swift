import TallyCore

/// A problem with one field of a JSON operation: its path from the top of the object
/// (`legs[1].amount`, empty for the object itself) and what was expected.
struct JSONFieldError: Error, Hashable, Sendable {
    var path: String
    var message: String
}

/// Reads the members of one JSON object by name and keeps track of the names asked for, so that
/// a member nobody asked for (a misspelt field) is an error instead of being silently ignored.
/// A member whose value is `null` counts as absent.
struct JSONFields {
    /// The object's own path ("" at the top).
    let path: String
    /// What the object is, for messages: "post", "a leg".
    var what: String
    private let members: [JSONValue.Member]
    private var asked: [String] = []

    init(_ value: JSONValue, path: String, what: String) throws(JSONFieldError) {
        guard case .object(let members) = value else {
            throw JSONFieldError(
                path: path,
                message: "expected \(what) as a JSON object, found \(value.shortDescription)"
            )
        }
        self.path = path
        self.what = what
        self.members = members
    }

    /// The path of the member `name`.
    func path(_ name: String) -> String {
        self.path.isEmpty ? name : self.path + "." + name
    }

    /// The member `name`, or nil when it is absent or null.
    mutating func value(_ name: String) -> JSONValue? {
        self.asked.append(name)
        guard let member = self.members.first(where: { $0.name == name }) else { return nil }
        if case .null = member.value { return nil }
        return member.value
    }

    /// Decodes the member `name`, which must be present.
    mutating func required<T>(
        _ name: String,
        _ decode: (JSONValue, String) throws(JSONFieldError) -> T
    ) throws(JSONFieldError) -> T {
        guard let value = self.value(name) else {
            throw JSONFieldError(path: self.path(name), message: "missing: \(self.what) needs it")
        }
        return try decode(value, self.path(name))
    }

    /// Decodes the member `name`, or returns nil when it is absent or null.
    mutating func optional<T>(
        _ name: String,
        _ decode: (JSONValue, String) throws(JSONFieldError) -> T
    ) throws(JSONFieldError) -> T? {
        guard let value = self.value(name) else { return nil }
        return try decode(value, self.path(name))
    }

    /// Fails on the first member that was never asked for.
    func finish() throws(JSONFieldError) {
        for member in self.members where !self.asked.contains(member.name) {
            throw JSONFieldError(
                path: self.path(member.name),
                message: "unknown field: \(self.what) has " + self.asked.joined(separator: ", ")
            )
        }
    }
}

/// Decoders of one JSON value into a ledger value, each failing with the value's path and what
/// was expected there.
enum JSONRead {
    static func fail(_ path: String, _ message: LedgerText.Message, _ value: JSONValue) -> JSONFieldError {
        JSONFieldError(path: path, message: message.text(found: value.shortDescription))
    }

    /// An unsigned integer as a JSON number, decoded exactly from its digits.
    static func unsigned<T: FixedWidthInteger & UnsignedInteger>(
        _ value: JSONValue,
        _ path: String,
        as type: T.Type = T.self
    ) throws(JSONFieldError) -> T {
        let expected = "an integer from 0 to \(T.max)"
        switch value {
        case .number(let text):
            switch LedgerText.decimal(text, as: type) {
            case .success(let number):
                return number
            case .failure(let problem):
                throw Self.fail(
                    path,
                    LedgerText.Message(
                        expected: expected,
                        reason: problem.reason(maximum: String(T.max), what: "integers here")
                    ),
                    value
                )
            }
        case .string(let text):
            let hint = LedgerText.decimal(text, as: type).map { _ in "write the number without quotes" }
            throw Self.fail(path, LedgerText.Message(expected: expected, reason: try? hint.get()), value)
        default:
            throw Self.fail(path, LedgerText.Message(expected: expected, reason: nil), value)
        }
    }

    /// An amount: a decimal string of minor units, or a JSON integer (decoded from its digits).
    static func amount(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> UInt128 {
        let text: String
        switch value {
        case .string(let string): text = string
        case .number(let number): text = number
        default:
            throw Self.fail(
                path,
                LedgerText.Message(
                    expected: "an amount in minor units, as a decimal string such as \"1250\"",
                    reason: nil
                ),
                value
            )
        }
        switch LedgerText.amount(text) {
        case .success(let amount): return amount
        case .failure(let message): throw Self.fail(path, message, value)
        }
    }

    static func bool(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> Bool {
        guard case .bool(let flag) = value else {
            throw Self.fail(path, LedgerText.Message(expected: "true or false", reason: nil), value)
        }
        return flag
    }

    static func string(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> String {
        guard case .string(let text) = value else {
            throw Self.fail(path, LedgerText.Message(expected: "a string", reason: nil), value)
        }
        return text
    }

    /// A string parsed by `parse`, whose failure names what was expected. Another JSON type fails
    /// with what `parse` expects (asked of a text it refuses) and `notString` as the reason.
    static func text<T>(
        _ value: JSONValue,
        _ path: String,
        _ parse: (String) -> Result<T, LedgerText.Message>,
        notString: String? = "give it as a JSON string"
    ) throws(JSONFieldError) -> T {
        guard case .string(let text) = value else {
            // Every parser refuses a lone NUL; its message says what it expects.
            guard case .failure(let message) = parse("\u{0}") else {
                preconditionFailure("a parser accepted a lone NUL")
            }
            throw Self.fail(path, LedgerText.Message(expected: message.expected, reason: notString), value)
        }
        switch parse(text) {
        case .success(let parsed): return parsed
        case .failure(let message): throw Self.fail(path, message, value)
        }
    }

    /// A name, or its number: transaction types and account kinds.
    static func named<T>(
        _ value: JSONValue,
        _ path: String,
        _ parse: (String) -> Result<T, LedgerText.Message>,
        code: (UInt16) -> T
    ) throws(JSONFieldError) -> T {
        if case .number = value {
            return code(try Self.unsigned(value, path, as: UInt16.self))
        }
        return try Self.text(value, path, parse, notString: nil)
    }

    static func accountID(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> AccountID {
        AccountID(try Self.unsigned(value, path, as: UInt64.self))
    }

    static func transactionID(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> TransactionID {
        TransactionID(try Self.unsigned(value, path, as: UInt64.self))
    }

    static func timestamp(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: try Self.unsigned(value, path, as: UInt64.self))
    }

    static func assetCode(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> AssetCode {
        try Self.text(value, path, LedgerText.assetCode)
    }

    static func key(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> IdempotencyKey {
        try Self.text(value, path, LedgerText.key)
    }

    static func side(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> Side {
        try Self.text(value, path, LedgerText.side)
    }

    static func status(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> AccountStatus {
        try Self.text(value, path, LedgerText.status)
    }

    static func transactionType(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> TransactionType {
        try Self.named(value, path, LedgerText.transactionType) { TransactionType(rawValue: $0) }
    }

    static func accountKind(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> AccountKind {
        try Self.named(value, path, LedgerText.accountKind) { AccountKind(rawValue: $0) }
    }

    /// Account flags: an array of flag names, or the flags' number.
    static func flags(_ value: JSONValue, _ path: String) throws(JSONFieldError) -> AccountFlags {
        switch value {
        case .number:
            return AccountFlags(rawValue: try Self.unsigned(value, path, as: UInt16.self))
        case .array(let elements):
            var flags: AccountFlags = []
            for (index, element) in elements.enumerated() {
                flags.formUnion(try Self.text(element, "\(path)[\(index)]", LedgerText.flag))
            }
            return flags
        default:
            throw Self.fail(
                path,
                LedgerText.Message(
                    expected: "account flags: an array of "
                        + LedgerText.flagNames.map(\.name).joined(separator: " and ") + ", or a number",
                    reason: nil
                ),
                value
            )
        }
    }

    /// An array of at most `countMax` elements, each decoded with its index in the path.
    static func array<T>(
        _ value: JSONValue,
        _ path: String,
        what: String,
        countMax: Int,
        _ decode: (JSONValue, String) throws(JSONFieldError) -> T
    ) throws(JSONFieldError) -> [T] {
        guard case .array(let elements) = value else {
            throw Self.fail(path, LedgerText.Message(expected: "an array of \(what)", reason: nil), value)
        }
        guard elements.count <= countMax else {
            throw JSONFieldError(
                path: path,
                message: "\(elements.count) \(what), more than the \(countMax) an operation can carry"
            )
        }
        var decoded: [T] = []
        decoded.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            decoded.append(try decode(element, "\(path)[\(index)]"))
        }
        return decoded
    }
}
