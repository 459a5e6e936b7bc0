/// The assets of a ledger in creation order, with per-asset totals over all accounts.
///
/// The totals carry the double-entry invariant (posted debits equal posted credits, pending
/// likewise) and bound every sum in the ledger: an account's or aggregate's figures never exceed
/// its asset's, so checking the asset's volume for overflow covers them all.
struct AssetTable: Sendable {
    private(set) var codes: [AssetCode] = []
    private(set) var scales: [UInt8] = []
    var totals: [Balance] = []
    private var indexByCode: [AssetCode: UInt16] = [:]

    var count: Int { self.codes.count }

    func index(of code: AssetCode) -> UInt16? {
        self.indexByCode[code]
    }

    mutating func append(code: AssetCode, scale: UInt8) -> UInt16 {
        let index = UInt16(self.codes.count)
        self.codes.append(code)
        self.scales.append(scale)
        self.totals.append(.zero)
        self.indexByCode[code] = index
        return index
    }

    /// Undoes the last ``append(code:scale:)``; its totals must be zero again by then.
    mutating func removeLast() {
        let code = self.codes.removeLast()
        self.scales.removeLast()
        let totals = self.totals.removeLast()
        precondition(totals == .zero, "an asset is removed only after every movement in it was undone")
        self.indexByCode[code] = nil
    }

    /// Whether adding `amount` to the asset's debit volume (posted plus pending) keeps it within
    /// 128 bits. Credits equal debits per asset, so one side suffices.
    @inline(__always)
    func canAddVolume(_ amount: UInt128, asset: UInt16) -> Bool {
        let totals = self.totals[Int(asset)]
        // debitsPosted + debitsPending <= max is an invariant, so this subtraction never wraps.
        let headroom = UInt128.max - totals.debitsPosted - totals.debitsPending
        return amount <= headroom
    }
}
