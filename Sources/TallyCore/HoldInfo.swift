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

    public init(
        id: TransactionID,
        debit: AccountID,
        credit: AccountID,
        type: TransactionType,
        amount: UInt128,
        captured: UInt128,
        deadline: Timestamp
    ) {
        self.id = id
        self.debit = debit
        self.credit = credit
        self.type = type
        self.amount = amount
        self.captured = captured
        self.deadline = deadline
    }

    public var remaining: UInt128 { self.amount - self.captured }
}
