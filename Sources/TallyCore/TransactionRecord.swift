/// A transaction as the ledger recorded it: what lookups return.
///
/// What the legs mean depends on ``kind``: for a post or reversal they were posted; for a hold or
/// increase they were added as pending; for a capture they moved from pending to posted (and
/// ``released`` more was released when it finished the hold); for a void or expiry they are the
/// pending amounts released.
public struct TransactionRecord: Hashable, Sendable {
    public var id: TransactionID
    public var kind: OperationKind
    public var type: TransactionType
    /// The client's key; zero for expiries, which the engine issues.
    public var key: IdempotencyKey
    public var legs: [Leg]
    public var fxRates: [FXRate]
    public var references: ExternalReferences
    public var effectiveTime: Timestamp
    public var recordedTime: Timestamp
    public var actor: UInt64
    public var reason: UInt32
    /// The hold a capture, increase, void or expiry acted on; the transaction a reversal reverses.
    public var link: TransactionID
    /// What a final capture, void or expiry released back from the hold.
    public var released: UInt128
    /// For a hold: its deadline (engine time), zero when none.
    public var deadline: Timestamp
    /// For a capture: whether it was marked final.
    public var isFinal: Bool

    public init(
        id: TransactionID,
        kind: OperationKind,
        type: TransactionType,
        key: IdempotencyKey,
        legs: [Leg],
        fxRates: [FXRate] = [],
        references: ExternalReferences = .none,
        effectiveTime: Timestamp = .zero,
        recordedTime: Timestamp,
        actor: UInt64 = 0,
        reason: UInt32 = 0,
        link: TransactionID = 0,
        released: UInt128 = 0,
        deadline: Timestamp = .zero,
        isFinal: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.type = type
        self.key = key
        self.legs = legs
        self.fxRates = fxRates
        self.references = references
        self.effectiveTime = effectiveTime
        self.recordedTime = recordedTime
        self.actor = actor
        self.reason = reason
        self.link = link
        self.released = released
        self.deadline = deadline
        self.isFinal = isFinal
    }
}
