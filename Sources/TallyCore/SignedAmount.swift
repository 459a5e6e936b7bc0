/// A signed amount of minor units too wide for `Int128`: a magnitude and a sign.
public struct SignedAmount: Hashable, Sendable, CustomStringConvertible {
    public var magnitude: UInt128
    /// True for amounts below zero; zero is never negative.
    public var isNegative: Bool

    @inlinable
    public init(magnitude: UInt128, isNegative: Bool) {
        self.magnitude = magnitude
        self.isNegative = isNegative && magnitude != 0
    }

    /// `plus - minus`.
    public init(_ plus: UInt128, minus: UInt128) {
        if plus >= minus {
            self.init(magnitude: plus - minus, isNegative: false)
        } else {
            self.init(magnitude: minus - plus, isNegative: true)
        }
    }

    /// `plus - minus1 - minus2`, even when `minus1 + minus2` does not fit in 128 bits.
    ///
    /// The ledger's volume limit keeps every real balance inside 128 bits; a magnitude that would
    /// not fit (impossible for a ledger's own balances) saturates at `UInt128.max`.
    public init(_ plus: UInt128, minus minus1: UInt128, _ minus2: UInt128) {
        let (sum, overflow) = minus1.addingReportingOverflow(minus2)
        guard overflow else {
            self.init(plus, minus: sum)
            return
        }
        // The true subtrahend is 2^128 + sum; the magnitude 2^128 + sum - plus fits only when
        // sum < plus, and then wrapping subtraction computes it exactly.
        self.init(magnitude: sum < plus ? sum &- plus : UInt128.max, isNegative: true)
    }

    public static let zero = SignedAmount(magnitude: 0, isNegative: false)

    public var description: String { (self.isNegative ? "-" : "") + String(self.magnitude) }
}
