/// The side of a leg, or the normal side of an account.
public enum Side: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case debit = 1
    case credit = 2

    /// The other side.
    @inlinable
    public var opposite: Side {
        switch self {
        case .debit: return .credit
        case .credit: return .debit
        }
    }

    public var description: String {
        switch self {
        case .debit: return "debit"
        case .credit: return "credit"
        }
    }
}
