/// Adds `amount` to an open hold (incremental authorisation).
public struct IncreaseTerms: Hashable, Sendable {
    public var hold: TransactionID
    public var amount: UInt128

    @inlinable
    public init(hold: TransactionID, amount: UInt128) {
        self.hold = hold
        self.amount = amount
    }
}
