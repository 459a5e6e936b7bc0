/// Defines an asset. Defining an existing asset again with the same scale is a no-op.
public struct CreateAsset: Hashable, Sendable {
    public var code: AssetCode
    /// Decimal places of one major unit: 2 for USD, 8 for BTC, 18 for ETH. At most 38.
    public var scale: UInt8

    @inlinable
    public init(code: AssetCode, scale: UInt8) {
        self.code = code
        self.scale = scale
    }
}
