/// Freezes, reopens or closes an account.
///
/// Allowed: open or frozen to any of open, frozen, closed (closing needs an empty account);
/// setting the status an account already has is a no-op. A closed account stays closed.
public struct SetAccountStatus: Hashable, Sendable {
    public var account: AccountID
    public var status: AccountStatus
    /// Who asked for the change; zero when none. Kept in the journal, not in the state.
    public var actor: UInt64
    /// Why; zero when none. Kept in the journal, not in the state.
    public var reason: UInt32

    @inlinable
    public init(account: AccountID, status: AccountStatus, actor: UInt64 = 0, reason: UInt32 = 0) {
        self.account = account
        self.status = status
        self.actor = actor
        self.reason = reason
    }
}
