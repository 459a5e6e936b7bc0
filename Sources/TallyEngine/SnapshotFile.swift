import Foundation
import SystemPackage
import TallyCore
import TallyStorage

/// A snapshot: the whole ledger state as of one journal sequence, in one file of zstd-compressed
/// sections (docs/FORMATS.md, "Snapshot files", byte by byte).
///
/// A snapshot is written to a temporary name, synced, renamed to its final name and the directory
/// synced, so a crash leaves either no snapshot or a whole one. It is never trusted unchecked: the
/// header, the section table and every section carry a CRC-32C, every section is a zstd frame with
/// its own content checksum, the decoder checks every count, index and order, and
/// ``read(_:configuration:fileSystem:verifyDigest:)`` can also recompute the state digest.
public enum SnapshotFile {
    public static let magic: [UInt8] = Array("TALLYSNP".utf8)
    public static let trailerMagic: [UInt8] = Array("TSNPEND\0".utf8)
    public static let formatVersion: UInt16 = 1
    public static let headerBytes = 128
    public static let tableEntryBytes = 40
    public static let trailerBytes = 16
    /// The file name extension; names are `snapshot-<sequence, 20 digits>.tsnap`.
    public static let fileExtension = "tsnap"
    /// The most a section may decompress to (corrupt or hostile sizes are refused before reading).
    public static let sectionBytesMax = 1 << 40

    /// What a snapshot's header and section table say.
    public struct Info: Hashable, Sendable {
        public struct Section: Hashable, Sendable {
            public var section: LedgerState.Section
            public var offset: Int64
            public var compressedBytes: Int64
            public var uncompressedBytes: Int64
            public var checksum: UInt32
        }

        public var formatVersion: UInt16
        public var stateVersion: UInt16
        /// The last journal sequence the state includes: recovery replays from the next one.
        public var sequence: UInt64
        public var recordedTime: Timestamp
        public var transactions: UInt64
        public var accounts: UInt64
        public var retainedKeys: UInt64
        public var openHolds: UInt64
        public var digest: StateDigest
        /// Wall-clock time the snapshot was written (informational).
        public var createdUnixNanoseconds: UInt64
        public var sections: [Section]
        public var fileBytes: Int64

        public var compressedBytes: Int64 { self.sections.reduce(0) { $0 + $1.compressedBytes } }
        public var uncompressedBytes: Int64 { self.sections.reduce(0) { $0 + $1.uncompressedBytes } }
    }

    /// The file name of the snapshot covering through `sequence`.
    public static func name(sequence: UInt64) -> String {
        let digits = String(sequence)
        return "snapshot-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "."
            + Self.fileExtension
    }

    /// The sequence a snapshot file name stands for, or nil for any other name.
    public static func sequence(ofName name: String) -> UInt64? {
        let prefix = "snapshot-"
        let suffix = "." + Self.fileExtension
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count == prefix.count + 20 + suffix.count else {
            return nil
        }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(digits)
    }

    // MARK: - Writing

    /// Writes `ledger`, which includes every journal record through `sequence`, as the snapshot
    /// `directory/name(sequence:)`: compressed section by section at zstd `level`, synced, renamed
    /// into place and the directory synced. Returns what the file holds. A file of that name is
    /// replaced. `beforeRename` runs once the file is synced, before it takes its name: the engine
    /// waits there until `sequence` is durable, so that no snapshot ever covers a record a crash
    /// could take back.
    @discardableResult
    public static func write(
        _ ledger: Ledger,
        sequence: UInt64,
        to directory: FilePath,
        fileSystem: any FileSystem = SystemFileSystem(),
        level: Int32 = Zstd.levelDefault,
        digest: StateDigest? = nil,
        beforeRename: () throws -> Void = {}
    ) throws -> Info {
        let final = directory.appending(Self.name(sequence: sequence))
        let temporary = directory.appending(Self.name(sequence: sequence) + ".tmp")
        if fileSystem.fileExists(temporary) {
            try fileSystem.removeFile(temporary)
        }
        let file = try fileSystem.openFile(temporary, create: true)
        var closed = false
        defer {
            if !closed {
                try? fileSystem.close(file)
                try? fileSystem.removeFile(temporary)
            }
        }
        let statistics = ledger.statistics
        let sectionCount = LedgerState.Section.allCases.count
        var offset = Int64(Self.headerBytes + sectionCount * Self.tableEntryBytes + 4)
        var sections: [Info.Section] = []
        var compressor = try ZstdCompressor(level: level)
        for section in LedgerState.Section.allCases {
            let start = offset
            var checksum: UInt32 = 0
            var uncompressed: Int64 = 0
            var pending: [UInt8] = []
            pending.reserveCapacity(1 << 20)
            func flush() throws {
                guard !pending.isEmpty else { return }
                try pending.withUnsafeBytes { try fileSystem.write(file, $0, at: offset) }
                checksum = CRC32C.checksum(pending, continuing: checksum)
                offset += Int64(pending.count)
                pending.removeAll(keepingCapacity: true)
            }
            let sink: (UnsafeRawBufferPointer) throws -> Void = { compressed in
                pending.append(contentsOf: compressed)
                if pending.count >= 1 << 20 {
                    try flush()
                }
            }
            // The closure given to encodeState escapes in type only: it runs before the call returns.
            try withoutActuallyEscaping(sink) { sink in
                try ledger.encodeState(section) { bytes in
                    uncompressed += Int64(bytes.count)
                    try compressor.compress(bytes, output: sink)
                }
                try compressor.finish(output: sink)
            }
            try flush()
            sections.append(
                Info.Section(
                    section: section,
                    offset: start,
                    compressedBytes: offset - start,
                    uncompressedBytes: uncompressed,
                    checksum: checksum
                )
            )
        }
        let info = Info(
            formatVersion: Self.formatVersion,
            stateVersion: LedgerState.version,
            sequence: sequence,
            recordedTime: statistics.recordedTime,
            transactions: statistics.transactions,
            accounts: UInt64(statistics.accounts),
            retainedKeys: UInt64(statistics.retainedKeys),
            openHolds: UInt64(statistics.openHolds),
            digest: digest ?? ledger.digest(),
            createdUnixNanoseconds: UInt64(Date().timeIntervalSince1970 * 1e9),
            sections: sections,
            fileBytes: offset + Int64(Self.trailerBytes)
        )
        var trailer = Self.trailerMagic
        Self.append(UInt64(info.fileBytes), to: &trailer)
        try trailer.withUnsafeBytes { try fileSystem.write(file, $0, at: offset) }
        let front = Self.encodeFront(info)
        try front.withUnsafeBytes { try fileSystem.write(file, $0, at: 0) }
        try fileSystem.synchronize(file)
        try beforeRename()
        closed = true
        try fileSystem.close(file)
        try fileSystem.rename(temporary, to: final)
        let handle = try fileSystem.openDirectory(directory)
        defer { try? fileSystem.close(handle) }
        try fileSystem.synchronize(handle)
        return info
    }

    /// Header, section table and the table's checksum.
    static func encodeFront(_ info: Info) -> [UInt8] {
        var header: [UInt8] = Self.magic
        Self.append(info.formatVersion, to: &header)
        Self.append(info.stateVersion, to: &header)
        Self.append(UInt32(info.sections.count), to: &header)
        Self.append(info.sequence, to: &header)
        Self.append(info.recordedTime.nanosecondsSinceEpoch, to: &header)
        Self.append(info.transactions, to: &header)
        Self.append(info.accounts, to: &header)
        Self.append(info.retainedKeys, to: &header)
        Self.append(info.openHolds, to: &header)
        Self.append(info.createdUnixNanoseconds, to: &header)
        Self.append(UInt64(info.fileBytes), to: &header)
        header += info.digest.bytes
        header += [UInt8](repeating: 0, count: Self.headerBytes - 4 - header.count)
        Self.append(CRC32C.checksum(header), to: &header)
        var table: [UInt8] = []
        for section in info.sections {
            Self.append(section.section.rawValue, to: &table)
            Self.append(UInt16(0), to: &table)
            Self.append(section.checksum, to: &table)
            Self.append(UInt64(section.offset), to: &table)
            Self.append(UInt64(section.compressedBytes), to: &table)
            Self.append(UInt64(section.uncompressedBytes), to: &table)
            Self.append(UInt64(0), to: &table)
        }
        Self.append(CRC32C.checksum(table), to: &table)
        return header + table
    }

    static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    // MARK: - Reading

    /// Reads and checks the header, the section table and the trailer (not the sections).
    public static func inspect(_ path: FilePath, fileSystem: any FileSystem = SystemFileSystem()) throws -> Info {
        let file = try fileSystem.openFile(path, create: false)
        defer { try? fileSystem.close(file) }
        return try Self.readFront(file, path: path, fileSystem: fileSystem)
    }

    private static func readFront(_ file: FileDescriptor, path: FilePath, fileSystem: any FileSystem) throws -> Info {
        func corrupted(_ message: String, at offset: Int64? = nil) -> StorageError {
            StorageError(.corrupted, "snapshot \(path): \(message)", path: path, offset: offset)
        }
        let size = try fileSystem.size(of: file)
        guard size >= Int64(Self.headerBytes) else { throw corrupted("only \(size) bytes, shorter than a header") }
        var header = [UInt8](repeating: 0, count: Self.headerBytes)
        _ = try header.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: 0) }
        guard Array(header[0..<8]) == Self.magic else { throw corrupted("not a snapshot file (bad magic)", at: 0) }
        var reader = FieldReader(header)
        reader.skip(8)
        let formatVersion: UInt16 = reader.next()
        guard formatVersion == Self.formatVersion else {
            throw StorageError(
                .unsupportedFormat,
                "snapshot \(path): format version \(formatVersion); this build reads version \(Self.formatVersion)",
                path: path
            )
        }
        let storedHeaderChecksum = header.withUnsafeBytes {
            $0.loadUnaligned(fromByteOffset: Self.headerBytes - 4, as: UInt32.self).littleEndian
        }
        guard CRC32C.checksum(Array(header[0..<Self.headerBytes - 4])) == storedHeaderChecksum else {
            throw corrupted("the header's checksum does not match", at: 0)
        }
        let stateVersion: UInt16 = reader.next()
        let sectionCount = Int(reader.next(UInt32.self))
        let sequence: UInt64 = reader.next()
        let recordedTime: UInt64 = reader.next()
        let transactions: UInt64 = reader.next()
        let accounts: UInt64 = reader.next()
        let retainedKeys: UInt64 = reader.next()
        let openHolds: UInt64 = reader.next()
        let created: UInt64 = reader.next()
        let fileBytes: UInt64 = reader.next()
        let digest = StateDigest(bytes: header[reader.offset..<reader.offset + 32])!
        guard stateVersion == LedgerState.version else {
            throw StorageError(
                .unsupportedFormat,
                "snapshot \(path): ledger state version \(stateVersion); this build reads \(LedgerState.version)",
                path: path
            )
        }
        guard sectionCount == LedgerState.Section.allCases.count else {
            throw corrupted("\(sectionCount) sections; version 1 has \(LedgerState.Section.allCases.count)")
        }
        guard fileBytes == UInt64(size) else {
            throw corrupted("the file has \(size) bytes; its header says \(fileBytes) (truncated or extended)")
        }
        let tableBytes = sectionCount * Self.tableEntryBytes + 4
        var table = [UInt8](repeating: 0, count: tableBytes)
        let read = try table.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: Int64(Self.headerBytes)) }
        guard read == tableBytes else { throw corrupted("the section table is cut short", at: Int64(Self.headerBytes)) }
        let storedTableChecksum = table.withUnsafeBytes {
            $0.loadUnaligned(fromByteOffset: tableBytes - 4, as: UInt32.self).littleEndian
        }
        guard CRC32C.checksum(Array(table[0..<tableBytes - 4])) == storedTableChecksum else {
            throw corrupted("the section table's checksum does not match", at: Int64(Self.headerBytes))
        }
        var trailer = [UInt8](repeating: 0, count: Self.trailerBytes)
        _ = try trailer.withUnsafeMutableBytes {
            try fileSystem.read(file, into: $0, at: size - Int64(Self.trailerBytes))
        }
        var trailerReader = FieldReader(trailer)
        trailerReader.skip(8)
        guard Array(trailer[0..<8]) == Self.trailerMagic, trailerReader.next(UInt64.self) == UInt64(size) else {
            throw corrupted(
                "the trailer is missing or wrong (an unfinished file?)",
                at: size - Int64(Self.trailerBytes)
            )
        }
        var sections: [Info.Section] = []
        var tableReader = FieldReader(table)
        var expectedOffset = Int64(Self.headerBytes + tableBytes)
        for expected in LedgerState.Section.allCases {
            let raw: UInt16 = tableReader.next()
            tableReader.skip(2)
            let checksum: UInt32 = tableReader.next()
            let offset = Int64(bitPattern: tableReader.next())
            let compressed = Int64(bitPattern: tableReader.next())
            let uncompressed = Int64(bitPattern: tableReader.next())
            tableReader.skip(8)
            guard raw == expected.rawValue else { throw corrupted("section \(raw) where \(expected) was expected") }
            guard offset == expectedOffset, compressed > 0, compressed <= size - offset - Int64(Self.trailerBytes),
                uncompressed >= 0, uncompressed <= Int64(Self.sectionBytesMax)
            else {
                throw corrupted("section \(expected) has an impossible place or size")
            }
            sections.append(
                Info.Section(
                    section: expected,
                    offset: offset,
                    compressedBytes: compressed,
                    uncompressedBytes: uncompressed,
                    checksum: checksum
                )
            )
            expectedOffset = offset + compressed
        }
        guard expectedOffset == size - Int64(Self.trailerBytes) else {
            throw corrupted("the sections do not end where the trailer starts")
        }
        return Info(
            formatVersion: formatVersion,
            stateVersion: stateVersion,
            sequence: sequence,
            recordedTime: Timestamp(nanosecondsSinceEpoch: recordedTime),
            transactions: transactions,
            accounts: accounts,
            retainedKeys: retainedKeys,
            openHolds: openHolds,
            digest: digest,
            createdUnixNanoseconds: created,
            sections: sections,
            fileBytes: size
        )
    }

    /// Reads the snapshot at `path` into a ledger under `configuration` (whose windows must be the
    /// snapshot's). Every section is checksummed, decompressed and decoded with every check; with
    /// `verifyDigest` the restored state's digest must also equal the header's (this costs a walk
    /// of the whole state). Throws ``StorageError`` (`corrupted`, `unsupportedFormat`, `io`).
    public static func read(
        _ path: FilePath,
        configuration: LedgerConfiguration,
        fileSystem: any FileSystem = SystemFileSystem(),
        verifyDigest: Bool = false
    ) throws -> (ledger: Ledger, info: Info) {
        let file = try fileSystem.openFile(path, create: false)
        defer { try? fileSystem.close(file) }
        let info = try Self.readFront(file, path: path, fileSystem: fileSystem)
        var decoder = LedgerStateDecoder(configuration: configuration)
        func corrupted(_ error: LedgerState.DecodingError, _ section: Info.Section) -> StorageError {
            StorageError(.corrupted, "snapshot \(path): \(error)", path: path, offset: section.offset)
        }
        // Two cores: this thread decodes every section but the keys, which another thread decodes
        // at the same time (the largest section by far in a large state); each has a thread of its
        // own reading, checking and decompressing its sections ahead of it.
        let keysSection = info.sections.first { $0.section == .keys }!
        let reader = SnapshotSectionReader(
            file: file,
            path: path,
            sections: info.sections.filter { $0.section != .keys },
            fileSystem: fileSystem
        )
        let keysReader = SnapshotSectionReader(file: file, path: path, sections: [keysSection], fileSystem: fileSystem)
        var keys: DetachedDecoding<DecodedKeys>? = nil
        defer {
            // The readers stop first, so that the keys' thread cannot wait on its reader forever.
            reader.stop()
            keysReader.stop()
            keys?.wait()
        }
        for section in info.sections {
            if section.section == .keys {
                do {
                    try decoder.adopt(try keys!.take().get())
                } catch let error as LedgerState.DecodingError {
                    throw corrupted(error, section)
                }
                continue
            }
            let input = reader.stream(for: section)
            do {
                try decoder.decode(section.section, from: input)
                try input.finish()
                if section.section == .counters {
                    let keysDecoder = try decoder.keysDecoder()
                    keys = DetachedDecoding(name: "tally-snap-keys") {
                        let input = keysReader.stream(for: keysSection)
                        let decoded = try keysDecoder.decode(from: input)
                        try input.finish()
                        return decoded
                    }
                }
            } catch let error as LedgerState.DecodingError {
                throw corrupted(error, section)
            }
        }
        let ledger: Ledger
        do {
            ledger = try decoder.finish()
        } catch {
            throw StorageError(.corrupted, "snapshot \(path): \(error)", path: path)
        }
        if verifyDigest {
            let digest = ledger.digest()
            guard digest == info.digest else {
                throw StorageError(
                    .corrupted,
                    "snapshot \(path): the restored state's digest \(digest) differs from the header's \(info.digest)",
                    path: path
                )
            }
        }
        return (ledger, info)
    }
}

/// Little-endian fields from the front of a byte array (bounds are the caller's: it reads fixed
/// layouts of known size).
private struct FieldReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func skip(_ count: Int) {
        self.offset += count
    }

    mutating func next<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        let value = self.bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: self.offset, as: T.self) }
        self.offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }
}
