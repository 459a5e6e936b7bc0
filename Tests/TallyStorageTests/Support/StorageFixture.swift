import Foundation
import Synchronization
import SystemPackage
import TallyTestKit
import Testing

@testable import TallyStorage

/// Runs `body` with a fresh directory under the system's temporary directory, removed afterwards.
func withTemporaryDirectory<Result>(_ body: (FilePath) throws -> Result) throws -> Result {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("tally-storage-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(FilePath(url.path))
}

/// A record as replay hands it over.
struct Record: Hashable, CustomStringConvertible {
    var sequence: UInt64
    var payload: [UInt8]

    var description: String { "#\(self.sequence) (\(self.payload.count) bytes)" }
}

/// A deterministic payload of `count` bytes, none of them zero (so that a record's last non-zero
/// byte is its last byte, which makes torn-tail lengths exact), different for every `seed`.
/// Beyond 4093 bytes the random block repeats; 4093 is prime, so no two pages are alike.
func payload(_ count: Int, seed: UInt64) -> [UInt8] {
    var random = SeededRandom(seed: seed)
    let block = (0..<min(count, 4_093)).map { _ in UInt8(truncatingIfNeeded: random.next() % 255 + 1) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count {
        bytes.append(contentsOf: block[0..<min(block.count, count - bytes.count)])
    }
    return bytes
}

/// The segments of the smallest size a journal accepts, so that tests rotate often and cheaply.
let smallSegments = Journal.Configuration(segmentBytes: Journal.segmentBytesMin)

/// Collects what a journal's durable handler reports, from whichever thread reports it.
final class DurabilityLog: Sendable {
    private let events = Mutex<[Journal.Durability]>([])

    var handler: @Sendable (Journal.Durability) -> Void {
        { event in self.events.withLock { $0.append(event) } }
    }

    var all: [Journal.Durability] { self.events.withLock { $0 } }

    /// The sequences reported durable, in order.
    var durableSequences: [UInt64] {
        self.all.compactMap { event in
            if case .durable(let through) = event { return through }
            return nil
        }
    }

    /// The last sequence reported durable (0 when none was).
    var lastDurable: UInt64 { self.durableSequences.last ?? 0 }

    var failures: [StorageError] {
        self.all.compactMap { event in
            if case .failed(let error) = event { return error }
            return nil
        }
    }
}

/// Opens the journal in `directory` and collects what it replays.
func openJournal(
    _ directory: FilePath,
    fileSystem: any FileSystem = SystemFileSystem(),
    configuration: Journal.Configuration = smallSegments,
    log: DurabilityLog = DurabilityLog()
) throws -> (journal: Journal, scan: JournalScan, replayed: [Record]) {
    var replayed: [Record] = []
    let (journal, scan) = try Journal.open(
        directory: directory,
        fileSystem: fileSystem,
        configuration: configuration,
        replay: { sequence, bytes in replayed.append(Record(sequence: sequence, payload: Array(bytes))) },
        onDurable: log.handler
    )
    return (journal, scan, replayed)
}

/// Scans the journal in `directory` without opening it for writing.
func scanJournal(_ directory: FilePath) throws -> (scan: JournalScan, replayed: [Record]) {
    var replayed: [Record] = []
    let scan = try JournalScanner(directory: directory).scan { sequence, bytes in
        replayed.append(Record(sequence: sequence, payload: Array(bytes)))
    }
    return (scan, replayed)
}

/// Opening the journal in `directory` fails: returns the error (recording an issue when it does
/// not fail, or fails with something other than a ``StorageError``).
func openingFails(
    _ directory: FilePath,
    fileSystem: any FileSystem = SystemFileSystem(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> StorageError? {
    do {
        let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem)
        try? journal.close()
        Issue.record("the journal opened", sourceLocation: sourceLocation)
        return nil
    } catch let error as StorageError {
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The segment file names in `directory`, in log order.
func segmentNames(_ directory: FilePath) throws -> [String] {
    try JournalScanner(directory: directory).segmentNames().map { $0.name }
}

/// Every file name in `directory`, sorted.
func fileNames(_ directory: FilePath) throws -> [String] {
    try SystemFileSystem().contentsOfDirectory(directory).sorted()
}

/// Where a record lies in a segment file.
struct RecordLocation: Hashable {
    var sequence: UInt64
    var group: UInt64
    var offset: Int64
    var payloadBytes: Int

    var recordBytes: Int { JournalFormat.recordHeaderBytes + self.payloadBytes }
    var end: Int64 { self.offset + Int64(self.recordBytes) }
}

/// The records of a segment file that check out, front to back.
func recordLocations(_ path: FilePath) throws -> [RecordLocation] {
    let bytes = try fileBytes(path)
    var locations: [RecordLocation] = []
    var offset = JournalFormat.segmentHeaderBytes
    try bytes.withUnsafeBytes { raw in
        while case .record(let record) = JournalFormat.probeRecord(UnsafeRawBufferPointer(rebasing: raw[offset...])) {
            locations.append(
                RecordLocation(
                    sequence: record.sequence,
                    group: record.group,
                    offset: Int64(offset),
                    payloadBytes: record.payloadBytes
                )
            )
            offset += JournalFormat.recordHeaderBytes + record.payloadBytes
        }
        try #require(offset <= raw.count)
    }
    return locations
}

/// The whole content of a file.
func fileBytes(_ path: FilePath) throws -> [UInt8] {
    let fileSystem = SystemFileSystem()
    let file = try fileSystem.openFile(path, create: false)
    defer { try? fileSystem.close(file) }
    var bytes = [UInt8](repeating: 0, count: Int(try fileSystem.size(of: file)))
    let read = try bytes.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: 0) }
    try #require(read == bytes.count)
    return bytes
}

/// Overwrites bytes of a file at `offset`.
func overwrite(_ path: FilePath, at offset: Int64, with bytes: [UInt8]) throws {
    let fileSystem = SystemFileSystem()
    let file = try fileSystem.openFile(path, create: false)
    defer { try? fileSystem.close(file) }
    try bytes.withUnsafeBytes { try fileSystem.write(file, $0, at: offset) }
}

/// Flips one bit of a file.
func flipBit(_ path: FilePath, at offset: Int64, bit: Int = 3) throws {
    let bytes = try fileBytes(path)
    try overwrite(path, at: offset, with: [bytes[Int(offset)] ^ UInt8(1 << bit)])
}

/// Appends each record and waits until it is durable, so that every record is its own group (and a
/// later record on disk proves an earlier one was synced).
@discardableResult
func appendOneByOne(_ journal: Journal, _ payloads: [[UInt8]]) throws -> [UInt64] {
    try payloads.map { payload in
        let sequence = try journal.append(payload)
        try journal.waitUntilDurable(sequence)
        return sequence
    }
}

/// Runs `body`, which must throw a ``StorageError``; returns it.
func storageError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> StorageError? {
    do {
        try body()
        Issue.record("no error was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as StorageError {
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
