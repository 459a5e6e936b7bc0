/// The journal's on-disk format, version 1 (docs/FORMATS.md describes it byte by byte).
///
/// A journal is a directory of segment files named by the sequence of their first record, 20
/// decimal digits and `.journal` (`00000000000000000001.journal`), so that name order is log order.
/// Each segment is created at its full size, zero-filled, so that writing records never changes
/// the file's size or allocation and a sync writes data only.
///
/// Segment header, 64 bytes at offset 0 (little-endian):
///
///     0   8  magic "TALLYJNL"
///     8   2  format version (1)
///     10  2  header size (64)
///     12  4  reserved, zero
///     16  8  first sequence: the sequence of the first record in the segment
///     24  8  segment size in bytes (the file's size)
///     32 28  reserved, zero
///     60  4  CRC-32C of bytes 0..<60
///
/// Records follow from offset 64, back to back:
///
///     0   4  payload length N, 1 ... 16 MiB (zero bytes here mean: no more records)
///     4   4  CRC-32C of the length field, then of bytes 8..<24+N
///     8   8  sequence: 1 for the first record of the journal, then +1 per record, no gaps
///     16  8  group: the sequence of the first record of the write this record was written in
///     24  N  payload (opaque bytes: storage knows nothing of ledgers)
///
/// The group field is what tells recovery a torn final write (records of the last group, never
/// synced, half on disk) from damage to data that was synced (anything of a later group after a
/// bad record). A write never spans two segments.
public enum JournalFormat {
    public static let version: UInt16 = 1
    public static let magic: [UInt8] = Array("TALLYJNL".utf8)
    public static let segmentHeaderBytes = 64
    public static let recordHeaderBytes = 24
    /// The largest payload of one record.
    public static let recordPayloadBytesMax = 16 << 20
    /// The smallest segment: room for the header and one largest record.
    public static let segmentBytesMin = segmentHeaderBytes + recordHeaderBytes + recordPayloadBytesMax
    public static let segmentExtension = "journal"
    /// The name of the `number`th segment being prepared (zero-filled): never read as part of the
    /// log, removed when a journal opens.
    public static func spareName(_ number: Int) -> String {
        "spare-\(number).journal.tmp"
    }

    /// Whether `name` is a spare's name.
    public static func isSpareName(_ name: String) -> Bool {
        name.hasPrefix("spare-") && name.hasSuffix(".journal.tmp")
    }

    /// The file name of the segment whose first record has `sequence`.
    public static func segmentName(firstSequence sequence: UInt64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + segmentExtension
    }

    /// The first sequence a segment file name stands for, or nil for other names.
    public static func firstSequence(ofSegmentNamed name: String) -> UInt64? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1] == segmentExtension, parts[0].count == 20,
            parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let sequence = UInt64(parts[0]), sequence > 0
        else {
            return nil
        }
        return sequence
    }

    /// Writes a segment header into the first 64 bytes of `buffer`.
    static func writeSegmentHeader(
        into buffer: UnsafeMutableRawBufferPointer,
        firstSequence: UInt64,
        segmentBytes: Int
    ) {
        precondition(buffer.count >= segmentHeaderBytes)
        buffer.copyBytes(from: repeatElement(0, count: segmentHeaderBytes))
        for (index, byte) in magic.enumerated() {
            buffer[index] = byte
        }
        buffer.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt16.self)
        buffer.storeBytes(of: UInt16(segmentHeaderBytes).littleEndian, toByteOffset: 10, as: UInt16.self)
        buffer.storeBytes(of: firstSequence.littleEndian, toByteOffset: 16, as: UInt64.self)
        buffer.storeBytes(of: UInt64(segmentBytes).littleEndian, toByteOffset: 24, as: UInt64.self)
        let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<60]))
        buffer.storeBytes(of: checksum.littleEndian, toByteOffset: 60, as: UInt32.self)
    }

    /// A decoded segment header.
    public struct SegmentHeader: Hashable, Sendable {
        public var version: UInt16
        public var firstSequence: UInt64
        public var segmentBytes: UInt64
    }

    /// Why a segment header cannot be used.
    enum HeaderProblem: Error {
        case tooShort
        case badMagic
        case badChecksum
        case unsupportedVersion(UInt16)
        case badHeaderSize(UInt16)
    }

    static func readSegmentHeader(_ bytes: UnsafeRawBufferPointer) -> Result<SegmentHeader, HeaderProblem> {
        guard bytes.count >= segmentHeaderBytes else { return .failure(.tooShort) }
        guard Array(bytes[0..<8]) == magic else { return .failure(.badMagic) }
        // The version before the checksum: a later version may lay out (and checksum) its header
        // differently, and must be reported as a version this build cannot read, not as damage.
        let version = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        guard version == JournalFormat.version else { return .failure(.unsupportedVersion(version)) }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60])) == stored else {
            return .failure(.badChecksum)
        }
        let headerSize = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 10, as: UInt16.self))
        guard headerSize == segmentHeaderBytes else { return .failure(.badHeaderSize(headerSize)) }
        return .success(
            SegmentHeader(
                version: version,
                firstSequence: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                segmentBytes: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            )
        )
    }

    /// Writes a record (header and payload already at `buffer[24...]`) of `payloadBytes` bytes:
    /// fills in the header and its checksum.
    static func sealRecord(
        _ buffer: UnsafeMutableRawBufferPointer,
        payloadBytes: Int,
        sequence: UInt64,
        group: UInt64
    ) {
        precondition(payloadBytes >= 1 && payloadBytes <= recordPayloadBytesMax)
        buffer.storeBytes(of: UInt32(payloadBytes).littleEndian, toByteOffset: 0, as: UInt32.self)
        buffer.storeBytes(of: sequence.littleEndian, toByteOffset: 8, as: UInt64.self)
        buffer.storeBytes(of: group.littleEndian, toByteOffset: 16, as: UInt64.self)
        let checksum = self.recordChecksum(UnsafeRawBufferPointer(buffer), payloadBytes: payloadBytes)
        buffer.storeBytes(of: checksum.littleEndian, toByteOffset: 4, as: UInt32.self)
    }

    /// The checksum of the record at the start of `bytes` with `payloadBytes` of payload.
    static func recordChecksum(_ bytes: UnsafeRawBufferPointer, payloadBytes: Int) -> UInt32 {
        let length = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<4]))
        return CRC32C.checksum(
            UnsafeRawBufferPointer(rebasing: bytes[8..<recordHeaderBytes + payloadBytes]),
            continuing: length
        )
    }

    /// A record that checked out: where its payload is within the bytes examined.
    struct RecordHeader: Hashable {
        var payloadBytes: Int
        var sequence: UInt64
        var group: UInt64
    }

    /// What the bytes at an offset hold.
    enum RecordProbe: Hashable {
        /// A record with a valid checksum.
        case record(RecordHeader)
        /// 24 zero bytes: the end of the records in this segment.
        case end
        /// Anything else: a torn or damaged record.
        case invalid
    }

    /// Examines the bytes at the start of `bytes` (which end where the segment ends).
    static func probeRecord(_ bytes: UnsafeRawBufferPointer) -> RecordProbe {
        guard bytes.count >= recordHeaderBytes else {
            return bytes.allSatisfy({ $0 == 0 }) ? .end : .invalid
        }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)))
        if length == 0 {
            return bytes[0..<recordHeaderBytes].allSatisfy({ $0 == 0 }) ? .end : .invalid
        }
        guard length <= recordPayloadBytesMax, recordHeaderBytes + length <= bytes.count else {
            return .invalid
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        guard self.recordChecksum(bytes, payloadBytes: length) == stored else {
            return .invalid
        }
        return .record(
            RecordHeader(
                payloadBytes: length,
                sequence: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                group: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
            )
        )
    }
}
