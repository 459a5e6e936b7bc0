import Testing

@testable import TallyCore

@Suite("IdempotencyKey")
struct IdempotencyKeyTests {
    @Test func bytesAreLittleEndian() {
        let bytes: [UInt8] = (1...16).map { UInt8($0) }
        let key = IdempotencyKey(bytes: bytes)
        #expect(key?.rawValue == UInt128(0x100F_0E0D_0C0B_0A09_0807_0605_0403_0201))
        #expect(key?.bytes == bytes)
        #expect(IdempotencyKey(bytes: ArraySlice(bytes)) == key)
    }

    @Test func exactlySixteenBytes() {
        #expect(IdempotencyKey(bytes: [UInt8](repeating: 1, count: 15)) == nil)
        #expect(IdempotencyKey(bytes: [UInt8](repeating: 1, count: 17)) == nil)
        #expect(IdempotencyKey(bytes: []) == nil)
        #expect(IdempotencyKey(bytes: [UInt8](repeating: 0, count: 16)) == IdempotencyKey(0))
    }

    @Test func descriptionIsHexInByteOrder() {
        #expect(IdempotencyKey(1).description == "01000000000000000000000000000000")
        #expect(IdempotencyKey(UInt128(0xAB) << 120).description == "000000000000000000000000000000ab")
        #expect(
            IdempotencyKey(bytes: (1...16).map { UInt8($0 * 15) })?.description == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
        )
        #expect(IdempotencyKey(.max).description == String(repeating: "f", count: 32))
    }

    @Test func roundTripOfRandomishKeys() {
        var value: UInt128 = 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C834
        for _ in 0..<100 {
            value = value &* 0x2545_F491_4F6C_DD1D &+ 0x1405_7B7E_F767_814F
            let key = IdempotencyKey(value)
            #expect(IdempotencyKey(bytes: key.bytes) == key)
            #expect(key.description.count == 32)
        }
    }
}
