import Foundation
import SystemPackage

/// What reading a journal found: its extent, where the next record goes, and whether a torn tail
/// was found (and must be cut before appending).
public struct JournalScan: Hashable, Sendable {
    /// One segment file.
    public struct Segment: Hashable, Sendable {
        public var name: String
        public var firstSequence: UInt64
        /// The file's size (the segment's capacity).
        public var bytes: Int64
        /// Records in the segment.
        public var records: UInt64
        /// Offset just past the last valid record.
        public var end: Int64
        /// Whether the segment was read from its compressed copy in the archive
        /// (``JournalArchive``) rather than from the journal directory.
        public var isArchived: Bool = false
    }

    /// A torn final write: bytes from `offset` of `segment` on belong to a write whose sync never
    /// finished. They are not part of the log; opening the journal for writing zeroes them.
    public struct TornTail: Hashable, Sendable {
        public var segment: String
        public var offset: Int64
        /// The sequence the torn record would have had.
        public var sequence: UInt64
        /// Non-zero bytes from `offset` to the last non-zero byte of the segment.
        public var bytes: Int64
    }

    public var segments: [Segment] = []
    /// The sequence of the first and last record; nil when the journal holds no record.
    public var firstSequence: UInt64?
    public var lastSequence: UInt64?
    public var records: UInt64 = 0
    /// Payload bytes in all records.
    public var payloadBytes: UInt64 = 0
    public var tornTail: TornTail?
    /// Segments not read because a snapshot covers all their records (``JournalScanner/scan(after:_:)``).
    public var skippedSegments = 0

    /// The sequence the next record will have.
    public var nextSequence: UInt64 {
        if let last = self.lastSequence { return last + 1 }
        return self.segments.last?.firstSequence ?? 1
    }
}

/// Reads a journal directory front to back, checking every header, checksum and sequence.
///
/// A record that fails its checks at offset P, where sequence E was expected, is either a torn tail
/// or damage:
/// - If a later segment exists, every record of this one was synced before it was created: damage.
/// - Otherwise the rest of the segment is searched for records that check out. One whose group
///   started after E was written by a later write, so E's write had been synced: damage. If only
///   records of E's own group (or none) are found, the write that held E never finished its sync:
///   a torn tail, whose records were never acknowledged.
/// Damage stops the scan with a ``StorageError/Code-swift.struct/corrupted`` error naming the file,
/// the offset and the sequence; nothing is ever skipped silently.
public struct JournalScanner {
    public let directory: FilePath
    public let fileSystem: any FileSystem

    public init(directory: FilePath, fileSystem: any FileSystem = SystemFileSystem()) {
        self.directory = directory
        self.fileSystem = fileSystem
    }

    /// A segment of the log: a file in the journal directory or, once archived, a compressed copy in
    /// its `archive/` folder (see ``JournalArchive``).
    public struct SegmentFile: Hashable, Sendable {
        public var name: String
        public var firstSequence: UInt64
        /// Read from `archive/<name>.zst`. A segment found in both places is read from the journal
        /// directory: its archiving was interrupted before the original was removed.
        public var isArchived: Bool
    }

    /// The segments of the log, archived ones included, in log order.
    public func segmentNames() throws -> [SegmentFile] {
        var files: [UInt64: SegmentFile] = [:]
        let archive = JournalArchive.archivePath(of: self.directory)
        if self.fileSystem.fileExists(archive) {
            for name in try self.fileSystem.contentsOfDirectory(archive) {
                guard let segment = JournalArchive.segmentName(ofArchived: name),
                    let first = JournalFormat.firstSequence(ofSegmentNamed: segment)
                else { continue }
                files[first] = SegmentFile(name: segment, firstSequence: first, isArchived: true)
            }
        }
        for name in try self.fileSystem.contentsOfDirectory(self.directory) {
            guard let first = JournalFormat.firstSequence(ofSegmentNamed: name) else { continue }
            files[first] = SegmentFile(name: name, firstSequence: first, isArchived: false)
        }
        return files.values.sorted { $0.firstSequence < $1.firstSequence }
    }

    /// Scans every record, calling `visit` with each sequence and payload in order (the payload is
    /// valid only during the call).
    ///
    /// With `covered` (the sequence a snapshot includes), segments whose records all come at or
    /// before it are not read at all (they are still listed in ``JournalScan/skippedSegments``), and
    /// `visit` sees only the records after it. The first segment read must start at or before
    /// `covered + 1`, or records between the snapshot and the journal would be missing: that is
    /// ``StorageError/Code-swift.struct/corrupted``.
    ///
    /// With `through`, the scan stops after that record and does not look past it: a journal being
    /// appended to may be read this way up to a durable sequence. A journal that ends before
    /// `through` is ``StorageError/Code-swift.struct/corrupted``.
    public func scan(
        after covered: UInt64 = 0,
        through last: UInt64? = nil,
        _ visit: (UInt64, UnsafeRawBufferPointer) throws -> Void
    ) throws -> JournalScan {
        var scan = JournalScan()
        var names = try self.segmentNames()
        if covered > 0 {
            // Segment i holds sequences up to the next one's first minus one.
            var skipped = 0
            while skipped + 1 < names.count && names[skipped + 1].firstSequence <= covered + 1 {
                skipped += 1
            }
            scan.skippedSegments = skipped
            names.removeFirst(skipped)
        }
        // A log starts at sequence 1, and segments are archived, never deleted: a first segment
        // that starts later means records are missing.
        if let first = names.first, first.firstSequence > covered + 1 {
            throw StorageError(
                .corrupted,
                covered > 0
                    ? "the journal starts at sequence \(first.firstSequence); records \(covered + 1) to \(first.firstSequence - 1) after the snapshot are missing"
                    : "the journal starts at sequence \(first.firstSequence); records 1 to \(first.firstSequence - 1) are missing",
                path: self.path(of: first),
                sequence: covered + 1
            )
        }
        if let last, last <= covered {
            return scan
        }
        scan = try withoutActuallyEscaping(visit) { visit in
            try self.scanSegments(names, after: covered, through: last, into: scan) { sequence, payload in
                if sequence > covered {
                    try visit(sequence, payload)
                }
            }
        }
        if let last, (scan.lastSequence ?? covered) < last {
            throw StorageError(
                .corrupted,
                "the journal ends at sequence \(scan.lastSequence ?? covered), before \(last)",
                path: names.last.map { self.path(of: $0) } ?? self.directory,
                sequence: (scan.lastSequence ?? covered) + 1
            )
        }
        return scan
    }

    /// Where a segment's bytes are read from.
    func path(of segment: SegmentFile) -> FilePath {
        segment.isArchived
            ? JournalArchive.archivePath(of: self.directory).appending(JournalArchive.archivedName(of: segment.name))
            : self.directory.appending(segment.name)
    }

    /// Reads a whole segment into `buffer` (grown as needed) and returns its size: the file, or the
    /// decompressed archive copy.
    func load(_ segment: SegmentFile, into buffer: inout [UInt8]) throws -> Int {
        let path = self.path(of: segment)
        let file: FileDescriptor
        do {
            file = try self.fileSystem.openFile(path, create: false)
        } catch {
            // Archived since it was listed (the engine archives while others read): read the copy.
            var archived = segment
            archived.isArchived = true
            if !segment.isArchived && self.fileSystem.fileExists(self.path(of: archived)) {
                return try self.load(archived, into: &buffer)
            }
            throw error
        }
        defer { try? self.fileSystem.close(file) }
        let size = try self.fileSystem.size(of: file)
        guard size <= Int64(Int32.max) else {
            throw StorageError(.corrupted, "segment of \(size) bytes is larger than any Tally writes", path: path)
        }
        guard segment.isArchived else {
            if buffer.count < Int(size) {
                buffer = [UInt8](repeating: 0, count: Int(size))
            }
            let read = try buffer.withUnsafeMutableBytes { raw in
                try self.fileSystem.read(file, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<Int(size)]), at: 0)
            }
            guard read == Int(size) else {
                throw StorageError(.io, "read \(read) of \(size) bytes", path: path)
            }
            return Int(size)
        }
        var compressed = [UInt8](repeating: 0, count: Int(size))
        let read = try compressed.withUnsafeMutableBytes { try self.fileSystem.read(file, into: $0, at: 0) }
        guard read == Int(size) else {
            throw StorageError(.io, "read \(read) of \(size) bytes", path: path)
        }
        do {
            buffer = try compressed.withUnsafeBytes { try ZstdDecompressor.decompress($0, limit: Int(Int32.max)) }
            return buffer.count
        } catch let error as StorageError {
            throw StorageError(.corrupted, "archived segment does not decompress: \(error.message)", path: path)
        }
    }

    /// Checks the bytes of one closed segment (not the journal's last): its header, every record
    /// and the zeros after the last one (see the type's summary for what damage means).
    func checkClosedSegment(
        _ bytes: UnsafeRawBufferPointer,
        name: String,
        firstSequence: UInt64
    ) throws -> JournalScan.Segment {
        var expected: UInt64? = nil
        var reachedLast = false
        var scan = JournalScan()
        return try self.scanSegment(
            bytes,
            name: name,
            path: self.directory.appending(name),
            nameSequence: firstSequence,
            expected: &expected,
            isLast: false,
            through: nil,
            reachedLast: &reachedLast,
            scan: &scan
        ) { _, _ in }
    }

    private func scanSegments(
        _ names: [SegmentFile],
        after covered: UInt64,
        through last: UInt64?,
        into scan: JournalScan,
        _ visitAfter: (UInt64, UnsafeRawBufferPointer) throws -> Void
    ) throws -> JournalScan {
        var scan = scan
        var expected: UInt64? = nil
        var buffer: [UInt8] = []
        for (index, entry) in names.enumerated() {
            let path = self.path(of: entry)
            let size = try self.load(entry, into: &buffer)
            guard size >= JournalFormat.segmentHeaderBytes else {
                throw StorageError(.corrupted, "segment is shorter than its header", path: path, offset: 0)
            }
            let isLast = index == names.count - 1
            var reachedLast = false
            try buffer.withUnsafeBytes { raw in
                let bytes = UnsafeRawBufferPointer(rebasing: raw[0..<size])
                var segment = try self.scanSegment(
                    bytes,
                    name: entry.name,
                    path: path,
                    nameSequence: entry.firstSequence,
                    expected: &expected,
                    isLast: isLast,
                    through: last,
                    reachedLast: &reachedLast,
                    scan: &scan,
                    visitAfter
                )
                segment.isArchived = entry.isArchived
                scan.segments.append(segment)
            }
            if scan.tornTail != nil {
                precondition(isLast)
            }
            if reachedLast {
                break
            }
        }
        return scan
    }

    private func scanSegment(
        _ bytes: UnsafeRawBufferPointer,
        name: String,
        path: FilePath,
        nameSequence: UInt64,
        expected: inout UInt64?,
        isLast: Bool,
        through last: UInt64?,
        reachedLast: inout Bool,
        scan: inout JournalScan,
        _ visit: (UInt64, UnsafeRawBufferPointer) throws -> Void
    ) throws -> JournalScan.Segment {
        let header: JournalFormat.SegmentHeader
        switch JournalFormat.readSegmentHeader(bytes) {
        case .success(let decoded):
            header = decoded
        case .failure(.unsupportedVersion(let version)):
            throw StorageError(
                .unsupportedFormat,
                "journal format version \(version); this build reads version \(JournalFormat.version)",
                path: path,
                offset: 8
            )
        case .failure(let problem):
            throw StorageError(.corrupted, "segment header is damaged (\(problem))", path: path, offset: 0)
        }
        guard header.firstSequence == nameSequence else {
            throw StorageError(
                .corrupted,
                "segment header says first sequence \(header.firstSequence), its name says \(nameSequence)",
                path: path,
                offset: 16
            )
        }
        guard header.segmentBytes == UInt64(bytes.count) else {
            throw StorageError(
                .corrupted,
                "segment header says \(header.segmentBytes) bytes, the file has \(bytes.count)",
                path: path,
                offset: 24
            )
        }
        if let expected, header.firstSequence != expected {
            throw StorageError(
                .corrupted,
                "segment starts at sequence \(header.firstSequence) but the previous one ends before \(expected)",
                path: path,
                offset: 16,
                sequence: expected
            )
        }
        var next = header.firstSequence
        var offset = JournalFormat.segmentHeaderBytes
        var records: UInt64 = 0
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch JournalFormat.probeRecord(rest) {
            case .record(let record) where record.sequence == next && record.group <= record.sequence:
                let payload = JournalFormat.recordHeaderBytes..<JournalFormat.recordHeaderBytes + record.payloadBytes
                try visit(record.sequence, UnsafeRawBufferPointer(rebasing: rest[payload]))
                scan.firstSequence = scan.firstSequence ?? record.sequence
                scan.lastSequence = record.sequence
                scan.records += 1
                scan.payloadBytes += UInt64(record.payloadBytes)
                records += 1
                next += 1
                offset += JournalFormat.recordHeaderBytes + record.payloadBytes
                if record.sequence == last {
                    reachedLast = true
                    break
                }
                continue
            case .record(let record):
                throw StorageError(
                    .corrupted,
                    "record checks out but has sequence \(record.sequence) (group \(record.group))"
                        + " where \(next) was expected",
                    path: path,
                    offset: Int64(offset),
                    sequence: next
                )
            case .end, .invalid:
                try self.classifyEnd(
                    bytes,
                    at: offset,
                    expected: next,
                    recordIsInvalid: JournalFormat.probeRecord(rest) == .invalid,
                    isLast: isLast,
                    name: name,
                    path: path,
                    scan: &scan
                )
            }
            break
        }
        expected = next
        return JournalScan.Segment(
            name: name,
            firstSequence: header.firstSequence,
            bytes: Int64(bytes.count),
            records: records,
            end: Int64(offset)
        )
    }

    /// Decides what the first position without a valid record means (see the type's summary).
    private func classifyEnd(
        _ bytes: UnsafeRawBufferPointer,
        at offset: Int,
        expected: UInt64,
        recordIsInvalid: Bool,
        isLast: Bool,
        name: String,
        path: FilePath,
        scan: inout JournalScan
    ) throws {
        let lastNonZero = Self.lastNonZeroIndex(bytes, from: offset)
        guard isLast else {
            if recordIsInvalid {
                throw StorageError(
                    .corrupted,
                    "record fails its checks, and a later segment shows it had been synced",
                    path: path,
                    offset: Int64(offset),
                    sequence: expected
                )
            }
            if let lastNonZero {
                throw StorageError(
                    .corrupted,
                    "unexpected bytes after the last record of a closed segment (up to offset \(lastNonZero))",
                    path: path,
                    offset: Int64(offset),
                    sequence: expected
                )
            }
            return
        }
        guard let lastNonZero else {
            return  // a clean end
        }
        if let later = self.firstLaterGroupRecord(bytes, after: offset, lastStart: lastNonZero, expected: expected) {
            throw StorageError(
                .corrupted,
                "records stop here, but record \(later.sequence), written later (group \(later.group)),"
                    + " follows at offset \(later.offset)",
                path: path,
                offset: Int64(offset),
                sequence: expected
            )
        }
        scan.tornTail = JournalScan.TornTail(
            segment: name,
            offset: Int64(offset),
            sequence: expected,
            bytes: Int64(lastNonZero + 1 - offset)
        )
    }

    /// The index of the last non-zero byte in `bytes[start...]`, or nil when they are all zero.
    /// Whole pages are compared with `memcmp` from the end: the zeros after the last record are
    /// most of a segment, and a byte-by-byte search of 64 MiB takes seconds in a debug build.
    static func lastNonZeroIndex(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        let chunkBytes = 4_096
        var end = bytes.count
        return zeroChunk.withUnsafeBytes { zeros in
            while end > start {
                let chunkStart = max(start, end - chunkBytes)
                if memcmp(bytes.baseAddress! + chunkStart, zeros.baseAddress!, end - chunkStart) != 0 {
                    return bytes[chunkStart..<end].lastIndex(where: { $0 != 0 })
                }
                end = chunkStart
            }
            return nil
        }
    }

    private static let zeroChunk = [UInt8](repeating: 0, count: 4_096)

    /// The first record after `offset` that checks out, belongs after `expected` and was written by a
    /// later write than the one that held `expected` (its group starts after `expected`).
    private func firstLaterGroupRecord(
        _ bytes: UnsafeRawBufferPointer,
        after offset: Int,
        lastStart: Int,
        expected: UInt64
    ) -> (offset: Int, sequence: UInt64, group: UInt64)? {
        var position = offset + 1
        while let found = self.firstRecord(bytes, after: position - 1, lastStart: lastStart, expected: expected) {
            if found.group > expected {
                return found
            }
            position = found.offset + 1
        }
        return nil
    }

    /// The first offset in `offset + 1 ... lastStart` holding a record that checks out and plausibly
    /// belongs to this log after `expected`: its sequence at least `expected`, its group at most its
    /// sequence. The filters keep the byte-by-byte search from checksumming random lengths.
    private func firstRecord(
        _ bytes: UnsafeRawBufferPointer,
        after offset: Int,
        lastStart: Int,
        expected: UInt64
    ) -> (offset: Int, sequence: UInt64, group: UInt64)? {
        var position = offset + 1
        let limit = min(bytes.count - JournalFormat.recordHeaderBytes, lastStart)
        while position <= limit {
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
            if length == 0 {
                position += 1
                continue
            }
            let sequence = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 8, as: UInt64.self))
            let group = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 16, as: UInt64.self))
            let maximumSequence = expected &+ UInt64(bytes.count / JournalFormat.recordHeaderBytes)
            if length <= JournalFormat.recordPayloadBytesMax,
                position + JournalFormat.recordHeaderBytes + length <= bytes.count,
                sequence >= expected, sequence <= maximumSequence, group <= sequence, group > 0,
                case .record = JournalFormat.probeRecord(UnsafeRawBufferPointer(rebasing: bytes[position...]))
            {
                return (position, sequence, group)
            }
            position += 1
        }
        return nil
    }
}
