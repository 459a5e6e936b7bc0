/// What a hold reserves: `amount` pending as a debit on `debit` and a credit on `credit`.
public struct HoldTerms: Hashable, Sendable {
    public var debit: AccountID
    public var credit: AccountID
    public var amount: UInt128
    /// Seconds of engine time after which the hold expires; zero for no deadline.
    public var timeoutSeconds: UInt32

    @inlinable
    public init(debit: AccountID, credit: AccountID, amount: UInt128, timeoutSeconds: UInt32 = 0) {
        self.debit = debit
        self.credit = credit
        self.amount = amount
        self.timeoutSeconds = timeoutSeconds
    }
}
