import TallyCore

/// A command-line value that cannot be used; ArgumentParser prints it after the flag and the value.
struct FlagValueError: Error, CustomStringConvertible {
    var description: String

    init(_ message: LedgerText.Message) {
        self.description = "expected \(message.expected)" + (message.reason.map { ": \($0)" } ?? "")
    }

    init(_ description: String) {
        self.description = description
    }
}

/// A debit or credit given as `ACCOUNT:AMOUNT`.
struct LegFlag: Hashable, Sendable {
    var account: AccountID
    var amount: UInt128
}

/// Parsers of flag values into ledger values, with the same rules and messages as the JSON
/// format (`transform:` of the options that take them).
enum FlagValue {
    static func get<T>(_ result: Result<T, LedgerText.Message>) throws -> T {
        switch result {
        case .success(let value): return value
        case .failure(let message): throw FlagValueError(message)
        }
    }

    static func amount(_ text: String) throws -> UInt128 {
        try Self.get(LedgerText.amount(text))
    }

    static func key(_ text: String) throws -> IdempotencyKey {
        try Self.get(LedgerText.key(text))
    }

    static func type(_ text: String) throws -> TransactionType {
        try Self.get(LedgerText.transactionType(text))
    }

    static func kind(_ text: String) throws -> AccountKind {
        try Self.get(LedgerText.accountKind(text))
    }

    static func asset(_ text: String) throws -> AssetCode {
        try Self.get(LedgerText.assetCode(text))
    }

    static func side(_ text: String) throws -> Side {
        try Self.get(LedgerText.side(text))
    }

    static func flag(_ text: String) throws -> AccountFlags {
        try Self.get(LedgerText.flag(text))
    }

    static func status(_ text: String) throws -> AccountStatus {
        try Self.get(LedgerText.status(text))
    }

    static func account(_ text: String) throws -> AccountID {
        AccountID(try Self.get(LedgerText.unsigned(text, as: UInt64.self)))
    }

    static func transaction(_ text: String) throws -> TransactionID {
        TransactionID(try Self.get(LedgerText.unsigned(text, as: UInt64.self)))
    }

    /// `ACCOUNT:AMOUNT`, the amount in minor units.
    static func leg(_ text: String) throws -> LegFlag {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw FlagValueError(
                "expected ACCOUNT:AMOUNT, such as 1001:1250 (1250 minor units of account 1001's asset)"
            )
        }
        do {
            return LegFlag(account: try Self.account(String(parts[0])), amount: try Self.amount(String(parts[1])))
        } catch let error as FlagValueError {
            throw FlagValueError(
                (parts.count == 2 && (try? Self.account(String(parts[0]))) != nil ? "amount: " : "account: ")
                    + error.description
            )
        }
    }

    /// `BASE/QUOTE=NUMERATOR/DENOMINATOR` (or `=NUMERATOR` for a denominator of 1): NUMERATOR /
    /// DENOMINATOR minor units of QUOTE per minor unit of BASE.
    static func fxRate(_ text: String) throws -> FXRate {
        let expected = "BASE/QUOTE=NUMERATOR/DENOMINATOR, such as USD/EUR=92/100"
        let sides = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard sides.count == 2 else { throw FlagValueError("expected \(expected)") }
        let assets = sides[0].split(separator: "/", omittingEmptySubsequences: false)
        let ratio = sides[1].split(separator: "/", omittingEmptySubsequences: false)
        guard assets.count == 2, ratio.count == 1 || ratio.count == 2 else {
            throw FlagValueError("expected \(expected)")
        }
        return FXRate(
            base: try Self.asset(String(assets[0])),
            quote: try Self.asset(String(assets[1])),
            numerator: try Self.get(LedgerText.unsigned(String(ratio[0]), as: UInt64.self)),
            denominator: ratio.count == 2 ? try Self.get(LedgerText.unsigned(String(ratio[1]), as: UInt64.self)) : 1
        )
    }

    /// An external reference as UTF-8 text, at most what a request can carry.
    static func reference(_ text: String) throws -> ExternalReference {
        let bytes = Array(text.utf8)
        guard bytes.count <= OperationBatch.EncodingLimits.referenceBytesMax else {
            throw FlagValueError(
                "\(bytes.count) bytes, more than the \(OperationBatch.EncodingLimits.referenceBytesMax) a request can carry (the ledger accepts \(Limits.externalReferenceBytesMax))"
            )
        }
        return ExternalReference(bytes: bytes)
    }
}
