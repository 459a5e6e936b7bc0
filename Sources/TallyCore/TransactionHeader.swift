/// The fields every money-moving operation carries besides its own terms.
public struct TransactionHeader: Hashable, Sendable {
    /// The client's idempotency key; never zero.
    public var key: IdempotencyKey
    /// The business type.
    public var type: TransactionType
    /// Business time from the client; zero means "not given".
    public var effectiveTime: Timestamp
    /// Who made a manual adjustment (an operator or service id); zero when none.
    public var actor: UInt64
    /// Why a manual adjustment was made (a client-defined reason code); zero when none.
    public var reason: UInt32

    @inlinable
    public init(
        key: IdempotencyKey,
        type: TransactionType,
        effectiveTime: Timestamp = .zero,
        actor: UInt64 = 0,
        reason: UInt32 = 0
    ) {
        self.key = key
        self.type = type
        self.effectiveTime = effectiveTime
        self.actor = actor
        self.reason = reason
    }
}
