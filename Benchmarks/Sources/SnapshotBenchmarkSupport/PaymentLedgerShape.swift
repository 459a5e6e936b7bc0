import TallyCore

/// What the snapshot harnesses' large states have in common: the accounts of a payment service
/// provider (PSP receivables, one fee revenue account, merchant payables), the asset, the engine time
/// the build starts at, and the ledger settings. A shape says how many accounts and keyed operations
/// it holds; the ids and keys follow from those, so that each harness builds the same state every time.
public protocol PaymentLedgerShape {
    /// Accounts: PSP receivables, one fee revenue account, and merchant payables (one merchant each).
    var accounts: Int { get }
    /// Operations with an idempotency key (every one is retained: they all fall in the key window).
    var operations: Int { get }
}

extension PaymentLedgerShape {
    public static var pspCount: Int { 64 }
    /// Holds stay open past the span, so that none expires while the state is built.
    public static var holdTimeoutSeconds: UInt32 { 60 * 86_400 }
    public static var asset: AssetCode { "USD" }
    /// Engine time at the start: 2027-01-15.
    public static var startNanoseconds: UInt64 { 1_800_000_000 * 1_000_000_000 }

    /// The data directory's ledger settings: the defaults (30-day key window, 7-day retention), as a
    /// server would run; only the capacity hints of the build differ (they are not stored).
    public var buildConfiguration: LedgerConfiguration {
        LedgerConfiguration(
            expectedAccounts: self.accounts,
            expectedRetainedKeys: self.operations + self.operations / 8
        )
    }

    /// Account `index` (0-based): random-looking 64-bit ids, as an upstream system would assign.
    public static func account(_ index: Int) -> AccountID {
        AccountID(mix(UInt64(index) &+ 0x1000))
    }

    public static func psp(_ draw: UInt64) -> AccountID { account(Int(draw % UInt64(pspCount))) }
    public static var feeRevenue: AccountID { account(pspCount) }
    public func merchant(_ draw: UInt64) -> AccountID {
        let merchants = UInt64(self.accounts - Self.pspCount - 1)
        return Self.account(Self.pspCount + 1 + Int(draw % merchants))
    }

    /// MurmurHash3's finaliser (a bijection).
    public static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return x
    }
}
