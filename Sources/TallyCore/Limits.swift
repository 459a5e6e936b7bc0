/// Every limit of the ledger core, in one place. docs/LEDGER.md lists them with their reasons.
public enum Limits {
    /// Legs in one posted transaction.
    public static let legsPerTransactionMax = 32
    /// Legs in one posted transaction, at least.
    public static let legsPerTransactionMin = 2
    /// Distinct assets in one transaction: every asset needs a debit and a credit leg.
    public static let assetsPerTransactionMax = legsPerTransactionMax / 2
    /// FX rates on one transaction: one per asset beyond the first.
    public static let fxRatesPerTransactionMax = assetsPerTransactionMax - 1
    /// Bytes of a payment id or provider reference.
    public static let externalReferenceBytesMax = 64
    /// Operations in one batch.
    public static let operationsPerBatchMax = 16_384
    /// Assets in a ledger (asset indices are 16-bit).
    public static let assetsMax = 4_096
    /// Accounts in a ledger (account indices are 32-bit; the hash index holds up to 2^31 slots).
    public static let accountsMax = 1 << 30
    /// Decimal places of an asset: 10^38 is the largest power of ten below 2^128.
    public static let assetScaleMax: UInt8 = 38
    /// Idempotency keys retained at once (positions in the key log are 32-bit).
    public static let retainedKeysMax = 1 << 31
    /// Longest hold timeout: ten years.
    public static let holdTimeoutSecondsMax: UInt32 = 10 * 366 * 24 * 3_600

    static func checkRelationships() {
        precondition(legsPerTransactionMin == 2)
        precondition(legsPerTransactionMax >= 16, "the contract promises at least 16 legs")
        precondition(assetsPerTransactionMax * 2 <= legsPerTransactionMax)
        precondition(fxRatesPerTransactionMax == assetsPerTransactionMax - 1)
        precondition(assetsMax <= Int(UInt16.max))
        precondition(accountsMax < Int(UInt32.max))
    }
}
