import Testing

@testable import TallyStorage

/// CRC-32C against published vectors (RFC 3720 B.4 for iSCSI, the common check value), chained, and
/// the processor's crc32 instruction against the table.
///
/// What the paths cover: ``CRC32C/checksum(_:continuing:)`` takes the hardware path on a machine
/// with SSE 4.2 (the build machines) and the table path elsewhere; ``CRC32C/tableChecksum`` forces
/// the table. So on an SSE 4.2 machine both are checked against the vectors and against each other
/// for every length 0 ... 300 and every start alignment 0 ... 7 (the 8-byte loop, the byte tail, and
/// unaligned starts); on a machine without it, only the table path exists and is checked.
@Suite("CRC-32C")
struct CRC32CTests {
    static func checksums(_ bytes: [UInt8]) -> (whole: UInt32, table: UInt32) {
        (CRC32C.checksum(bytes), bytes.withUnsafeBytes { CRC32C.tableChecksum($0) })
    }

    static let vectors: [(name: String, bytes: [UInt8], checksum: UInt32)] = [
        ("empty", [], 0),
        ("123456789", Array("123456789".utf8), 0xE306_9283),
        ("a", Array("a".utf8), 0xC1D0_4330),
        ("32 zeros", [UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ("32 0xFF", [UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ("32 incrementing", (0..<32).map { UInt8($0) }, 0x46DD_794E),
        ("32 decrementing", (0..<32).map { UInt8(31 - $0) }, 0x113F_DB5C),
        (
            "iSCSI read command PDU",
            [
                0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
                0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            ],
            0xD996_3A56
        ),
    ]

    @Test func knownVectors() {
        for vector in Self.vectors {
            let (whole, table) = Self.checksums(vector.bytes)
            #expect(whole == vector.checksum, "\(vector.name)")
            #expect(table == vector.checksum, "\(vector.name), table")
        }
    }

    @Test func chainingEqualsTheWhole() {
        let bytes = payload(1_000, seed: 7)
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 63, 64, 500, 999, 1_000] {
            let head = Array(bytes[..<split])
            let tail = Array(bytes[split...])
            #expect(CRC32C.checksum(tail, continuing: CRC32C.checksum(head)) == whole, "split at \(split)")
            let table = head.withUnsafeBytes { CRC32C.tableChecksum($0) }
            #expect(tail.withUnsafeBytes { CRC32C.tableChecksum($0, continuing: table) } == whole, "table, \(split)")
        }
        // Three pieces, and pieces mixing the two ways.
        let first = CRC32C.checksum(Array(bytes[..<100]))
        let second = Array(bytes[100..<333]).withUnsafeBytes { CRC32C.tableChecksum($0, continuing: first) }
        #expect(CRC32C.checksum(Array(bytes[333...]), continuing: second) == whole)
    }

    @Test func hardwareAndTableAgreeOnEveryLengthAndAlignment() {
        let bytes = payload(400, seed: 11)
        bytes.withUnsafeBytes { raw in
            for start in 0..<8 {
                for count in 0...300 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<start + count])
                    #expect(CRC32C.checksum(slice) == CRC32C.tableChecksum(slice), "start \(start), \(count) bytes")
                }
            }
        }
    }

    @Test func changingAnyBitChangesTheChecksum() {
        var bytes = payload(64, seed: 3)
        let original = CRC32C.checksum(bytes)
        for index in bytes.indices {
            for bit in 0..<8 {
                bytes[index] ^= 1 << bit
                #expect(CRC32C.checksum(bytes) != original, "byte \(index), bit \(bit)")
                bytes[index] ^= 1 << bit
            }
        }
    }

    @Test func reportsWhetherTheInstructionIsUsed() {
        // Informational on other machines; on x86-64 build machines the instruction is expected.
        #if arch(x86_64)
        #expect(CRC32C.isHardwareAccelerated)
        #else
        #expect(!CRC32C.isHardwareAccelerated)
        #endif
    }
}
