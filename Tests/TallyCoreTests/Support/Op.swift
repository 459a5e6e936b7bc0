@testable import TallyCore

/// Short constructors for operations, so that a scenario reads as a line of a table.
///
/// Keyed operations take the key first; the transaction type defaults to one the operation does
/// not care about (`capture` for movements, `refund` for reversals).
enum Op {
    static func asset(_ code: AssetCode, scale: UInt8 = 2) -> Operation {
        .createAsset(CreateAsset(code: code, scale: scale))
    }

    static func account(
        _ id: AccountID,
        _ asset: AssetCode,
        _ kind: AccountKind,
        side: Side? = nil,
        merchant: UInt64 = 0,
        partner: UInt64 = 0,
        flags: AccountFlags = []
    ) -> Operation {
        .createAccount(
            CreateAccount(
                id: id,
                asset: asset,
                kind: kind,
                normalSide: side,
                merchant: merchant,
                partner: partner,
                flags: flags
            )
        )
    }

    static func status(_ id: AccountID, _ status: AccountStatus, actor: UInt64 = 0, reason: UInt32 = 0) -> Operation {
        .setAccountStatus(SetAccountStatus(account: id, status: status, actor: actor, reason: reason))
    }

    static func header(
        _ key: IdempotencyKey,
        type: TransactionType,
        effective: Timestamp = .zero,
        actor: UInt64 = 0,
        reason: UInt32 = 0
    ) -> TransactionHeader {
        TransactionHeader(key: key, type: type, effectiveTime: effective, actor: actor, reason: reason)
    }

    static func post(
        _ key: IdempotencyKey,
        _ legs: [Leg],
        fx: [FXRate] = [],
        type: TransactionType = .capture,
        refs: ExternalReferences = .none,
        effective: Timestamp = .zero,
        actor: UInt64 = 0,
        reason: UInt32 = 0
    ) -> Operation {
        .post(
            header(key, type: type, effective: effective, actor: actor, reason: reason),
            legs: legs,
            fxRates: fx,
            references: refs
        )
    }

    static func hold(
        _ key: IdempotencyKey,
        _ debit: AccountID,
        _ credit: AccountID,
        _ amount: UInt128,
        timeout: UInt32 = 0,
        type: TransactionType = .capture,
        refs: ExternalReferences = .none,
        effective: Timestamp = .zero,
        actor: UInt64 = 0,
        reason: UInt32 = 0
    ) -> Operation {
        .hold(
            header(key, type: type, effective: effective, actor: actor, reason: reason),
            HoldTerms(debit: debit, credit: credit, amount: amount, timeoutSeconds: timeout),
            references: refs
        )
    }

    static func capture(
        _ key: IdempotencyKey,
        _ hold: TransactionID,
        _ amount: UInt128,
        final: Bool = false,
        type: TransactionType = .capture,
        refs: ExternalReferences = .none,
        effective: Timestamp = .zero,
        actor: UInt64 = 0,
        reason: UInt32 = 0
    ) -> Operation {
        .capture(
            header(key, type: type, effective: effective, actor: actor, reason: reason),
            CaptureTerms(hold: hold, amount: amount, isFinal: final),
            references: refs
        )
    }

    static func increase(
        _ key: IdempotencyKey,
        _ hold: TransactionID,
        _ amount: UInt128,
        type: TransactionType = .capture,
        refs: ExternalReferences = .none
    ) -> Operation {
        .increaseHold(header(key, type: type), IncreaseTerms(hold: hold, amount: amount), references: refs)
    }

    static func void(
        _ key: IdempotencyKey,
        _ hold: TransactionID,
        type: TransactionType = .capture,
        refs: ExternalReferences = .none
    ) -> Operation {
        .voidHold(header(key, type: type), hold: hold, references: refs)
    }

    static func expire(_ hold: TransactionID) -> Operation {
        .expireHold(hold: hold)
    }

    static func reverse(
        _ key: IdempotencyKey,
        _ transaction: TransactionID,
        type: TransactionType = .refund,
        refs: ExternalReferences = .none,
        actor: UInt64 = 0,
        reason: UInt32 = 0
    ) -> Operation {
        .reverse(header(key, type: type, actor: actor, reason: reason), transaction: transaction, references: refs)
    }

    /// An FX rate between two assets.
    static func rate(
        _ base: AssetCode,
        _ quote: AssetCode,
        _ numerator: UInt64 = 9,
        _ denominator: UInt64 = 10
    )
        -> FXRate
    {
        FXRate(base: base, quote: quote, numerator: numerator, denominator: denominator)
    }

    /// A reference of `count` bytes.
    static func reference(_ count: Int) -> ExternalReference {
        ExternalReference(bytes: Array(repeating: UInt8(ascii: "r"), count: count))
    }
}

extension OperationResult {
    /// `ok` with the replay flag and no transaction: what re-creating an asset or account, or
    /// setting the status an account already has, answers.
    static let okReplay = OperationResult(code: .ok, isReplay: true)

    /// A chain member that failed because another member did.
    static let linkedFailed = OperationResult.rejected(.linkedOperationFailed)

    /// This result as a replay answers it.
    var replayed: OperationResult {
        var result = self
        result.isReplay = true
        return result
    }
}

/// A packed asset code built without validation, for codes the parser rightly refuses.
func rawAssetCode(_ bytes: [UInt8]) -> AssetCode {
    var value: UInt128 = 0
    for (index, byte) in bytes.enumerated() {
        value |= UInt128(byte) << (index * 8)
    }
    return AssetCode(rawValue: value)
}
