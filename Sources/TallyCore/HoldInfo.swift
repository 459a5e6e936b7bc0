/// An open hold as reads return it.
public struct HoldInfo: Hashable, Sendable {
    public var id: TransactionID
    public var debit: AccountID
    public var credit: AccountID
    public var type: TransactionType
    /// The amount held: the original plus every increase.
    public var amount: UInt128
    public var captured: UInt128
    /// Engine time at which the hold expires; zero when it has no deadline.
    public var deadline: Timestamp

    public var remaining: UInt128 { self.amount - self.captured }
}
