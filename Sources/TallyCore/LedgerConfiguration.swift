/// Settings that shape a ledger's state. Replaying a journal reproduces a state only under the same
/// configuration, so the windows are part of the state digest.
public struct LedgerConfiguration: Hashable, Sendable {
    /// How long (engine time) an idempotency key is remembered, at least. Default 30 days: a month
    /// of keys, about 100 million at 50 bytes each, fits in about 5 GB.
    public var idempotencyWindowSeconds: UInt64
    /// How long (engine time) a transaction stays in memory for lookup by id and for reversal.
    /// Older ones are in the journal only. Default 7 days.
    public var transactionRetentionSeconds: UInt64
    /// Seed of the hash tables' position hashes. It changes only the layout of the tables, never a
    /// result or the digest; a server may choose it at random to resist crafted keys.
    public var hashSeed: UInt64
    /// Capacity hint: accounts to make room for up front (growing the index later stalls the
    /// writer once, for a time proportional to the accounts held).
    public var expectedAccounts: Int
    /// Capacity hint: retained idempotency keys to make room for up front.
    public var expectedRetainedKeys: Int
    /// The most accounts this ledger accepts (at most ``Limits/accountsMax``), so an operator can
    /// bound its memory: creating more is `accounts_limit_reached`.
    public var accountsMax: Int

    public init(
        idempotencyWindowSeconds: UInt64 = 30 * 86_400,
        transactionRetentionSeconds: UInt64 = 7 * 86_400,
        hashSeed: UInt64 = 0x5441_4C4C_595F_5345,
        expectedAccounts: Int = 1_024,
        expectedRetainedKeys: Int = 16_384,
        accountsMax: Int = Limits.accountsMax
    ) {
        precondition(accountsMax >= 0 && accountsMax <= Limits.accountsMax, "accountsMax above Limits.accountsMax")
        self.idempotencyWindowSeconds = idempotencyWindowSeconds
        self.transactionRetentionSeconds = transactionRetentionSeconds
        self.hashSeed = hashSeed
        self.expectedAccounts = expectedAccounts
        self.expectedRetainedKeys = expectedRetainedKeys
        self.accountsMax = accountsMax
    }
}
