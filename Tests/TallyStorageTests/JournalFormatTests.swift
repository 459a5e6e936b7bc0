import Testing

@testable import TallyStorage

/// The on-disk format: segment names, the segment header and records, by exact bytes and round
/// trips (expected checksums from an independent bitwise CRC-32C).
@Suite("Journal format")
struct JournalFormatTests {
    // MARK: - Segment names

    @Test func segmentNamesAreTwentyDigitsAndParseBack() {
        #expect(JournalFormat.segmentName(firstSequence: 1) == "00000000000000000001.journal")
        #expect(JournalFormat.segmentName(firstSequence: 1_234_567) == "00000000000001234567.journal")
        #expect(JournalFormat.segmentName(firstSequence: UInt64.max) == "18446744073709551615.journal")
        for sequence: UInt64 in [1, 9, 10, 99, 100, 65_536, 1 << 40, UInt64.max - 1, UInt64.max] {
            #expect(
                JournalFormat.firstSequence(ofSegmentNamed: JournalFormat.segmentName(firstSequence: sequence))
                    == sequence
            )
        }
    }

    @Test func nameOrderIsLogOrder() {
        let sequences: [UInt64] = [1, 2, 9, 10, 11, 99, 100, 101, 999, 1_000, 123_456_789, 1 << 40, UInt64.max]
        let names = sequences.map { JournalFormat.segmentName(firstSequence: $0) }
        #expect(names.sorted() == names)
        #expect(names.shuffled().sorted().compactMap { JournalFormat.firstSequence(ofSegmentNamed: $0) } == sequences)
    }

    @Test func otherNamesAreNotSegments() {
        let rejected = [
            "",
            ".journal",
            "00000000000000000000.journal",  // sequence 0 never exists
            "0000000000000000001.journal",  // 19 digits
            "000000000000000000001.journal",  // 21 digits
            "99999999999999999999.journal",  // beyond UInt64
            "0000000000000000000a.journal",
            "+0000000000000000001.journal",
            "-0000000000000000001.journal",
            "0000000000000000000\u{0661}.journal",  // an Arabic-Indic digit
            "00000000000000000001.journa",
            "00000000000000000001.journal.tmp",
            "00000000000000000001.JOURNAL",
            "00000000000000000001",
            "00000000000000000001.",
            "00000000000000000001..journal",
            " 0000000000000000001.journal",
            "spare-1.journal.tmp",
            "snapshot-00000000000000000001.tally",
        ]
        for name in rejected {
            #expect(JournalFormat.firstSequence(ofSegmentNamed: name) == nil, "\(name)")
        }
    }

    @Test func spareNamesAreNeverSegmentNames() {
        for number in [0, 1, 2, 10, 12_345] {
            let name = JournalFormat.spareName(number)
            #expect(JournalFormat.isSpareName(name))
            #expect(JournalFormat.firstSequence(ofSegmentNamed: name) == nil)
        }
        #expect(!JournalFormat.isSpareName(JournalFormat.segmentName(firstSequence: 1)))
        #expect(!JournalFormat.isSpareName("spare-1.journal"))
    }

    // MARK: - Segment header

    static func header(firstSequence: UInt64 = 1, segmentBytes: Int = 65_536) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xEE, count: JournalFormat.segmentHeaderBytes)
        bytes.withUnsafeMutableBytes {
            JournalFormat.writeSegmentHeader(into: $0, firstSequence: firstSequence, segmentBytes: segmentBytes)
        }
        return bytes
    }

    static func read(_ bytes: [UInt8]) -> Result<JournalFormat.SegmentHeader, JournalFormat.HeaderProblem> {
        bytes.withUnsafeBytes { JournalFormat.readSegmentHeader($0) }
    }

    /// Sets a little-endian field and fixes the checksum, so that only the field is wrong.
    static func withField(_ bytes: [UInt8], at offset: Int, _ value: UInt64, width: Int) -> [UInt8] {
        var bytes = bytes
        for index in 0..<width {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))
        }
        let checksum = CRC32C.checksum(Array(bytes[0..<60]))
        for index in 0..<4 {
            bytes[60 + index] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(index)))
        }
        return bytes
    }

    @Test func headerExactBytes() {
        let expected: [UInt8] =
            Array("TALLYJNL".utf8)
            + [0x01, 0x00, 0x40, 0x00]  // version 1, header size 64
            + [0, 0, 0, 0]  // reserved
            + [0x01, 0, 0, 0, 0, 0, 0, 0]  // first sequence 1
            + [0x00, 0x00, 0x01, 0x00, 0, 0, 0, 0]  // 65536 bytes
            + [UInt8](repeating: 0, count: 28)
            + [0xF9, 0x46, 0x29, 0xDA]  // CRC-32C of the 60 bytes before, 0xDA2946F9
        #expect(Self.header() == expected)
    }

    @Test func headerRoundTrip() throws {
        for (sequence, size) in [(UInt64(1), 65_536), (77, Journal.segmentBytesMin), (UInt64.max, Int(Int32.max))] {
            let decoded = try Self.read(Self.header(firstSequence: sequence, segmentBytes: size)).get()
            #expect(
                decoded == JournalFormat.SegmentHeader(version: 1, firstSequence: sequence, segmentBytes: UInt64(size))
            )
        }
        // Bytes after the header do not matter.
        let longer = Self.header(firstSequence: 5) + [1, 2, 3]
        #expect(try Self.read(longer).get().firstSequence == 5)
    }

    @Test func everyHeaderProblem() {
        let good = Self.header()
        guard case .failure(.tooShort) = Self.read(Array(good[0..<63])) else {
            Issue.record("63 bytes")
            return
        }
        guard case .failure(.tooShort) = Self.read([]) else {
            Issue.record("no bytes")
            return
        }
        for index in 0..<8 {
            var bytes = good
            bytes[index] ^= 0x20
            guard case .failure(.badMagic) = Self.read(bytes) else {
                Issue.record("magic byte \(index)")
                continue
            }
        }
        // The version is read before the checksum (a later version may checksum its header
        // differently), so a changed version byte reads as an unsupported version...
        for index in 8..<10 {
            var bytes = good
            bytes[index] ^= 0x01
            guard case .failure(.unsupportedVersion) = Self.read(bytes) else {
                Issue.record("version byte \(index)")
                continue
            }
        }
        // ...and any other byte changed fails the checksum.
        for index in 10..<64 {
            var bytes = good
            bytes[index] ^= 0x01
            guard case .failure(.badChecksum) = Self.read(bytes) else {
                Issue.record("byte \(index)")
                continue
            }
        }
        if case .failure(.unsupportedVersion(let version)) = Self.read(Self.withField(good, at: 8, 2, width: 2)) {
            #expect(version == 2)
        } else {
            Issue.record("version 2")
        }
        if case .failure(.unsupportedVersion(let version)) = Self.read(Self.withField(good, at: 8, 0, width: 2)) {
            #expect(version == 0)
        } else {
            Issue.record("version 0")
        }
        if case .failure(.badHeaderSize(let size)) = Self.read(Self.withField(good, at: 10, 128, width: 2)) {
            #expect(size == 128)
        } else {
            Issue.record("header size 128")
        }
        #expect((try? Self.read(Self.withField(good, at: 16, 9, width: 8)).get().firstSequence) == 9)
    }

    // MARK: - Records

    /// A sealed record of `payload` in a buffer of `capacity` bytes (zeros after it).
    static func sealed(_ payload: [UInt8], sequence: UInt64, group: UInt64, capacity: Int? = nil) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: JournalFormat.recordHeaderBytes) + payload
        bytes.withUnsafeMutableBytes {
            JournalFormat.sealRecord($0, payloadBytes: payload.count, sequence: sequence, group: group)
        }
        return bytes + [UInt8](repeating: 0, count: max(0, (capacity ?? 0) - bytes.count))
    }

    static func probe(_ bytes: [UInt8]) -> JournalFormat.RecordProbe {
        bytes.withUnsafeBytes { JournalFormat.probeRecord($0) }
    }

    @Test func recordExactBytes() {
        let expected: [UInt8] =
            [0x03, 0, 0, 0]  // payload length 3
            + [0x1F, 0x95, 0x49, 0x8F]  // CRC-32C of the length, then bytes 8..<27: 0x8F49951F
            + [0x05, 0, 0, 0, 0, 0, 0, 0]  // sequence 5
            + [0x04, 0, 0, 0, 0, 0, 0, 0]  // group 4
            + Array("abc".utf8)
        #expect(Self.sealed(Array("abc".utf8), sequence: 5, group: 4) == expected)
    }

    @Test func recordRoundTrip() {
        for (count, sequence, group) in [
            (1, UInt64(1), UInt64(1)), (100, 7, 3), (4_096, 1 << 33, 1 << 33), (70_000, 9, 1),
        ] {
            let bytes = payload(count, seed: UInt64(count))
            let record = Self.sealed(bytes, sequence: sequence, group: group, capacity: count + 200)
            #expect(
                Self.probe(record) == .record(.init(payloadBytes: count, sequence: sequence, group: group)),
                "\(count) bytes"
            )
            // Exactly as long as the buffer: still a record.
            #expect(
                Self.probe(Array(record[0..<JournalFormat.recordHeaderBytes + count]))
                    == .record(.init(payloadBytes: count, sequence: sequence, group: group))
            )
        }
        // The largest payload.
        let largest = [UInt8](repeating: 7, count: JournalFormat.recordPayloadBytesMax)
        #expect(
            Self.probe(Self.sealed(largest, sequence: 2, group: 2))
                == .record(.init(payloadBytes: JournalFormat.recordPayloadBytesMax, sequence: 2, group: 2))
        )
    }

    @Test func probeOfZerosIsTheEnd() {
        #expect(Self.probe([UInt8](repeating: 0, count: 1_000)) == .end)
        #expect(Self.probe([UInt8](repeating: 0, count: JournalFormat.recordHeaderBytes)) == .end)
        // Fewer bytes than a record header are left at the end of a segment: zeros are the end too.
        #expect(Self.probe([UInt8](repeating: 0, count: 5)) == .end)
        #expect(Self.probe([]) == .end)
        // Zeros in the header but something after it: still the end here (the scanner decides what
        // bytes after the end mean).
        #expect(Self.probe([UInt8](repeating: 0, count: JournalFormat.recordHeaderBytes) + [1]) == .end)
    }

    @Test func probeOfAnythingElseIsInvalid() {
        let record = Self.sealed(payload(50, seed: 1), sequence: 3, group: 3, capacity: 100)
        // Every single bit of the record (header and payload) flipped.
        for index in 0..<(JournalFormat.recordHeaderBytes + 50) {
            for bit in [0, 7] {
                var bytes = record
                bytes[index] ^= 1 << bit
                #expect(Self.probe(bytes) == .invalid, "byte \(index), bit \(bit)")
            }
        }
        // A length of zero with anything else in the header.
        for index in 4..<JournalFormat.recordHeaderBytes {
            var bytes = [UInt8](repeating: 0, count: 100)
            bytes[index] = 1
            #expect(Self.probe(bytes) == .invalid, "byte \(index)")
        }
        // Fewer than a header's bytes, not all zero.
        #expect(Self.probe([0, 0, 1]) == .invalid)
        // A length past the end of the bytes, and past the limit.
        #expect(Self.probe(Array(record[0..<JournalFormat.recordHeaderBytes + 49])) == .invalid)
        var tooLong = record
        tooLong.replaceSubrange(0..<4, with: [0x01, 0x00, 0x00, 0x01])  // 16 MiB + 1
        #expect(Self.probe(tooLong + [UInt8](repeating: 0, count: 17 << 20)) == .invalid)
        // Garbage.
        #expect(Self.probe(payload(200, seed: 9)) == .invalid)
        #expect(Self.probe([UInt8](repeating: 0xFF, count: 200)) == .invalid)
    }
}
