/// An open-addressing hash index from a 64-bit hash to a 32-bit position; the owner keeps the keys.
///
/// Linear probing with backward-shift deletion (no tombstones), capacity a power of two, grown at
/// three quarters full. Each slot is one `UInt64`: the high half is a tag (the hash's high 32 bits
/// with the top bit forced on, so a used slot is never zero) and the low half the position. The
/// home slot comes from the tag alone, so growing never needs the keys: only the tags move.
struct HashIndex: Sendable {
    private(set) var slots: [UInt64]
    private var mask: Int
    private(set) var count: Int = 0

    /// Slots per slice of ``build(count:firstPosition:forEachHash:isDuplicate:)``: 128 KiB of slots, which
    /// stay in a core's cache while their positions are placed.
    static let buildSliceSlots = 1 << 14

    /// The largest number of slots: homes come from 31 tag bits.
    static let capacityMax = 1 << 31

    init(minimumCapacity: Int) {
        var capacity = 16
        while capacity * 3 / 4 < minimumCapacity && capacity < HashIndex.capacityMax {
            capacity *= 2
        }
        self.slots = Array(repeating: 0, count: capacity)
        self.mask = capacity - 1
    }

    /// The number of slots.
    var capacity: Int { self.slots.count }

    /// Bytes held by the slots.
    var memoryBytes: Int { self.slots.capacity * MemoryLayout<UInt64>.stride }

    @inlinable
    static func tag(_ hash: UInt64) -> UInt64 {
        (hash >> 32) | 0x8000_0000
    }

    @inline(__always)
    private func home(ofSlot slot: UInt64) -> Int {
        Int(truncatingIfNeeded: slot >> 32) & 0x7FFF_FFFF & self.mask
    }

    /// A walk along the probe run of one hash: ``next(_:)`` yields the positions whose tag matches,
    /// for the owner to compare keys. Nothing is captured, so a lookup costs no reference counting.
    struct Probe {
        fileprivate var index: Int
        fileprivate let tag: UInt64
    }

    @inline(__always)
    func probe(hash: UInt64) -> Probe {
        let tag = HashIndex.tag(hash)
        return Probe(index: Int(truncatingIfNeeded: tag) & 0x7FFF_FFFF & self.mask, tag: tag)
    }

    /// The next position on the probe run whose tag matches, or nil at the run's end.
    @inline(__always)
    func next(_ probe: inout Probe) -> UInt32? {
        while true {
            let slot = self.slots[probe.index]
            if slot == 0 {
                return nil
            }
            probe.index = (probe.index &+ 1) & self.mask
            if slot >> 32 == probe.tag {
                return UInt32(truncatingIfNeeded: slot)
            }
        }
    }

    /// The position stored under `hash` for which `matches` is true.
    @inline(__always)
    func find(hash: UInt64, matches: (UInt32) -> Bool) -> UInt32? {
        var probe = self.probe(hash: hash)
        while let position = self.next(&probe) {
            if matches(position) {
                return position
            }
        }
        return nil
    }

    /// Loads the home slot of `hash` (see ``IdempotencyTable/touch(_:)``).
    @inline(__always)
    func touch(hash: UInt64) -> UInt64 {
        self.slots[Int(truncatingIfNeeded: HashIndex.tag(hash)) & 0x7FFF_FFFF & self.mask]
    }

    /// Stores `position` under `hash`. The caller guarantees that its key is not present yet.
    mutating func insert(hash: UInt64, position: UInt32) {
        if (self.count + 1) * 4 > self.slots.count * 3 {
            self.grow()
        }
        self.place((HashIndex.tag(hash) << 32) | UInt64(position))
        self.count += 1
    }

    /// Removes the slot holding `position` under `hash`; it must be present.
    mutating func remove(hash: UInt64, position: UInt32) {
        let wanted = (HashIndex.tag(hash) << 32) | UInt64(position)
        var hole = self.home(ofSlot: wanted)
        while self.slots[hole] != wanted {
            precondition(self.slots[hole] != 0, "HashIndex.remove: position \(position) is not in the index")
            hole = (hole &+ 1) & self.mask
        }
        // Backward-shift: pull later members of the probe run into the hole when their home
        // does not lie cyclically in (hole, next].
        var next = hole
        while true {
            next = (next &+ 1) & self.mask
            let slot = self.slots[next]
            if slot == 0 {
                break
            }
            let home = self.home(ofSlot: slot)
            let homeInRange = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if !homeInRange {
                self.slots[hole] = slot
                hole = next
            }
        }
        self.slots[hole] = 0
        self.count -= 1
    }

    /// Fills an empty index with `count` positions at once, for restoring a table: position
    /// `firstPosition + i` under the `i`-th hash that `forEachHash` hands to its body (it is called
    /// twice, and must hand over the same `count` hashes in the same order each time).
    ///
    /// Inserting a restored table's millions of positions one by one would take a cache miss each,
    /// the homes being random across a table far larger than the caches. Instead the positions are
    /// first sorted by the slice of the table (``buildSliceSlots`` slots) their home falls in, one
    /// counting pass and one scattering pass over them, and then placed slice by slice: each slice
    /// is small enough to stay cached while its positions are placed, so the table is written
    /// nearly in order. Any insertion order gives a valid table (linear probing with backward-shift
    /// deletion asks only that no empty slot lies between an entry and its home).
    ///
    /// A position on the probe run of the `i`-th hash whose tag matches is shown to `isDuplicate(i,
    /// position)`; at the first for which it returns true, building stops and `i` is returned (the
    /// index is then incomplete, and its owner is to be discarded). Nil when every position went in.
    mutating func build(
        count: Int,
        firstPosition: UInt32,
        forEachHash: (_ body: (UInt64) -> Void) -> Void,
        isDuplicate: (_ offset: Int, _ position: UInt32) -> Bool
    ) -> Int? {
        precondition(self.count == 0, "HashIndex.build fills an empty index")
        guard count > 0 else { return nil }
        var capacity = self.slots.count
        while capacity * 3 / 4 < count && capacity < HashIndex.capacityMax {
            capacity *= 2
        }
        let mask = capacity - 1
        // Nothing to keep (the index is empty): let the old slots go before the new ones are made.
        self.slots = []
        // A home's slice is its top bits.
        let homeShift = min(capacity, HashIndex.buildSliceSlots).trailingZeroBitCount
        let slices = capacity >> homeShift
        // Where each slice's positions start in `sorted`.
        var starts = [Int](repeating: 0, count: slices + 1)
        var counted = 0
        starts.withUnsafeMutableBufferPointer { starts in
            forEachHash { hash in
                let home = Int(truncatingIfNeeded: HashIndex.tag(hash)) & 0x7FFF_FFFF & mask
                starts[(home >> homeShift) + 1] += 1
                counted += 1
            }
            for slice in 0..<slices {
                starts[slice + 1] += starts[slice]
            }
        }
        precondition(counted == count, "HashIndex.build: \(counted) hashes for \(count) positions")
        var cursors = starts
        let sorted = [UInt64](unsafeUninitializedCapacity: count) { sorted, initialized in
            var offset = 0
            cursors.withUnsafeMutableBufferPointer { cursors in
                forEachHash { hash in
                    precondition(offset < count, "HashIndex.build: more hashes the second time")
                    let tag = HashIndex.tag(hash)
                    let slice = (Int(truncatingIfNeeded: tag) & 0x7FFF_FFFF & mask) >> homeShift
                    sorted[cursors[slice]] = (tag << 32) | UInt64(firstPosition &+ UInt32(truncatingIfNeeded: offset))
                    cursors[slice] += 1
                    offset += 1
                }
            }
            precondition(offset == count, "HashIndex.build: fewer hashes the second time")
            initialized = count
        }
        var inserted = 0
        var duplicate: Int? = nil
        let sliceSlots = 1 << homeShift
        // The table is zeroed a slice at a time, just before that slice's positions are placed, so
        // it is written in order and the slice's lines are still cached while they are probed. A
        // probe run that reaches a slice not zeroed yet zeroes it first.
        self.slots = [UInt64](unsafeUninitializedCapacity: capacity) { slots, initialized in
            var zeroedSlices = 0
            func zero(through slice: Int) {
                while zeroedSlices <= slice {
                    (slots.baseAddress! + zeroedSlices * sliceSlots).initialize(repeating: 0, count: sliceSlots)
                    zeroedSlices += 1
                }
            }
            placing: for slice in 0..<slices {
                zero(through: slice)
                for slot in sorted[starts[slice]..<starts[slice + 1]] {
                    let tag = slot >> 32
                    var index = Int(truncatingIfNeeded: tag) & 0x7FFF_FFFF & mask
                    while true {
                        if index >> homeShift >= zeroedSlices {
                            zero(through: index >> homeShift)
                        }
                        let present = slots[index]
                        if present == 0 {
                            slots[index] = slot
                            inserted += 1
                            break
                        }
                        if present >> 32 == tag {
                            let offset = Int(UInt32(truncatingIfNeeded: slot) &- firstPosition)
                            if isDuplicate(offset, UInt32(truncatingIfNeeded: present)) {
                                duplicate = offset
                                break placing
                            }
                        }
                        index = (index &+ 1) & mask
                    }
                }
            }
            zero(through: slices - 1)
            initialized = capacity
        }
        self.mask = mask
        self.count = inserted
        return duplicate
    }

    private mutating func place(_ slot: UInt64) {
        var index = self.home(ofSlot: slot)
        while self.slots[index] != 0 {
            index = (index &+ 1) & self.mask
        }
        self.slots[index] = slot
    }

    private mutating func grow() {
        precondition(self.slots.count < HashIndex.capacityMax, "HashIndex is at its largest capacity")
        let old = self.slots
        self.slots = Array(repeating: 0, count: old.count * 2)
        self.mask = self.slots.count - 1
        for slot in old where slot != 0 {
            self.place(slot)
        }
    }
}
