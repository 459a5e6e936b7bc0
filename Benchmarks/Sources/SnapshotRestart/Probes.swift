import CommitBenchmarkSupport
import Foundation
import Synchronization
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage

#if canImport(Glibc)
import Glibc
#endif

/// The most the process has had resident so far, in bytes: `VmHWM` of /proc/self/status. (Not
/// getrusage's ru_maxrss, which Linux carries over from the parent across fork and exec: a child of
/// the harness that built the state would report the harness's peak.)
func processPeakResidentBytes() -> Int {
    for line in (readSmallFile("/proc/self/status") ?? "").split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kilobytes * 1_024
    }
    return 0
}

/// CPU time of the whole process so far (user and system, every thread), in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// One restart, in a process of its own: `Engine.open` on the data directory with the engine's
/// default configuration (snapshots on, no digest after recovery, no snapshot digest check), then
/// the first balance read.
struct RestartSample: Codable {
    /// From the call of `Engine.open` to the first balance answered.
    var servingSeconds: Double
    /// `Engine.open` alone.
    var openSeconds: Double
    /// From the return of `Engine.open` to the first balance answered.
    var firstReadSeconds: Double
    /// Lock, ledger settings: up to the first look at the snapshots folder.
    var directorySeconds: Double
    /// The snapshots folder, the newest snapshot read, checked and decoded: up to the first look at
    /// the journal.
    var snapshotSeconds: Double
    /// Journal scan, replay of the records after the snapshot, the writer started.
    var journalSeconds: Double
    /// `Recovery.nanoseconds`, the engine's own figure (open to serving, without a digest).
    var recoverySeconds: Double
    var recordsReplayed: UInt64
    var operationsReplayed: UInt64
    var snapshotSequence: UInt64?
    var peakResidentBytes: Int
    /// CPU time of every thread of the process from the call of `Engine.open` to the first balance.
    var cpuSeconds: Double
    var cold: Bool

    static func measure(dataDirectory: String, cold: Bool) throws -> RestartSample {
        let fileSystem = MarkingFileSystem(dataDirectory: FilePath(dataDirectory))
        let cpuStarted = processCPUSeconds()
        let started = monotonicNanoseconds()
        let (engine, recovery) = try Engine.open(
            // The defaults but one, which acts only after serving: no snapshot at close, so that
            // every run replays the same tail.
            Engine.Configuration(dataDirectory: FilePath(dataDirectory), snapshotOnClose: false),
            fileSystem: fileSystem
        )
        let opened = monotonicNanoseconds()
        let balance = try blocking {
            try await engine.read(.durable) { $0.balance(of: StateShape.account(StateShape.pspCount + 1)) }
        }
        let served = monotonicNanoseconds()
        let cpuSeconds = processCPUSeconds() - cpuStarted
        guard balance != nil else { throw HarnessFailure(description: "the first read found no account") }
        let peak = processPeakResidentBytes()
        try engine.close()
        let marks = fileSystem.marks
        guard let snapshotStart = marks.snapshots, let journalStart = marks.journal else {
            throw HarnessFailure(description: "the restart never looked at the snapshots or the journal")
        }
        return RestartSample(
            servingSeconds: Double(served - started) / 1e9,
            openSeconds: Double(opened - started) / 1e9,
            firstReadSeconds: Double(served - opened) / 1e9,
            directorySeconds: Double(snapshotStart - started) / 1e9,
            snapshotSeconds: Double(journalStart - snapshotStart) / 1e9,
            journalSeconds: Double(opened - journalStart) / 1e9,
            recoverySeconds: Double(recovery.nanoseconds) / 1e9,
            recordsReplayed: recovery.recordsReplayed,
            operationsReplayed: recovery.operationsReplayed,
            snapshotSequence: recovery.snapshot?.sequence,
            peakResidentBytes: peak,
            cpuSeconds: cpuSeconds,
            cold: cold
        )
    }
}

/// `SnapshotFile.read` of the newest snapshot, in a process of its own; then, section by section,
/// the same work taken apart (pread, CRC-32C, zstd, decode) with the public pieces, and the state
/// digest that `verifySnapshotDigest` would add.
struct DecodeSample: Codable {
    struct Section: Codable {
        var name: String
        var compressedBytes: Int64
        var uncompressedBytes: Int64
        var readSeconds: Double
        var checksumSeconds: Double
        var decompressSeconds: Double
        var decodeSeconds: Double
    }

    /// `SnapshotFile.read`, the path restart takes.
    var readSeconds: Double
    /// CPU time of every thread of the process during `SnapshotFile.read`.
    var readCPUSeconds: Double
    /// CPU time of the calling thread during `SnapshotFile.read` (it decodes every section but the
    /// keys; other threads decompress and decode the keys).
    var readCallerCPUSeconds: Double
    var peakResidentBytes: Int
    var sections: [Section]
    /// `Ledger.digest()` of the restored state.
    var digestSeconds: Double

    static func measure(snapshot path: FilePath, configuration: LedgerConfiguration) throws -> DecodeSample {
        let cpuStarted = processCPUSeconds()
        let threadStarted = threadCPUNanoseconds()
        let started = monotonicNanoseconds()
        var loaded: (ledger: Ledger, info: SnapshotFile.Info)? = try SnapshotFile.read(
            path,
            configuration: configuration
        )
        let readSeconds = seconds(since: started)
        let readCPUSeconds = processCPUSeconds() - cpuStarted
        let readCallerCPUSeconds = Double(threadCPUNanoseconds() - threadStarted) / 1e9
        let peak = processPeakResidentBytes()
        let digestStarted = monotonicNanoseconds()
        _ = loaded!.ledger.digest()
        let digestSeconds = seconds(since: digestStarted)
        let info = loaded!.info
        loaded = nil

        // Taken apart: each step over the whole section, so each is timed alone.
        let file = try FileDescriptor.open(path, .readOnly)
        defer { try? file.close() }
        var decoder = LedgerStateDecoder(configuration: configuration)
        var sections: [Section] = []
        for section in info.sections {
            var compressed = [UInt8](repeating: 0, count: Int(section.compressedBytes))
            let readStarted = monotonicNanoseconds()
            var got = 0
            while got < compressed.count {
                let count = try compressed.withUnsafeMutableBytes {
                    try file.read(
                        fromAbsoluteOffset: section.offset + Int64(got),
                        into: UnsafeMutableRawBufferPointer(rebasing: $0[got...])
                    )
                }
                guard count > 0 else { throw HarnessFailure(description: "short read of \(path)") }
                got += count
            }
            let readDone = monotonicNanoseconds()
            let checksum = CRC32C.checksum(compressed)
            let checksumDone = monotonicNanoseconds()
            guard checksum == section.checksum else { throw HarnessFailure(description: "checksum of \(path)") }
            let bytes = try compressed.withUnsafeBytes {
                try ZstdDecompressor.decompress(
                    $0,
                    expectedBytes: Int(section.uncompressedBytes),
                    limit: SnapshotFile.sectionBytesMax
                )
            }
            let decompressDone = monotonicNanoseconds()
            try decoder.decode(section.section, from: LedgerStateBytes(bytes))
            let decodeDone = monotonicNanoseconds()
            sections.append(
                Section(
                    name: "\(section.section)",
                    compressedBytes: section.compressedBytes,
                    uncompressedBytes: section.uncompressedBytes,
                    readSeconds: Double(readDone - readStarted) / 1e9,
                    checksumSeconds: Double(checksumDone - readDone) / 1e9,
                    decompressSeconds: Double(decompressDone - checksumDone) / 1e9,
                    decodeSeconds: Double(decodeDone - decompressDone) / 1e9
                )
            )
        }
        _ = try decoder.finish()
        return DecodeSample(
            readSeconds: readSeconds,
            readCPUSeconds: readCPUSeconds,
            readCallerCPUSeconds: readCallerCPUSeconds,
            peakResidentBytes: peak,
            sections: sections,
            digestSeconds: digestSeconds
        )
    }
}

/// ``SystemFileSystem`` that notes when a restart first looks at the snapshots folder and at the
/// journal, which splits `Engine.open` into its phases without touching the engine.
final class MarkingFileSystem: FileSystem, @unchecked Sendable {
    // @unchecked: `marks` is behind a Mutex; `system` is a stateless value.
    struct Marks {
        var snapshots: UInt64?
        var journal: UInt64?
    }

    private let system = SystemFileSystem()
    private let snapshotsPath: String
    private let journalPath: String
    private let state = Mutex(Marks())

    init(dataDirectory: FilePath) {
        self.snapshotsPath = dataDirectory.appending("snapshots").string
        self.journalPath = dataDirectory.appending("journal").string
    }

    var marks: Marks { self.state.withLock { $0 } }

    private func note(_ path: FilePath) {
        let text = path.string
        if text.hasPrefix(self.snapshotsPath) {
            let now = monotonicNanoseconds()
            self.state.withLock { if $0.snapshots == nil { $0.snapshots = now } }
        } else if text.hasPrefix(self.journalPath) {
            let now = monotonicNanoseconds()
            self.state.withLock { if $0.journal == nil { $0.journal = now } }
        }
    }

    func openFile(_ path: FilePath, create: Bool) throws -> FileDescriptor {
        self.note(path)
        return try self.system.openFile(path, create: create)
    }

    func openDirectory(_ path: FilePath) throws -> FileDescriptor {
        self.note(path)
        return try self.system.openDirectory(path)
    }

    func close(_ file: FileDescriptor) throws { try self.system.close(file) }

    func write(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        try self.system.write(file, bytes, at: offset)
    }

    func read(_ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        try self.system.read(file, into: buffer, at: offset)
    }

    func synchronizeData(_ file: FileDescriptor) throws { try self.system.synchronizeData(file) }
    func synchronize(_ file: FileDescriptor) throws { try self.system.synchronize(file) }

    func allocate(_ file: FileDescriptor, offset: Int64, length: Int64) throws {
        try self.system.allocate(file, offset: offset, length: length)
    }

    func resize(_ file: FileDescriptor, to size: Int64) throws { try self.system.resize(file, to: size) }
    func size(of file: FileDescriptor) throws -> Int64 { try self.system.size(of: file) }
    func lockExclusively(_ file: FileDescriptor) throws -> Bool { try self.system.lockExclusively(file) }

    func createDirectory(_ path: FilePath) throws {
        self.note(path)
        try self.system.createDirectory(path)
    }

    func contentsOfDirectory(_ path: FilePath) throws -> [String] {
        self.note(path)
        return try self.system.contentsOfDirectory(path)
    }

    func rename(_ source: FilePath, to destination: FilePath) throws {
        self.note(source)
        try self.system.rename(source, to: destination)
    }

    func removeFile(_ path: FilePath) throws {
        self.note(path)
        try self.system.removeFile(path)
    }

    func fileExists(_ path: FilePath) -> Bool {
        self.note(path)
        return self.system.fileExists(path)
    }
}

/// Drops the page cache of every file under `directory` (`posix_fadvise` DONTNEED: only these
/// files, nothing else on the machine), so that the next restart reads them from the disk.
func evictFromPageCache(_ directory: String) {
    guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return }
    for case let name as String in enumerator {
        let path = directory + "/" + name
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { continue }
        _ = posix_fadvise(file, 0, 0, Int32(POSIX_FADV_DONTNEED))
        close(file)
    }
}
