/// The outcome of one operation: `ok`, or the rule it broke.
///
/// Codes are stable: a number, once published, keeps its meaning forever; new codes get new
/// numbers. docs/RESULT_CODES.md is generated from ``ResultCode/all`` and checked by a test.
public struct ResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let ok = ResultCode(rawValue: 0)

    // Atomic chains.
    public static let linkedOperationFailed = ResultCode(rawValue: 1)
    public static let linkedChainOpen = ResultCode(rawValue: 2)

    // Idempotency.
    public static let idempotencyKeyInvalid = ResultCode(rawValue: 10)
    public static let idempotencyConflict = ResultCode(rawValue: 11)

    // Assets.
    public static let assetCodeInvalid = ResultCode(rawValue: 20)
    public static let assetScaleInvalid = ResultCode(rawValue: 21)
    public static let assetExistsWithDifferentScale = ResultCode(rawValue: 22)
    public static let assetUnknown = ResultCode(rawValue: 23)
    public static let assetsLimitReached = ResultCode(rawValue: 24)

    // Accounts.
    public static let accountIDInvalid = ResultCode(rawValue: 30)
    public static let accountKindInvalid = ResultCode(rawValue: 31)
    public static let normalSideMismatch = ResultCode(rawValue: 32)
    public static let normalSideRequired = ResultCode(rawValue: 33)
    public static let accountFlagsInvalid = ResultCode(rawValue: 34)
    public static let accountExistsWithDifferentFields = ResultCode(rawValue: 35)
    public static let accountsLimitReached = ResultCode(rawValue: 36)
    public static let accountUnknown = ResultCode(rawValue: 37)
    public static let accountFrozen = ResultCode(rawValue: 38)
    public static let accountClosed = ResultCode(rawValue: 39)
    public static let accountNotEmpty = ResultCode(rawValue: 40)

    // Transactions.
    public static let transactionTypeInvalid = ResultCode(rawValue: 50)
    public static let legsTooFew = ResultCode(rawValue: 51)
    public static let legsTooMany = ResultCode(rawValue: 52)
    public static let amountZero = ResultCode(rawValue: 53)
    public static let amountOverflow = ResultCode(rawValue: 54)
    public static let unbalanced = ResultCode(rawValue: 55)
    public static let accountsMustBeDistinct = ResultCode(rawValue: 56)
    public static let assetMismatch = ResultCode(rawValue: 57)
    public static let actorAndReasonRequired = ResultCode(rawValue: 58)
    public static let externalReferenceTooLong = ResultCode(rawValue: 59)
    public static let fxRateMissing = ResultCode(rawValue: 60)
    public static let fxRateInvalid = ResultCode(rawValue: 61)
    public static let fxRateUnexpected = ResultCode(rawValue: 62)
    public static let exceedsCredits = ResultCode(rawValue: 63)
    public static let exceedsDebits = ResultCode(rawValue: 64)

    // Holds.
    public static let holdNotFound = ResultCode(rawValue: 70)
    public static let holdAlreadyFinal = ResultCode(rawValue: 71)
    public static let holdExpired = ResultCode(rawValue: 72)
    public static let captureExceedsHold = ResultCode(rawValue: 73)
    public static let holdTimeoutInvalid = ResultCode(rawValue: 74)
    public static let holdNotDue = ResultCode(rawValue: 75)

    // Reversals and lookups.
    public static let transactionNotFound = ResultCode(rawValue: 80)
    public static let transactionNotRetained = ResultCode(rawValue: 81)
    public static let alreadyReversed = ResultCode(rawValue: 82)
    public static let notReversible = ResultCode(rawValue: 83)

    /// True for ``ok``.
    @inlinable
    public var isOK: Bool { self.rawValue == 0 }

    /// The documentation of one code.
    public struct Info: Sendable {
        public var code: ResultCode
        public var name: String
        public var meaning: String
        public var clientAction: String
    }

    /// Every code with its name, meaning and what a client should do, in code order.
    public static let all: [Info] = [
        Info(
            code: .ok,
            name: "ok",
            meaning: "The operation was applied (or, with the replay flag, had been applied before).",
            clientAction: "Nothing."
        ),
        Info(
            code: .linkedOperationFailed,
            name: "linked_operation_failed",
            meaning:
                "Another operation of the same atomic chain was rejected, so none of the chain was applied (members whose key was already decided before the chain report that earlier result as a replay instead).",
            clientAction:
                "Look at the chain member with the real rejection code; fix it and resend the chain with new idempotency keys."
        ),
        Info(
            code: .linkedChainOpen,
            name: "linked_chain_open",
            meaning: "The batch ended inside an atomic chain: its last operation was marked linked.",
            clientAction:
                "Clear the linked flag on the chain's last operation. This result is not remembered under the keys."
        ),
        Info(
            code: .idempotencyKeyInvalid,
            name: "idempotency_key_invalid",
            meaning: "The idempotency key is all zero bytes.",
            clientAction: "Send a random or unique 16-byte key. Not remembered."
        ),
        Info(
            code: .idempotencyConflict,
            name: "idempotency_conflict",
            meaning: "The key was used before for an operation with different content; nothing was applied.",
            clientAction:
                "Use a new key for a new operation; resend the original content to read the original result. Not remembered."
        ),
        Info(
            code: .assetCodeInvalid,
            name: "asset_code_invalid",
            meaning:
                "The asset code is empty, longer than 16 characters, or uses characters outside A-Z, 0-9, '.', '-', '_'.",
            clientAction: "Fix the code."
        ),
        Info(
            code: .assetScaleInvalid,
            name: "asset_scale_invalid",
            meaning: "The scale (decimal places) is above 38.",
            clientAction: "Fix the scale."
        ),
        Info(
            code: .assetExistsWithDifferentScale,
            name: "asset_exists_with_different_scale",
            meaning: "The asset exists with another scale; scales never change.",
            clientAction: "Use the existing scale, or a new asset code."
        ),
        Info(
            code: .assetUnknown,
            name: "asset_unknown",
            meaning: "The account names an asset that was never created.",
            clientAction: "Create the asset first (it may be in the same atomic chain)."
        ),
        Info(
            code: .assetsLimitReached,
            name: "assets_limit_reached",
            meaning: "The ledger holds the maximum number of assets (4096).",
            clientAction: "Operator action: this is a hard limit of a ledger."
        ),
        Info(
            code: .accountIDInvalid,
            name: "account_id_invalid",
            meaning: "The account id is zero.",
            clientAction: "Choose a non-zero 64-bit id."
        ),
        Info(
            code: .accountKindInvalid,
            name: "account_kind_invalid",
            meaning: "The kind is not a built-in kind (1-10) or a custom kind (1000-65535).",
            clientAction: "Fix the kind."
        ),
        Info(
            code: .normalSideMismatch,
            name: "normal_side_mismatch",
            meaning: "A built-in kind was given a normal side other than its own.",
            clientAction: "Omit the normal side or give the kind's own."
        ),
        Info(
            code: .normalSideRequired,
            name: "normal_side_required",
            meaning: "A custom kind was given no normal side.",
            clientAction: "State debit or credit."
        ),
        Info(
            code: .accountFlagsInvalid,
            name: "account_flags_invalid",
            meaning: "Unknown flag bits, or both balance constraints at once.",
            clientAction: "Fix the flags."
        ),
        Info(
            code: .accountExistsWithDifferentFields,
            name: "account_exists_with_different_fields",
            meaning: "An account with this id exists with a different asset, kind, normal side, dimensions or flags.",
            clientAction: "Use another id, or the existing definition."
        ),
        Info(
            code: .accountsLimitReached,
            name: "accounts_limit_reached",
            meaning: "The ledger holds the most accounts its configuration allows (at most 2^30).",
            clientAction: "Operator action: raise the configured limit, or shard accounts across ledgers."
        ),
        Info(
            code: .accountUnknown,
            name: "account_unknown",
            meaning: "A leg, hold or status change names an account that does not exist; detail is the leg index.",
            clientAction: "Create the account first, or fix the id."
        ),
        Info(
            code: .accountFrozen,
            name: "account_frozen",
            meaning: "An account touched by the movement is frozen; detail is the leg index.",
            clientAction: "Unfreeze it first, or leave it out."
        ),
        Info(
            code: .accountClosed,
            name: "account_closed",
            meaning: "An account touched by the operation is closed (closing is final); detail is the leg index.",
            clientAction: "Use another account."
        ),
        Info(
            code: .accountNotEmpty,
            name: "account_not_empty",
            meaning: "Closing needs posted debits equal to posted credits and no pending amounts.",
            clientAction: "Move the balance out and settle the holds, then close."
        ),
        Info(
            code: .transactionTypeInvalid,
            name: "transaction_type_invalid",
            meaning: "The type is not a built-in type (1-11) or a custom type (1000-65535).",
            clientAction: "Fix the type."
        ),
        Info(
            code: .legsTooFew,
            name: "legs_too_few",
            meaning: "A posted transaction needs at least 2 legs.",
            clientAction: "Add the missing legs."
        ),
        Info(
            code: .legsTooMany,
            name: "legs_too_many",
            meaning: "A transaction may have at most 32 legs.",
            clientAction: "Split it into several transactions, linked into an atomic chain if they must apply together."
        ),
        Info(
            code: .amountZero,
            name: "amount_zero",
            meaning: "An amount is zero; detail is the leg index.",
            clientAction: "Leave the leg out, or fix the amount."
        ),
        Info(
            code: .amountOverflow,
            name: "amount_overflow",
            meaning:
                "A sum would exceed 2^128-1 minor units: the legs of one side, or an asset's total volume; detail is the leg index.",
            clientAction: "Fix the amounts; a real ledger never gets near this."
        ),
        Info(
            code: .unbalanced,
            name: "unbalanced",
            meaning: "For some asset, debits do not equal credits; detail is the index of a leg of that asset.",
            clientAction: "Fix the legs so that each asset balances on its own."
        ),
        Info(
            code: .accountsMustBeDistinct,
            name: "accounts_must_be_distinct",
            meaning:
                "An account appears in two legs of one transaction, or a hold debits and credits the same account; detail is the later leg index.",
            clientAction: "Merge the legs into one."
        ),
        Info(
            code: .assetMismatch,
            name: "asset_mismatch",
            meaning: "A hold's two accounts hold different assets.",
            clientAction: "Hold between accounts of one asset; convert with a posted FX transaction."
        ),
        Info(
            code: .actorAndReasonRequired,
            name: "actor_and_reason_required",
            meaning: "A manual adjustment must name a non-zero actor and a non-zero reason code.",
            clientAction: "Fill in who made the adjustment and why."
        ),
        Info(
            code: .externalReferenceTooLong,
            name: "external_reference_too_long",
            meaning:
                "A payment id or provider reference is longer than 64 bytes; detail 0 is the payment id, 1 the provider reference.",
            clientAction: "Shorten it, or store a digest of it."
        ),
        Info(
            code: .fxRateMissing,
            name: "fx_rate_missing",
            meaning: "The legs span several assets but the rates given do not connect all of them.",
            clientAction: "Give one rate per asset beyond the first, linking every asset of the transaction."
        ),
        Info(
            code: .fxRateInvalid,
            name: "fx_rate_invalid",
            meaning:
                "A rate has a zero numerator or denominator, names an asset not in the legs, names one asset twice, repeats a pair, or there are too many rates; detail is the rate index.",
            clientAction: "Fix the rate."
        ),
        Info(
            code: .fxRateUnexpected,
            name: "fx_rate_unexpected",
            meaning: "FX rates were given for a transaction in a single asset.",
            clientAction: "Leave the rates out."
        ),
        Info(
            code: .exceedsCredits,
            name: "exceeds_credits",
            meaning:
                "Insufficient available balance: the account's posted plus pending debits would exceed its posted credits, which its flags forbid; detail is the leg index.",
            clientAction: "Fund the account first, or post less."
        ),
        Info(
            code: .exceedsDebits,
            name: "exceeds_debits",
            meaning:
                "Insufficient available balance: the account's posted plus pending credits would exceed its posted debits, which its flags forbid; detail is the leg index.",
            clientAction: "Fund the account first, or post less."
        ),
        Info(
            code: .holdNotFound,
            name: "hold_not_found",
            meaning:
                "No hold has this id: it never existed, is not a hold, or finished longer ago than the transaction retention window.",
            clientAction: "Check the id."
        ),
        Info(
            code: .holdAlreadyFinal,
            name: "hold_already_final",
            meaning: "The hold was fully captured, captured with the final flag, voided or expired.",
            clientAction: "Nothing more can be done with it; place a new hold."
        ),
        Info(
            code: .holdExpired,
            name: "hold_expired",
            meaning: "The hold's deadline has passed; only its expiry can finish it now.",
            clientAction: "Place a new hold."
        ),
        Info(
            code: .captureExceedsHold,
            name: "capture_exceeds_hold",
            meaning: "The capture is larger than what remains of the hold.",
            clientAction: "Capture at most the remainder, or increase the hold first."
        ),
        Info(
            code: .holdTimeoutInvalid,
            name: "hold_timeout_invalid",
            meaning:
                "The hold's timeout is longer than ten years, or its deadline would not fit in 64-bit nanoseconds of engine time.",
            clientAction: "Use a shorter timeout, or 0 for none."
        ),
        Info(
            code: .holdNotDue,
            name: "hold_not_due",
            meaning: "An expiry was requested for a hold with no deadline or whose deadline is still ahead.",
            clientAction: "Engine-internal: expiries are issued by the engine when due."
        ),
        Info(
            code: .transactionNotFound,
            name: "transaction_not_found",
            meaning: "No transaction has this id.",
            clientAction: "Check the id."
        ),
        Info(
            code: .transactionNotRetained,
            name: "transaction_not_retained",
            meaning:
                "The transaction exists but is older than the in-memory retention window, so it cannot be reversed here.",
            clientAction: "Post a correcting adjustment with explicit legs."
        ),
        Info(
            code: .alreadyReversed,
            name: "already_reversed",
            meaning: "The transaction has been reversed already.",
            clientAction: "Nothing: a transaction is reversed at most once."
        ),
        Info(
            code: .notReversible,
            name: "not_reversible",
            meaning:
                "Only posts and captures can be reversed; holds are voided, and reversals, increases, voids and expiries cannot be reversed.",
            clientAction: "Void the hold, or post a correcting transaction."
        ),
    ]

    /// The snake_case name, or `code_<n>` for a number no release has defined.
    public var name: String {
        ResultCode.infoByCode[self.rawValue]?.name ?? "code_\(self.rawValue)"
    }

    /// The documentation entry, or nil for an undefined number.
    public var info: Info? { ResultCode.infoByCode[self.rawValue] }

    /// The code named `name`.
    public init?(name: String) {
        guard let info = ResultCode.all.first(where: { $0.name == name }) else { return nil }
        self = info.code
    }

    private static let infoByCode: [UInt16: Info] = Dictionary(
        uniqueKeysWithValues: ResultCode.all.map { ($0.code.rawValue, $0) }
    )

    public var description: String { self.name }
}

extension ResultCode {
    /// docs/RESULT_CODES.md, generated from ``all`` (`tally codes --markdown`); a test keeps the file
    /// equal to this text.
    public static var documentation: String {
        var text = """
            # Result codes

            Every operation gets exactly one result: `ok` or one of these rejections. A rejected
            operation changes nothing (its idempotency key remembers the rejection, except where
            noted). Numbers are stable: a published code never changes meaning, and new codes get new
            numbers. `detail` (a 16-bit field beside the code) says where the rule broke: a leg index,
            a rate index, or 0. Generated from `ResultCode.all` by `tally codes --markdown`; the test
            suite fails when this file and the code disagree. Semantics: [LEDGER.md](LEDGER.md).

            | code | name | meaning | what the client should do |
            |---:|---|---|---|

            """
        for info in ResultCode.all {
            text += "| \(info.code.rawValue) | `\(info.name)` | \(info.meaning) | \(info.clientAction) |\n"
        }
        return text
    }
}
