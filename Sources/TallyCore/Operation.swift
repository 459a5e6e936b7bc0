/// One operation of the ledger contract, as a self-contained value.
///
/// This is the convenient form for tests, tools and the reference model. The apply loop reads the
/// flat ``OperationBatch``, which stores the same content without a heap allocation per operation.
public enum Operation: Hashable, Sendable {
    case createAsset(CreateAsset)
    case createAccount(CreateAccount)
    case setAccountStatus(SetAccountStatus)
    /// A posted transaction: 2 to 32 legs, balanced per asset; several assets need FX rates.
    case post(TransactionHeader, legs: [Leg], fxRates: [FXRate] = [], references: ExternalReferences = .none)
    /// Reserves an amount as pending between two accounts of one asset.
    case hold(TransactionHeader, HoldTerms, references: ExternalReferences = .none)
    case capture(TransactionHeader, CaptureTerms, references: ExternalReferences = .none)
    case increaseHold(TransactionHeader, IncreaseTerms, references: ExternalReferences = .none)
    /// Releases what remains of a hold.
    case voidHold(TransactionHeader, hold: TransactionID, references: ExternalReferences = .none)
    /// Releases what remains of a hold whose deadline has passed. Issued by the engine, never by
    /// clients, and journaled like every other operation so that replay reproduces it.
    case expireHold(hold: TransactionID)
    /// Posts the mirror image of a post or capture.
    case reverse(TransactionHeader, transaction: TransactionID, references: ExternalReferences = .none)

    /// The operation's kind.
    public var kind: OperationKind {
        switch self {
        case .createAsset: return .createAsset
        case .createAccount: return .createAccount
        case .setAccountStatus: return .setAccountStatus
        case .post: return .post
        case .hold: return .hold
        case .capture: return .capture
        case .increaseHold: return .increaseHold
        case .voidHold: return .voidHold
        case .expireHold: return .expireHold
        case .reverse: return .reverse
        }
    }

    /// The header of a money-moving operation with a client key; nil for the others.
    public var header: TransactionHeader? {
        switch self {
        case .createAsset, .createAccount, .setAccountStatus, .expireHold:
            return nil
        case .post(let header, _, _, _), .hold(let header, _, _), .capture(let header, _, _),
            .increaseHold(let header, _, _), .voidHold(let header, _, _), .reverse(let header, _, _):
            return header
        }
    }
}
