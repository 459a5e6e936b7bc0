/// SHA-256 (FIPS 180-4), streaming. The core may use nothing beyond the standard library, so the
/// state digest carries its own implementation; tests check it against the NIST vectors.
struct SHA256: Sendable {
    private var state: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    /// Bytes waiting for a full 64-byte block.
    private var pending: [UInt8] = []
    private var totalBytes: UInt64 = 0

    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    init() {
        self.pending.reserveCapacity(64)
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.update(rawBytes: $0) }
    }

    mutating func update(rawBytes: UnsafeRawBufferPointer) {
        self.totalBytes &+= UInt64(rawBytes.count)
        var offset = 0
        if !self.pending.isEmpty {
            let take = min(64 - self.pending.count, rawBytes.count)
            self.pending.append(contentsOf: rawBytes[0..<take])
            offset = take
            if self.pending.count == 64 {
                self.pending.withUnsafeBytes { self.compress($0) }
                self.pending.removeAll(keepingCapacity: true)
            }
        }
        while rawBytes.count - offset >= 64 {
            self.compress(UnsafeRawBufferPointer(rebasing: rawBytes[offset..<offset + 64]))
            offset += 64
        }
        if offset < rawBytes.count {
            self.pending.append(contentsOf: rawBytes[offset...])
        }
    }

    consuming func finalize() -> [UInt8] {
        let bitLength = self.totalBytes &* 8
        var padding: [UInt8] = [0x80]
        let used = (self.pending.count + 1) % 64
        padding.append(contentsOf: repeatElement(0, count: (56 - used + 64) % 64))
        for shift in stride(from: 56, through: 0, by: -8) {
            padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        let total = self.totalBytes
        self.update(padding)
        self.totalBytes = total
        precondition(self.pending.isEmpty)
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in self.state {
            for shift in stride(from: 24, through: 0, by: -8) {
                digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift)))
            }
        }
        return digest
    }

    private mutating func compress(_ block: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            for index in 0..<16 {
                schedule[index] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
            }
            for index in 16..<64 {
                let w15 = schedule[index - 15]
                let w2 = schedule[index - 2]
                let s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3)
                let s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10)
                schedule[index] = schedule[index - 16] &+ s0 &+ schedule[index - 7] &+ s1
            }
            SHA256.roundConstants.withUnsafeBufferPointer { constants in
                var a = self.state[0]
                var b = self.state[1]
                var c = self.state[2]
                var d = self.state[3]
                var e = self.state[4]
                var f = self.state[5]
                var g = self.state[6]
                var h = self.state[7]
                for index in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let choice = (e & f) ^ (~e & g)
                    let temp1 = h &+ s1 &+ choice &+ constants[index] &+ schedule[index]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    h = g
                    g = f
                    f = e
                    e = d &+ temp1
                    d = c
                    c = b
                    b = a
                    a = temp1 &+ s0 &+ majority
                }
                self.state[0] &+= a
                self.state[1] &+= b
                self.state[2] &+= c
                self.state[3] &+= d
                self.state[4] &+= e
                self.state[5] &+= f
                self.state[6] &+= g
                self.state[7] &+= h
            }
        }
    }
}

@inline(__always)
private func rotr(_ value: UInt32, _ count: UInt32) -> UInt32 {
    (value >> count) | (value << (32 - count))
}
