/// Moves `amount` of a hold from pending to posted. With `isFinal`, the rest of the hold is
/// released and the hold is finished; a capture of the whole remainder finishes it too.
public struct CaptureTerms: Hashable, Sendable {
    public var hold: TransactionID
    public var amount: UInt128
    public var isFinal: Bool

    @inlinable
    public init(hold: TransactionID, amount: UInt128, isFinal: Bool = false) {
        self.hold = hold
        self.amount = amount
        self.isFinal = isFinal
    }
}
