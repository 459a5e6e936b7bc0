/// The kind of an account in the chart of accounts.
///
/// Built-in kinds have codes 1-10 and a fixed normal side. Codes 1000-65535 are custom kinds whose
/// normal side the account definition states. Every other code is invalid.
public struct AccountKind: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// What the platform owes a merchant (liability, credit-normal).
    public static let merchantPayable = AccountKind(rawValue: 1)
    /// What a payment service provider owes the platform (asset, debit-normal).
    public static let pspReceivable = AccountKind(rawValue: 2)
    /// Money in a bank account (asset, debit-normal).
    public static let bankCash = AccountKind(rawValue: 3)
    /// Fees earned (revenue, credit-normal).
    public static let feeRevenue = AccountKind(rawValue: 4)
    /// Refunds owed to customers (liability, credit-normal).
    public static let refundLiability = AccountKind(rawValue: 5)
    /// Funds set aside against chargebacks (liability, credit-normal).
    public static let chargebackReserve = AccountKind(rawValue: 6)
    /// Gains and losses from currency conversion (income, credit-normal).
    public static let fxGainLoss = AccountKind(rawValue: 7)
    /// A merchant's rolling reserve held back from payouts (liability, credit-normal).
    public static let rollingReserve = AccountKind(rawValue: 8)
    /// Pre-funded float held at a partner (asset, debit-normal).
    public static let float = AccountKind(rawValue: 9)
    /// Exceptions waiting to be resolved, such as wrong-asset deposits (clearing, debit-normal).
    public static let suspense = AccountKind(rawValue: 10)

    /// The smallest code of a custom kind.
    public static let customRangeStart: UInt16 = 1000

    /// Every built-in kind, in code order.
    public static let builtIn: [AccountKind] = [
        .merchantPayable, .pspReceivable, .bankCash, .feeRevenue, .refundLiability, .chargebackReserve,
        .fxGainLoss, .rollingReserve, .float, .suspense,
    ]

    /// A custom kind, or nil when `code` is outside the custom range.
    public static func custom(_ code: UInt16) -> AccountKind? {
        code >= AccountKind.customRangeStart ? AccountKind(rawValue: code) : nil
    }

    /// True for codes 1000 and above.
    @inlinable
    public var isCustom: Bool { self.rawValue >= AccountKind.customRangeStart }

    /// True for the built-in and custom ranges.
    @inlinable
    public var isValid: Bool { (1...10).contains(self.rawValue) || self.isCustom }

    /// The normal side of a built-in kind; nil for custom and invalid kinds.
    public var builtInNormalSide: Side? {
        switch self.rawValue {
        case 2, 3, 9, 10: return .debit
        case 1, 4, 5, 6, 7, 8: return .credit
        default: return nil
        }
    }

    /// The snake_case name of a built-in kind, or `custom_<code>`.
    public var name: String {
        switch self.rawValue {
        case 1: return "merchant_payable"
        case 2: return "psp_receivable"
        case 3: return "bank_cash"
        case 4: return "fee_revenue"
        case 5: return "refund_liability"
        case 6: return "chargeback_reserve"
        case 7: return "fx_gain_loss"
        case 8: return "rolling_reserve"
        case 9: return "float"
        case 10: return "suspense"
        default: return self.isCustom ? "custom_\(self.rawValue)" : "invalid_\(self.rawValue)"
        }
    }

    /// The kind named `name` (as ``name`` spells it).
    public init?(name: String) {
        if let kind = AccountKind.builtIn.first(where: { $0.name == name }) {
            self = kind
        } else if name.hasPrefix("custom_"), let code = UInt16(name.dropFirst(7)), code >= AccountKind.customRangeStart
        {
            self.rawValue = code
        } else {
            return nil
        }
    }

    public static func < (lhs: AccountKind, rhs: AccountKind) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { self.name }
}
