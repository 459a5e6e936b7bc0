/// Opens an account. Creating an existing account again with identical fields is a no-op; with
/// any field different it is rejected.
public struct CreateAccount: Hashable, Sendable {
    public var id: AccountID
    public var asset: AssetCode
    public var kind: AccountKind
    /// Nil takes the normal side of a built-in kind; a custom kind must state one.
    public var normalSide: Side?
    /// The merchant this account belongs to; zero when none.
    public var merchant: UInt64
    /// The partner (PSP, bank, rail) this account is held with; zero when none.
    public var partner: UInt64
    public var flags: AccountFlags

    @inlinable
    public init(
        id: AccountID,
        asset: AssetCode,
        kind: AccountKind,
        normalSide: Side? = nil,
        merchant: UInt64 = 0,
        partner: UInt64 = 0,
        flags: AccountFlags = []
    ) {
        self.id = id
        self.asset = asset
        self.kind = kind
        self.normalSide = normalSide
        self.merchant = merchant
        self.partner = partner
        self.flags = flags
    }
}
