/// An asset as reads return it, with its totals over every account.
public struct AssetInfo: Hashable, Sendable {
    public var code: AssetCode
    public var scale: UInt8
    /// Sums over every account of the asset; debits equal credits, posted and pending.
    public var totals: Balance

    public init(code: AssetCode, scale: UInt8, totals: Balance) {
        self.code = code
        self.scale = scale
        self.totals = totals
    }
}
