/// Scratch space for checking one transaction's legs: the account index of each leg and the
/// per-asset sums, in stack memory sized by the leg count, so checking a posting never touches the
/// heap and never copies scratch state around.
struct LegScratch {
    /// Per-asset sums of the legs, in order of first appearance among them.
    struct AssetSum {
        var debits: UInt128
        var credits: UInt128
        var asset: UInt16
        var firstLeg: Int32
    }

    private let accountStorage: UnsafeMutablePointer<Int32>
    private let sumStorage: UnsafeMutablePointer<AssetSum>
    private let capacity: Int
    private(set) var accountCount = 0
    private(set) var sumCount = 0

    /// Runs `body` with scratch room for `legCount` legs (and as many assets).
    static func with<R>(legCount: Int, _ body: (inout LegScratch) -> R) -> R {
        let capacity = max(legCount, 1)
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: capacity) { accounts in
            withUnsafeTemporaryAllocation(of: AssetSum.self, capacity: capacity) { sums in
                var scratch = LegScratch(
                    accountStorage: accounts.baseAddress!,
                    sumStorage: sums.baseAddress!,
                    capacity: capacity
                )
                return body(&scratch)
            }
        }
    }

    private init(accountStorage: UnsafeMutablePointer<Int32>, sumStorage: UnsafeMutablePointer<AssetSum>, capacity: Int)
    {
        self.accountStorage = accountStorage
        self.sumStorage = sumStorage
        self.capacity = capacity
    }

    /// The account index of leg `index`.
    @inline(__always)
    func account(_ index: Int) -> Int {
        precondition(index < self.accountCount)
        return Int(self.accountStorage[index])
    }

    @inline(__always)
    mutating func appendAccount(_ account: Int) {
        precondition(self.accountCount < self.capacity)
        self.accountStorage[self.accountCount] = Int32(truncatingIfNeeded: account)
        self.accountCount += 1
    }

    @inline(__always)
    func containsAccount(_ account: Int) -> Bool {
        let wanted = Int32(truncatingIfNeeded: account)
        for index in 0..<self.accountCount where self.accountStorage[index] == wanted {
            return true
        }
        return false
    }

    @inline(__always)
    func sum(_ slot: Int) -> AssetSum {
        precondition(slot < self.sumCount)
        return self.sumStorage[slot]
    }

    /// Adds `amount` on `side` to the sum of `asset` (created with `firstLeg` when new). Returns
    /// false, changing nothing, when the sum would not fit in 128 bits.
    @inline(__always)
    mutating func add(_ amount: UInt128, side: Side, asset: UInt16, firstLeg: Int) -> Bool {
        var slot = 0
        while slot < self.sumCount && self.sumStorage[slot].asset != asset {
            slot += 1
        }
        if slot == self.sumCount {
            precondition(slot < self.capacity)
            self.sumStorage[slot] = AssetSum(debits: 0, credits: 0, asset: asset, firstLeg: Int32(firstLeg))
            self.sumCount += 1
        }
        switch side {
        case .debit:
            let (sum, overflow) = self.sumStorage[slot].debits.addingReportingOverflow(amount)
            if overflow { return false }
            self.sumStorage[slot].debits = sum
        case .credit:
            let (sum, overflow) = self.sumStorage[slot].credits.addingReportingOverflow(amount)
            if overflow { return false }
            self.sumStorage[slot].credits = sum
        }
        return true
    }

    /// The slot of `asset` among the sums, if it has one.
    @inline(__always)
    func slot(of asset: UInt16) -> Int? {
        for slot in 0..<self.sumCount where self.sumStorage[slot].asset == asset {
            return slot
        }
        return nil
    }

    /// The account indices, for the record writer.
    var accounts: UnsafeBufferPointer<Int32> {
        UnsafeBufferPointer(start: self.accountStorage, count: self.accountCount)
    }
}
