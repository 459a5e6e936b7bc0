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

    public init(
        id: AccountID,
        asset: AssetCode,
        kind: AccountKind,
        normalSide: Side,
        merchant: UInt64,
        partner: UInt64,
        flags: AccountFlags,
        status: AccountStatus,
        balance: Balance
    ) {
        self.id = id
        self.asset = asset
        self.kind = kind
        self.normalSide = normalSide
        self.merchant = merchant
        self.partner = partner
        self.flags = flags
        self.status = status
        self.balance = balance
    }

    /// The available balance on the account's normal side.
    public var available: SignedAmount { self.balance.available(on: self.normalSide) }
}
