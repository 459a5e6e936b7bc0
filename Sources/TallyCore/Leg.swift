/// One line of a transaction: an amount debited or credited to an account.
public struct Leg: Hashable, Sendable {
    public var account: AccountID
    public var side: Side
    /// Minor units of the account's asset; never zero.
    public var amount: UInt128

    @inlinable
    public init(account: AccountID, side: Side, amount: UInt128) {
        self.account = account
        self.side = side
        self.amount = amount
    }

    @inlinable
    public static func debit(_ account: AccountID, _ amount: UInt128) -> Leg {
        Leg(account: account, side: .debit, amount: amount)
    }

    @inlinable
    public static func credit(_ account: AccountID, _ amount: UInt128) -> Leg {
        Leg(account: account, side: .credit, amount: amount)
    }
}
