/// The four running totals of an account, an aggregate or an asset, in minor units.
public struct Balance: Hashable, Sendable {
    public var debitsPosted: UInt128
    public var creditsPosted: UInt128
    public var debitsPending: UInt128
    public var creditsPending: UInt128

    @inlinable
    public init(
        debitsPosted: UInt128 = 0,
        creditsPosted: UInt128 = 0,
        debitsPending: UInt128 = 0,
        creditsPending: UInt128 = 0
    ) {
        self.debitsPosted = debitsPosted
        self.creditsPosted = creditsPosted
        self.debitsPending = debitsPending
        self.creditsPending = creditsPending
    }

    public static let zero = Balance()

    /// Posted balance on `normalSide`: credits minus debits for a credit-normal account.
    public func posted(on normalSide: Side) -> SignedAmount {
        switch normalSide {
        case .credit: return SignedAmount(self.creditsPosted, minus: self.debitsPosted)
        case .debit: return SignedAmount(self.debitsPosted, minus: self.creditsPosted)
        }
    }

    /// Available balance on `normalSide`: the posted balance less what pending holds reserve
    /// against it. Pending amounts toward the normal side are not available until captured.
    public func available(on normalSide: Side) -> SignedAmount {
        switch normalSide {
        case .credit:
            return SignedAmount(self.creditsPosted, minus: self.debitsPosted, self.debitsPending)
        case .debit:
            return SignedAmount(self.debitsPosted, minus: self.creditsPosted, self.creditsPending)
        }
    }

    /// True when nothing is posted net and nothing is pending.
    public var isSettledToZero: Bool {
        self.debitsPosted == self.creditsPosted && self.debitsPending == 0 && self.creditsPending == 0
    }

    /// Adds `posted` and `pendingIncrease` to `side` and takes `pendingDecrease` off its pending.
    ///
    /// The caller has proven that nothing overflows or underflows (asset volume checks and hold
    /// bookkeeping), so wrapping arithmetic is exact here; the assertions check it in debug builds.
    @inlinable
    mutating func apply(side: Side, posted: UInt128, pendingIncrease: UInt128, pendingDecrease: UInt128) {
        switch side {
        case .debit:
            assert(self.debitsPending &+ pendingIncrease >= pendingDecrease)
            assert(UInt128.max - self.debitsPosted >= posted)
            self.debitsPosted &+= posted
            self.debitsPending = self.debitsPending &+ pendingIncrease &- pendingDecrease
        case .credit:
            assert(self.creditsPending &+ pendingIncrease >= pendingDecrease)
            assert(UInt128.max - self.creditsPosted >= posted)
            self.creditsPosted &+= posted
            self.creditsPending = self.creditsPending &+ pendingIncrease &- pendingDecrease
        }
    }

    /// Exactly undoes ``apply(side:posted:pendingIncrease:pendingDecrease:)`` with the same arguments.
    @inlinable
    mutating func revert(side: Side, posted: UInt128, pendingIncrease: UInt128, pendingDecrease: UInt128) {
        switch side {
        case .debit:
            self.debitsPosted &-= posted
            self.debitsPending = self.debitsPending &+ pendingDecrease &- pendingIncrease
        case .credit:
            self.creditsPosted &-= posted
            self.creditsPending = self.creditsPending &+ pendingDecrease &- pendingIncrease
        }
    }
}
