/// An account as reads return it: its definition, status and balance.
public struct AccountInfo: Hashable, Sendable {
    public var id: AccountID
    public var asset: AssetCode
    public var kind: AccountKind
    public var normalSide: Side
    public var merchant: UInt64
    public var partner: UInt64
    public var flags: AccountFlags
    public var status: AccountStatus
    public var balance: Balance

    /// The available balance on the account's normal side.
    public var available: SignedAmount { self.balance.available(on: self.normalSide) }
}
