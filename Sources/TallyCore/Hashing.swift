/// Deterministic hash functions of the core. Nothing here is seeded from the process: the same
/// input always gives the same output, on every machine and in every run.
enum Hashing {
    /// MurmurHash3's 64-bit finaliser: a bijection with full avalanche.
    @inlinable
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return x
    }

    /// Hash-table position hash of an account id.
    @inlinable
    static func account(_ id: UInt64, seed: UInt64) -> UInt64 {
        mix(id ^ seed)
    }

    /// Hash-table position hash of an idempotency key.
    @inlinable
    static func key(_ key: UInt128, seed: UInt64) -> UInt64 {
        let low = UInt64(truncatingIfNeeded: key)
        let high = UInt64(truncatingIfNeeded: key >> 64)
        return mix(low ^ mix(high ^ seed))
    }
}

/// A streaming 64-bit hash of an operation's content, for idempotency conflict detection.
///
/// Version 1 of the content fingerprint: each 64-bit word goes through one round of an
/// xxHash64-style accumulator, the length is folded in, and MurmurHash3's finaliser ends it.
/// Fingerprints are kept in snapshots, so this function must never change its output; a new
/// function would be a new version.
struct ContentHasher {
    private var state: UInt64 = 0x2783_4B7A_5D0F_1C63
    private var words: UInt64 = 0

    private static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F

    @inlinable
    init() {}

    @inlinable
    mutating func combine(_ word: UInt64) {
        var lane = self.state &+ word &* ContentHasher.prime2
        lane = (lane << 31) | (lane >> 33)
        self.state = lane &* ContentHasher.prime1
        self.words &+= 1
    }

    @inlinable
    mutating func combine(_ value: UInt128) {
        self.combine(UInt64(truncatingIfNeeded: value))
        self.combine(UInt64(truncatingIfNeeded: value >> 64))
    }

    /// Folds in a byte string with its length, eight bytes to a word, little-endian; a final partial
    /// word is zero-padded.
    @inlinable
    mutating func combine(bytes: UnsafeRawBufferPointer) {
        self.combine(UInt64(bytes.count))
        if bytes.isEmpty {
            return
        }
        var offset = 0
        while offset + 8 <= bytes.count {
            self.combine(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        if offset < bytes.count {
            var word: UInt64 = 0
            for (shift, index) in (offset..<bytes.count).enumerated() {
                word |= UInt64(bytes[index]) << (shift * 8)
            }
            self.combine(word)
        }
    }

    @inlinable
    func finalize() -> UInt64 {
        Hashing.mix(self.state ^ (self.words &* ContentHasher.prime1))
    }
}
