/// Counts and memory of a ledger's state.
public struct LedgerStatistics: Hashable, Sendable {
    public var assets: Int
    public var accounts: Int
    public var aggregateBuckets: Int
    public var openHolds: Int
    /// Transactions ever applied (the newest id).
    public var transactions: UInt64
    public var retainedTransactions: Int
    public var reversedTransactions: Int
    public var retainedKeys: Int
    public var rejectedOperations: UInt64
    public var batches: UInt64
    /// Engine time of the newest batch.
    public var recordedTime: Timestamp
    /// Bytes held by the idempotency key log and its index.
    public var keyMemoryBytes: Int
    /// Slots in the idempotency index.
    public var keyIndexSlots: Int
    /// Bytes held by retained transaction records.
    public var transactionMemoryBytes: Int
    /// Bytes held by accounts, balances and the account index.
    public var accountMemoryBytes: Int
}
