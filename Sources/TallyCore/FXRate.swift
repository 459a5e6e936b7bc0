/// The exchange rate a multi-asset transaction used, as an exact rational number.
///
/// `numerator / denominator` minor units of `quote` per minor unit of `base`. It is recorded
/// for audit; each asset of the transaction still balances on its own (through FX accounts).
public struct FXRate: Hashable, Sendable {
    public var base: AssetCode
    public var quote: AssetCode
    public var numerator: UInt64
    public var denominator: UInt64

    @inlinable
    public init(base: AssetCode, quote: AssetCode, numerator: UInt64, denominator: UInt64) {
        self.base = base
        self.quote = quote
        self.numerator = numerator
        self.denominator = denominator
    }
}
