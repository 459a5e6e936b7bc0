import Testing

@testable import TallyCore

/// The core's own SHA-256 against the FIPS 180-4 example vectors and other lengths around the
/// block and padding boundaries (expected values from an independent implementation), whole and
/// fed in odd-sized pieces.
@Suite("SHA-256")
struct SHA256Tests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// Hashes `message` fed in pieces whose sizes cycle through `pieceSizes`.
    static func digest(_ message: [UInt8], pieceSizes: [Int] = [Int.max]) -> String {
        var hash = SHA256()
        var offset = 0
        var piece = 0
        while offset < message.count {
            let size = min(pieceSizes[piece % pieceSizes.count], message.count - offset)
            hash.update(Array(message[offset..<offset + size]))
            offset += size
            piece += 1
        }
        return hex(hash.finalize())
    }

    static let abc448 = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
    static let abc896 = Array(
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
            + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu").utf8
    )

    @Test func nistVectors() {
        #expect(Self.digest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.digest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.digest(Self.abc448) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(Self.digest(Self.abc896) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    @Test func oneMillionAs() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(Self.digest(message) == expected)
        #expect(Self.digest(message, pieceSizes: [1, 3, 63, 64, 65, 127, 1_000, 4_095]) == expected)
    }

    @Test func piecesOfEverySizeGiveTheSameDigest() {
        for pieces in [[1], [2], [3], [7], [55], [56], [63], [64], [65], [1, 64], [63, 1, 2], [0, 5]] {
            #expect(
                Self.digest(Self.abc448, pieceSizes: pieces.map { Swift.max($0, 1) })
                    == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                "pieces \(pieces)"
            )
            #expect(
                Self.digest(Self.abc896, pieceSizes: pieces.map { Swift.max($0, 1) })
                    == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
                "pieces \(pieces)"
            )
        }
        // Empty updates change nothing.
        var hash = SHA256()
        hash.update([])
        hash.update(Array("ab".utf8))
        hash.update([])
        hash.update(Array("c".utf8))
        #expect(Self.hex(hash.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// Lengths where the padding needs one more block (56 and up modulo 64) or fills one exactly.
    @Test(arguments: [
        (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
        (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
        (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
        (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
        (127, "c57e9278af78fa3cab38667bef4ce29d783787a2f731d4e12200270f0c32320a"),
        (128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"),
        (1_000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
    ])
    func paddingBoundaries(length: Int, expected: String) {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: length)
        #expect(Self.digest(message) == expected)
        #expect(Self.digest(message, pieceSizes: [1]) == expected)
        #expect(Self.digest(message, pieceSizes: [length - 1, 1]) == expected)
    }

    @Test func everyByteValue() {
        let message = (0..<4).flatMap { _ in (0...255).map { UInt8($0) } }
        let expected = "785b0751fc2c53dc14a4ce3d800e69ef9ce1009eb327ccf458afe09c242c26c9"
        #expect(Self.digest(message) == expected)
        #expect(Self.digest(message, pieceSizes: [17, 300, 5]) == expected)
    }
}
