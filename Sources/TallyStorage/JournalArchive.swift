import SystemPackage

/// The journal's archive: zstd-compressed copies of closed segments whose records every kept
/// snapshot already includes (docs/FORMATS.md, "Archived segments").
///
/// The journal is the audit log, so a segment is never deleted: it is compressed into
/// `journal/archive/<segment name>.zst`, the copy is decompressed and compared with the original
/// byte for byte, synced and renamed into place, and only then is the original removed. A crash at
/// any step leaves the segment readable in one place or both; ``JournalScanner`` reads archived
/// segments like the others (preferring the original while both exist), so `tally journal verify`
/// and a replay from empty still cover the whole history.
public struct JournalArchive: Sendable {
    public static let directoryName = "archive"
    public static let fileExtension = "zst"

    /// The journal directory whose closed segments are archived.
    public let directory: FilePath
    public let fileSystem: any FileSystem
    /// The zstd level of the copies.
    public let level: Int32

    public init(directory: FilePath, fileSystem: any FileSystem = SystemFileSystem(), level: Int32 = Zstd.levelDefault)
    {
        self.directory = directory
        self.fileSystem = fileSystem
        self.level = level
    }

    /// The archive folder of the journal in `journal`.
    public static func archivePath(of journal: FilePath) -> FilePath {
        journal.appending(Self.directoryName)
    }

    /// The archive's file name for a segment.
    public static func archivedName(of segment: String) -> String {
        segment + "." + Self.fileExtension
    }

    /// The segment an archive file name stands for, or nil for any other name.
    public static func segmentName(ofArchived name: String) -> String? {
        let suffix = "." + Self.fileExtension
        guard name.hasSuffix(suffix) else { return nil }
        let segment = String(name.dropLast(suffix.count))
        return JournalFormat.firstSequence(ofSegmentNamed: segment) == nil ? nil : segment
    }

    /// A segment moved into the archive.
    public struct Archived: Hashable, Sendable {
        public var name: String
        public var firstSequence: UInt64
        public var records: UInt64
        /// The segment's size, and its compressed copy's.
        public var segmentBytes: Int64
        public var archivedBytes: Int64
    }

    public var archivePath: FilePath { Self.archivePath(of: self.directory) }

    /// Archives every closed segment whose records all come at or before `covered` (the sequence
    /// of the oldest snapshot kept), oldest first. The last segment is never archived: the journal
    /// appends to it. A segment that fails its checks is not archived; the error names it, and
    /// the segments before it stay archived.
    @discardableResult
    public func archive(coveredThrough covered: UInt64) throws -> [Archived] {
        try self.removeUnfinished()
        let scanner = JournalScanner(directory: self.directory, fileSystem: self.fileSystem)
        let segments = try scanner.segmentNames()
        var archived: [Archived] = []
        var buffer: [UInt8] = []
        for index in segments.indices.dropLast() {
            let segment = segments[index]
            let next = segments[index + 1].firstSequence
            guard next - 1 <= covered else { break }
            guard !segment.isArchived else { continue }
            archived.append(try self.archive(segment, endingBefore: next, scanner: scanner, buffer: &buffer))
        }
        return archived
    }

    /// Removes what an interrupted archiving left (`*.zst.tmp`): never renamed into place, so the
    /// original segment is still in the journal directory.
    public func removeUnfinished() throws {
        guard self.fileSystem.fileExists(self.archivePath) else { return }
        for name in try self.fileSystem.contentsOfDirectory(self.archivePath)
        where name.hasSuffix("." + Self.fileExtension + ".tmp") {
            try self.fileSystem.removeFile(self.archivePath.appending(name))
        }
    }

    private func archive(
        _ segment: JournalScanner.SegmentFile,
        endingBefore next: UInt64,
        scanner: JournalScanner,
        buffer: inout [UInt8]
    ) throws -> Archived {
        let original = self.directory.appending(segment.name)
        let size = try scanner.load(segment, into: &buffer)
        let checked = try buffer.withUnsafeBytes { raw in
            try scanner.checkClosedSegment(
                UnsafeRawBufferPointer(rebasing: raw[0..<size]),
                name: segment.name,
                firstSequence: segment.firstSequence
            )
        }
        guard segment.firstSequence + checked.records == next else {
            throw StorageError(
                .corrupted,
                "segment holds \(checked.records) records but the next segment starts at sequence \(next)",
                path: original
            )
        }
        let compressed = try buffer.withUnsafeBytes { raw in
            try ZstdCompressor.compress(UnsafeRawBufferPointer(rebasing: raw[0..<size]), level: self.level)
        }
        // The copy must give back exactly the original before the original may go.
        let restored = try compressed.withUnsafeBytes {
            try ZstdDecompressor.decompress($0, expectedBytes: size, limit: size)
        }
        guard restored.elementsEqual(buffer[0..<size]) else {
            throw StorageError(.corrupted, "the compressed copy does not decompress to the segment", path: original)
        }

        if !self.fileSystem.fileExists(self.archivePath) {
            try self.fileSystem.createDirectory(self.archivePath)
            try Journal.synchronizeDirectory(self.directory, fileSystem: self.fileSystem)
        }
        let final = self.archivePath.appending(Self.archivedName(of: segment.name))
        let temporary = self.archivePath.appending(Self.archivedName(of: segment.name) + ".tmp")
        let file = try self.fileSystem.openFile(temporary, create: true)
        do {
            try self.fileSystem.resize(file, to: 0)
            try compressed.withUnsafeBytes { try self.fileSystem.write(file, $0, at: 0) }
            try self.fileSystem.synchronize(file)
            try self.fileSystem.close(file)
        } catch {
            try? self.fileSystem.close(file)
            try? self.fileSystem.removeFile(temporary)
            throw error
        }
        try self.fileSystem.rename(temporary, to: final)
        try Journal.synchronizeDirectory(self.archivePath, fileSystem: self.fileSystem)
        // Only now, with the copy durable under its name, does the original go.
        try self.fileSystem.removeFile(original)
        try Journal.synchronizeDirectory(self.directory, fileSystem: self.fileSystem)
        return Archived(
            name: segment.name,
            firstSequence: segment.firstSequence,
            records: checked.records,
            segmentBytes: Int64(size),
            archivedBytes: Int64(compressed.count)
        )
    }
}
