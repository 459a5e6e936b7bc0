/// The business type of a transaction: what it means to finance, independent of how it moves money.
///
/// Built-in types have codes 1-11; codes 1000-65535 are custom types. Every other code is invalid.
public struct TransactionType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public static let capture = TransactionType(rawValue: 1)
    public static let settlement = TransactionType(rawValue: 2)
    public static let payout = TransactionType(rawValue: 3)
    public static let refund = TransactionType(rawValue: 4)
    public static let chargeback = TransactionType(rawValue: 5)
    public static let fee = TransactionType(rawValue: 6)
    public static let reserveHold = TransactionType(rawValue: 7)
    public static let reserveRelease = TransactionType(rawValue: 8)
    public static let fxConversion = TransactionType(rawValue: 9)
    /// A manual adjustment: it must name an actor and a reason code.
    public static let adjustment = TransactionType(rawValue: 10)
    public static let exception = TransactionType(rawValue: 11)

    /// The smallest code of a custom type.
    public static let customRangeStart: UInt16 = 1000

    /// Every built-in type, in code order.
    public static let builtIn: [TransactionType] = [
        .capture, .settlement, .payout, .refund, .chargeback, .fee, .reserveHold, .reserveRelease,
        .fxConversion, .adjustment, .exception,
    ]

    /// A custom type, or nil when `code` is outside the custom range.
    public static func custom(_ code: UInt16) -> TransactionType? {
        code >= TransactionType.customRangeStart ? TransactionType(rawValue: code) : nil
    }

    @inlinable
    public var isValid: Bool { (1...11).contains(self.rawValue) || self.rawValue >= TransactionType.customRangeStart }

    /// The snake_case name of a built-in type, or `custom_<code>`.
    public var name: String {
        switch self.rawValue {
        case 1: return "capture"
        case 2: return "settlement"
        case 3: return "payout"
        case 4: return "refund"
        case 5: return "chargeback"
        case 6: return "fee"
        case 7: return "reserve_hold"
        case 8: return "reserve_release"
        case 9: return "fx_conversion"
        case 10: return "adjustment"
        case 11: return "exception"
        default:
            return self.rawValue >= TransactionType.customRangeStart
                ? "custom_\(self.rawValue)" : "invalid_\(self.rawValue)"
        }
    }

    /// The type named `name` (as ``name`` spells it).
    public init?(name: String) {
        if let type = TransactionType.builtIn.first(where: { $0.name == name }) {
            self = type
        } else if name.hasPrefix("custom_"), let code = UInt16(name.dropFirst(7)),
            code >= TransactionType.customRangeStart
        {
            self.rawValue = code
        } else {
            return nil
        }
    }

    public static func < (lhs: TransactionType, rhs: TransactionType) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    public var description: String { self.name }
}
