/// The answer to a lookup of a transaction by id.
public enum TransactionLookup: Hashable, Sendable {
    case found(TransactionRecord)
    /// The id was assigned, but the transaction is older than the retention window; the journal
    /// has it.
    case notRetained
    case notFound
}

/// The answer to a lookup by idempotency key.
public struct IdempotencyRecord: Hashable, Sendable {
    public var key: IdempotencyKey
    /// The result remembered under the key (`isReplay` is false here).
    public var result: OperationResult
    /// The transaction, when the result was `ok` and it is still retained.
    public var transaction: TransactionRecord?

    public init(key: IdempotencyKey, result: OperationResult, transaction: TransactionRecord?) {
        self.key = key
        self.result = result
        self.transaction = transaction
    }
}
