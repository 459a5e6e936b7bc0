import TallyCore

/// The chart of accounts every workload runs on: one asset, a pool of merchant payables, a few
/// PSP receivables and one fee revenue account.
///
/// Every merchant payable has its own merchant and every PSP receivable its own partner, so a
/// movement feeds three aggregate buckets as in production (total, merchant, partner), and the
/// merchant buckets are as many as the accounts.
public enum Chart {
    public static let asset: AssetCode = "USD"

    /// Merchant payables: the pool that 2-leg transfers move money between.
    public static let poolCount = 10_000
    /// PSP receivables: the debit side of captures and holds.
    public static let pspCount = 16

    @inlinable
    public static func pool(_ index: Int) -> AccountID { AccountID(UInt64(1 + index)) }

    @inlinable
    public static func psp(_ index: Int) -> AccountID { AccountID(UInt64(20_001 + index)) }

    public static let feeRevenue = AccountID(30_001)

    /// Every account of the chart, for sizing ``LedgerConfiguration/expectedAccounts``.
    public static let accountCount = poolCount + pspCount + 1

    /// Creates the asset and every account in `ledger`, at engine time `time`.
    public static func create(in ledger: inout Ledger, at time: Timestamp) {
        let results = ledger.apply(self.setupBatch(), at: time)
        for (index, result) in results.enumerated() where !result.code.isOK {
            preconditionFailure("creating the chart failed at operation \(index): \(result)")
        }
    }

    /// One batch that creates the asset and every account (10,018 operations, within
    /// ``Limits/operationsPerBatchMax``): for an engine, which takes batches only.
    public static func setupBatch() -> OperationBatch {
        var batch = OperationBatch()
        batch.append(.createAsset(CreateAsset(code: asset, scale: 2)))
        for index in 0..<poolCount {
            batch.append(
                .createAccount(
                    CreateAccount(id: pool(index), asset: asset, kind: .merchantPayable, merchant: UInt64(1 + index))
                )
            )
        }
        for index in 0..<pspCount {
            batch.append(
                .createAccount(
                    CreateAccount(id: psp(index), asset: asset, kind: .pspReceivable, partner: UInt64(1 + index))
                )
            )
        }
        batch.append(.createAccount(CreateAccount(id: feeRevenue, asset: asset, kind: .feeRevenue)))
        return batch
    }
}
