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
