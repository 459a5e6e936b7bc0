import TallyTestKit
import Testing

@testable import TallyCore

/// ``HashIndex`` (linear probing, backward-shift deletion, growth) checked against a Swift `Set`
/// over thousands of seeded random operations.
@Suite("HashIndex")
struct HashIndexTests {
    /// An index with its keys: position `p` holds `keys[p]`; `hash` decides the probe sequence.
    struct Model {
        var index: HashIndex
        var keys: [UInt64] = []
        var positions: [UInt64: UInt32] = [:]
        var reference: Set<UInt64> = []
        let hash: (UInt64) -> UInt64

        init(minimumCapacity: Int = 0, hash: @escaping (UInt64) -> UInt64) {
            self.index = HashIndex(minimumCapacity: minimumCapacity)
            self.hash = hash
        }

        func find(_ key: UInt64) -> UInt32? {
            self.index.find(hash: self.hash(key), matches: { self.keys[Int($0)] == key })
        }

        mutating func insert(_ key: UInt64) {
            let position = UInt32(self.keys.count)
            self.keys.append(key)
            self.index.insert(hash: self.hash(key), position: position)
            self.positions[key] = position
            self.reference.insert(key)
        }

        mutating func remove(_ key: UInt64) {
            self.index.remove(hash: self.hash(key), position: self.positions[key]!)
            self.positions[key] = nil
            self.reference.remove(key)
        }

        func check(_ absent: [UInt64], sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(self.index.count == self.reference.count, sourceLocation: sourceLocation)
            for key in self.reference {
                #expect(self.find(key) == self.positions[key], "key \(key)", sourceLocation: sourceLocation)
            }
            for key in absent where !self.reference.contains(key) {
                #expect(self.find(key) == nil, "absent key \(key)", sourceLocation: sourceLocation)
            }
            #expect(self.index.count * 4 <= self.index.capacity * 3, sourceLocation: sourceLocation)
        }
    }

    /// Full-quality hashes, and hashes crowded into 24 home slots with colliding tags, which make
    /// long probe runs that wrap around the table's end.
    static let hashes: [(name: String, hash: @Sendable (UInt64) -> UInt64)] = [
        ("mixed", { Hashing.mix($0) }),
        ("crowded", { ($0 % 24) << 32 | ($0 & 0xFFFF) }),
        ("last slot", { UInt64(0x7FFF_FFFF) << 32 | ($0 % 3) }),
    ]

    @Test(arguments: 0..<3, [1, 2] as [UInt64])
    func randomOperationsMatchASet(hashIndex: Int, seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var model = Model(hash: Self.hashes[hashIndex].hash)
        var universe: [UInt64] = (0..<600).map { _ in random.next() % 100_000 }
        universe = Array(Set(universe))
        for step in 0..<6_000 {
            let key = universe[Int(random.next() % UInt64(universe.count))]
            if model.reference.contains(key) {
                if random.chance(0.45) {
                    model.remove(key)
                } else {
                    #expect(model.find(key) == model.positions[key])
                }
            } else if random.chance(0.7) {
                model.insert(key)
            } else {
                #expect(model.find(key) == nil)
            }
            if step % 500 == 0 {
                model.check(universe)
            }
        }
        model.check(universe)
        // Empty it completely: nothing is left behind.
        for key in model.reference {
            model.remove(key)
        }
        model.check(universe)
        #expect(model.index.slots.allSatisfy { $0 == 0 })
    }

    @Test func growsAtThreeQuartersFull() {
        #expect(HashIndex(minimumCapacity: 0).capacity == 16)
        #expect(HashIndex(minimumCapacity: 12).capacity == 16)
        #expect(HashIndex(minimumCapacity: 13).capacity == 32)
        #expect(HashIndex(minimumCapacity: 1_000).capacity == 2_048)
        var model = Model(hash: { Hashing.mix($0) })
        for key in 0..<12 as Range<UInt64> {
            model.insert(key)
        }
        #expect(model.index.capacity == 16)
        model.insert(12)
        #expect(model.index.capacity == 32)
        for key in 13..<25 as Range<UInt64> {
            model.insert(key)
        }
        #expect(model.index.capacity == 64)
        model.check(Array(0..<100))
    }

    @Test func removalInsideARunThatWrapsAroundTheEnd() {
        // Capacity 16: homes 15, 15, 15, 0, 0 occupy slots 15, 0, 1, 2, 3.
        let homes: [UInt64: UInt64] = [1: 15, 2: 15, 3: 15, 4: 0, 5: 0, 6: 14]
        var model = Model(hash: { homes[$0]! << 32 | $0 })
        for key in [1, 2, 3, 4, 5] as [UInt64] {
            model.insert(key)
        }
        model.remove(1)
        model.check([1, 2, 3, 4, 5, 6])
        model.remove(4)
        model.check([1, 2, 3, 4, 5, 6])
        model.insert(6)
        model.insert(1)
        model.check([1, 2, 3, 4, 5, 6])
        model.remove(2)
        model.remove(3)
        model.check([1, 2, 3, 4, 5, 6])
    }

    /// Hashes for ``build(count:firstPosition:forEachHash:isDuplicate:)``, on a table of several
    /// slices: full quality; one key in 16 crowded at the end of the first slice (a run that reaches
    /// into the next slice before it is zeroed); one in 16 at the last slot (a run that wraps).
    static let buildHashes: [(name: String, hash: @Sendable (UInt64) -> UInt64)] = [
        ("mixed", { Hashing.mix($0) }),
        (
            "slice end",
            { $0 % 16 == 0 ? (UInt64(HashIndex.buildSliceSlots) - 1 - $0 % 64) << 32 | $0 : Hashing.mix($0) }
        ),
        ("last slot", { $0 % 16 == 0 ? UInt64(0x7FFF_FFFF) << 32 | $0 : Hashing.mix($0) }),
    ]

    @Test(arguments: 0..<3)
    func buildingInBulkMatchesInsertingOneByOne(hashIndex: Int) {
        let hash = Self.buildHashes[hashIndex].hash
        var random = SeededRandom(seed: 9 + UInt64(hashIndex))
        var universe: [UInt64] = Array(Set((0..<30_000).map { _ in random.next() % 10_000_000 }))
        universe.shuffle(using: &random)
        var model = Model(hash: hash)
        let duplicate = model.index.build(
            count: universe.count,
            firstPosition: 0,
            forEachHash: { body in
                for key in universe {
                    body(hash(key))
                }
            },
            isDuplicate: { offset, position in universe[Int(position)] == universe[offset] }
        )
        #expect(duplicate == nil)
        #expect(model.index.capacity > HashIndex.buildSliceSlots, "the table has several slices")
        model.keys = universe
        for (position, key) in universe.enumerated() {
            model.positions[key] = UInt32(position)
            model.reference.insert(key)
        }
        let absent = (0..<2_000).map { _ in random.next() % 10_000_000 }
        model.check(universe + absent)
        // The built table goes on like any other: removals (backward shifts) and insertions.
        for key in universe.prefix(10_000) {
            model.remove(key)
        }
        for key in absent.prefix(500) where !model.reference.contains(key) {
            model.insert(key)
        }
        model.check(universe + absent)
    }

    @Test(arguments: 0..<3)
    func buildingInBulkFindsADuplicate(hashIndex: Int) {
        let hash = Self.buildHashes[hashIndex].hash
        var keys = (0..<20_000 as Range<UInt64>).map { $0 * 7 + 1 }
        keys[15_000] = keys[4_321]
        var index = HashIndex(minimumCapacity: 0)
        let duplicate = index.build(
            count: keys.count,
            firstPosition: 100,
            forEachHash: { body in
                for key in keys {
                    body(hash(key))
                }
            },
            isDuplicate: { offset, position in keys[Int(position) - 100] == keys[offset] }
        )
        #expect(duplicate == 15_000)
    }
}
