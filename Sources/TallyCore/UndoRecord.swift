/// One state change made inside an atomic chain, recorded so that a failing chain can be undone
/// exactly, newest first. Changes outside chains are not recorded.
enum UndoRecord: Sendable {
    case assetCreated
    /// An account was appended, together with `bucketsCreated` new aggregate buckets.
    case accountCreated(bucketsCreated: Int)
    case accountStatus(account: UInt32, previous: AccountStatus)
    case movement(account: UInt32, side: Side, posted: UInt128, pendingIncrease: UInt128, pendingDecrease: UInt128)
    case keyAppended(previousNewest: UInt64?)
    case transactionAppended(previousNewest: UInt64?)
    case holdInserted(TransactionID)
    case holdUpdated(TransactionID, previous: HoldRecord)
    case holdRemoved(TransactionID, previous: HoldRecord)
    case reversed(TransactionID)
}
