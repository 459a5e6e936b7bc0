/// The kinds of operation, with stable numbers (they appear in the journal and on the wire).
public enum OperationKind: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case createAsset = 1
    case createAccount = 2
    case setAccountStatus = 3
    case post = 4
    case hold = 5
    case capture = 6
    case increaseHold = 7
    case voidHold = 8
    case expireHold = 9
    case reverse = 10

    /// True for the kinds that create a transaction (and so consume a transaction id when applied).
    public var createsTransaction: Bool {
        switch self {
        case .createAsset, .createAccount, .setAccountStatus: return false
        case .post, .hold, .capture, .increaseHold, .voidHold, .expireHold, .reverse: return true
        }
    }

    public var description: String {
        switch self {
        case .createAsset: return "create_asset"
        case .createAccount: return "create_account"
        case .setAccountStatus: return "set_account_status"
        case .post: return "post"
        case .hold: return "hold"
        case .capture: return "capture"
        case .increaseHold: return "increase_hold"
        case .voidHold: return "void_hold"
        case .expireHold: return "expire_hold"
        case .reverse: return "reverse"
        }
    }
}
