/// The lifecycle status of an account.
public enum AccountStatus: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Accepts every operation.
    case open = 1
    /// Rejects every new movement of money touching it (posts, holds, captures, increases,
    /// reversals); pending holds may still be voided or expire. Can be reopened.
    case frozen = 2
    /// Terminal. Only an account with a zero net posted balance and no pending amounts can close.
    case closed = 3

    public var description: String {
        switch self {
        case .open: return "open"
        case .frozen: return "frozen"
        case .closed: return "closed"
        }
    }
}
