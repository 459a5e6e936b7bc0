import Foundation
import SystemPackage
import TallyStorage

/// A ``FileSystem`` for tests: it passes every call to another one (usually `SystemFileSystem`),
/// records every call, and on request makes calls fail, slows them down, holds them until
/// released, runs out of space, or loses power.
///
/// It is thread-safe: the journal calls it from its writer, sync and preparer threads. Every call
/// into the underlying file system that touches data runs under one lock, so a simulated power
/// loss sees no write half done; delays and holds wait outside the lock.
///
/// ## What it models
/// - **Failing calls.** ``failCalls(_:with:on:where:)``: the nth, or the nth and every later, call
///   of an operation (optionally only on matching paths) fails with an `Errno`, thrown as the
///   ``StorageError`` `SystemFileSystem` would throw, without reaching the underlying file system.
/// - **A full disk.** ``failWrites(afterBytes:with:shortWrite:where:)``: writes succeed until a byte
///   budget is spent; the write that crosses it either fails whole (nothing written) or writes the
///   bytes that fit and then fails, as a `pwrite` loop that got a short write and then ENOSPC does.
/// - **Slow and hanging calls.** ``delay(_:nanoseconds:where:)`` sleeps before a call;
///   ``hold(_:on:where:)`` blocks calls until ``release(_:)``. Whether a call fails is decided when
///   it starts, so a held call can be made to fail when released.
/// - **A power loss** (``simulatePowerLoss(tearing:)``): the machine loses its page cache. For every
///   4 KiB page (aligned in the file) written since its file's last successful `fdatasync` or
///   `fsync`, the file system kept the page's content as of that sync (read before the first write
///   to the page); the power loss writes that content back, so the file holds what was synced. With
///   ``Tearing/randomPages(seed:keptProbability:)`` each such page independently survives instead
///   (the kernel had written it back on its own before the loss), chosen by a seeded generator: a
///   multi-page write is torn at page boundaries. Afterwards the machine is off: every call fails
///   with EIO and changes nothing (the old process's threads can only fail), except that closing a
///   descriptor releases it. ``restart()`` turns the machine back on for the recovering process;
///   descriptors opened before the loss stay dead.
/// - **The call log** (``calls``): every call in the order it started, with its path (descriptors
///   are followed through renames), offset, length and outcome, for assertions such as "no
///   fdatasync was attempted after the failed one".
///
/// ## What it does not model
/// - **Metadata.** Creating, renaming, removing, allocating and resizing files are durable at once;
///   a missing directory sync loses nothing, so a test cannot catch one (the journal syncs the
///   directory after each rename). A file's size never reverts: a page past the size the file had
///   at its last sync reverts to zeros, and the file keeps its new size.
/// - **Tearing inside a page.** A page is all old or all new, as on a disk with 4 KiB atomic
///   writes; a disk with 512-byte sectors can tear inside a page. Tests damage files directly for
///   that, and for bit rot, lost writes the disk acknowledged, or misdirected writes.
/// - **The page cache after a failed sync.** Linux marks the pages of a failed `fsync` clean: reads
///   see the new data until the pages are evicted and the old data after, and a later sync reports
///   success. Here the data stays readable, and revertible by a power loss, as if never evicted.
/// - **Writes racing a sync of the same file.** A page written while a sync of its file runs is
///   treated as unsynced, together with every earlier unsynced write to that page. The journal
///   never writes a file while syncing it.
/// - **Files the wrapper did not open.** Writes through descriptors it did not return, or to the
///   same files through another instance, are not tracked. `fileExists` never fails.
public final class FaultInjectingFileSystem: FileSystem, @unchecked Sendable {
    // @unchecked: every stored property but the immutable `base` is guarded by `condition`.

    /// The calls of the ``FileSystem`` protocol.
    public enum Operation: String, Hashable, Sendable, CaseIterable {
        case openFile
        case openDirectory
        case close
        case write
        case read
        case synchronizeData
        case synchronize
        case allocate
        case resize
        case size
        case lockExclusively
        case createDirectory
        case contentsOfDirectory
        case rename
        case removeFile
        case fileExists
    }

    /// How a call ended.
    public enum Outcome: Hashable, Sendable {
        /// The call has not returned yet (it is running, delayed or held).
        case unfinished
        case succeeded
        /// It threw with this `Errno`, injected or real.
        case failed(Errno)
    }

    /// One call, as recorded in ``calls``.
    public struct Call: Hashable, Sendable, CustomStringConvertible {
        public var operation: Operation
        /// The path called with, or the path the descriptor was opened at (following renames);
        /// nil for a descriptor this file system did not return.
        public var path: FilePath?
        /// For `rename`, the new path.
        public var destination: FilePath?
        /// For `write`, `read` and `allocate`, the file offset.
        public var offset: Int64?
        /// For `write` and `read`, the bytes asked for; for `allocate`, the length; for `resize`,
        /// the new size.
        public var bytes: Int64?
        public var outcome: Outcome

        public var description: String {
            var text = "\(self.operation.rawValue)(\(self.path.map { $0.string } ?? "?")"
            if let destination = self.destination { text += " -> \(destination)" }
            if let offset = self.offset { text += " @\(offset)" }
            if let bytes = self.bytes { text += " #\(bytes)" }
            return text + ") \(self.outcome)"
        }
    }

    /// Which of the calls a fault matches it applies to, counted from when the fault is set.
    public enum Occurrence: Hashable, Sendable {
        /// Only the nth (1 is the next one).
        case nth(Int)
        /// The nth and every one after it.
        case fromNth(Int)

        /// Every one.
        public static let always = Occurrence.fromNth(1)

        /// Whether the `count`th matching call is one of them.
        func includes(_ count: Int) -> Bool {
            switch self {
            case .nth(let n): return count == n
            case .fromNth(let n): return count >= n
            }
        }
    }

    /// How much of the unsynced data survives a power loss.
    public enum Tearing: Hashable, Sendable {
        /// None: every page written since its file's last sync reverts.
        case none
        /// Each page written since its file's last sync survives with probability
        /// `keptProbability`, independently, drawn from a generator seeded with `seed`.
        case randomPages(seed: UInt64, keptProbability: Double = 0.5)
    }

    /// What a power loss did: the offsets of the pages that reverted and of those that survived,
    /// per file.
    public struct PowerLossReport: Hashable, Sendable {
        public var revertedPages: [FilePath: [Int64]] = [:]
        public var keptPages: [FilePath: [Int64]] = [:]
    }

    /// The page size of the crash model.
    public static let pageBytes = 4096

    /// A path predicate matching journal segment files.
    public static let segmentFiles: @Sendable (FilePath) -> Bool = { path in
        path.lastComponent.map { JournalFormat.firstSequence(ofSegmentNamed: $0.string) != nil } ?? false
    }

    /// A path predicate matching the journal's spare segments (files being prepared).
    public static let spareFiles: @Sendable (FilePath) -> Bool = { path in
        path.lastComponent.map { JournalFormat.isSpareName($0.string) } ?? false
    }

    private struct Fault {
        var operation: Operation
        var errno: Errno
        var occurrence: Occurrence
        var matches: (@Sendable (FilePath) -> Bool)?
        /// Matching calls seen since the fault was set.
        var seen = 0
    }

    private struct WriteBudget {
        var remainingBytes: Int64
        var errno: Errno
        var shortWrite: Bool
        var matches: (@Sendable (FilePath) -> Bool)?
    }

    private struct Slowdown {
        var operation: Operation
        var nanoseconds: UInt64
        var matches: (@Sendable (FilePath) -> Bool)?
    }

    private struct Hold {
        var id: Int
        var operation: Operation
        var occurrence: Occurrence
        var matches: (@Sendable (FilePath) -> Bool)?
        /// Matching calls seen since the hold was set.
        var seen = 0
    }

    /// A page written since its file's last sync.
    private struct UnsyncedPage {
        /// The page's content as of the last sync, zero-padded to a whole page.
        var original: [UInt8]
        /// The write counter at the page's last write.
        var lastWrite: UInt64
    }

    /// An open descriptor this file system returned.
    private struct Descriptor {
        var path: FilePath
        /// Opened before a power loss: every call on it fails.
        var isDead = false
    }

    /// The file system everything is passed to.
    public let base: any FileSystem
    private let condition = NSCondition()

    // Guarded by `condition`.
    private var log: [Call] = []
    private var faults: [Fault] = []
    private var writeBudget: WriteBudget?
    private var slowdowns: [Slowdown] = []
    private var holds: [Hold] = []
    private var holdsSet = 0
    private var heldCalls = 0
    private var descriptors: [Int32: Descriptor] = [:]
    /// Per path, by page index.
    private var unsyncedPages: [FilePath: [Int64: UnsyncedPage]] = [:]
    private var writeCounter: UInt64 = 0
    private var isOff = false

    public init(wrapping base: any FileSystem = SystemFileSystem()) {
        self.base = base
    }

    // MARK: - Programming faults

    /// Makes calls of `operation` fail with `errno` (on paths matching `matches`, when given): the
    /// nth, or the nth and every later one, counted from now. Faults add up; the first that applies
    /// decides.
    public func failCalls(
        _ operation: Operation,
        with errno: Errno,
        on occurrence: Occurrence = .always,
        where matches: (@Sendable (FilePath) -> Bool)? = nil
    ) {
        self.locked {
            self.faults.append(Fault(operation: operation, errno: errno, occurrence: occurrence, matches: matches))
        }
    }

    /// Lets writes (to paths matching `matches`, when given) use `budget` more bytes; the write
    /// that would go past it fails with `errno` (ENOSPC by default), after writing the bytes that
    /// fit when `shortWrite` is set, and so does every later write.
    public func failWrites(
        afterBytes budget: Int64,
        with errno: Errno = .noSpace,
        shortWrite: Bool = false,
        where matches: (@Sendable (FilePath) -> Bool)? = nil
    ) {
        precondition(budget >= 0)
        self.locked {
            self.writeBudget = WriteBudget(
                remainingBytes: budget,
                errno: errno,
                shortWrite: shortWrite,
                matches: matches
            )
        }
    }

    /// Sleeps `nanoseconds` at the start of every call of `operation` (on matching paths), outside
    /// the lock, before the call reaches the underlying file system.
    public func delay(
        _ operation: Operation,
        nanoseconds: UInt64,
        where matches: (@Sendable (FilePath) -> Bool)? = nil
    ) {
        self.locked {
            self.slowdowns.append(Slowdown(operation: operation, nanoseconds: nanoseconds, matches: matches))
        }
    }

    /// Blocks calls of `operation` (on matching paths; the nth, or the nth and every later one,
    /// counted from now) at their start until ``release(_:)``.
    public func hold(
        _ operation: Operation,
        on occurrence: Occurrence = .always,
        where matches: (@Sendable (FilePath) -> Bool)? = nil
    ) {
        self.locked {
            self.holdsSet += 1
            self.holds.append(Hold(id: self.holdsSet, operation: operation, occurrence: occurrence, matches: matches))
        }
    }

    /// Lets the held calls of `operation` go on, and later ones through.
    public func release(_ operation: Operation) {
        self.locked {
            self.holds.removeAll { $0.operation == operation }
            self.condition.broadcast()
        }
    }

    /// Removes every fault, write budget, delay and hold (held calls go on).
    public func clearFaults() {
        self.locked {
            self.faults = []
            self.writeBudget = nil
            self.slowdowns = []
            self.holds = []
            self.condition.broadcast()
        }
    }

    // MARK: - Observing

    /// Every call so far, in the order they started.
    public var calls: [Call] {
        self.locked { self.log }
    }

    /// The calls of `operation` so far.
    public func calls(of operation: Operation) -> [Call] {
        self.locked { self.log.filter { $0.operation == operation } }
    }

    /// Forgets the calls recorded so far.
    public func clearCalls() {
        self.locked { self.log = [] }
    }

    /// The number of calls blocked by ``hold(_:on:where:)`` right now.
    public var heldCallCount: Int {
        self.locked { self.heldCalls }
    }

    /// Waits until `predicate` holds for the call log and the number of held calls, or until
    /// `timeoutSeconds` pass; returns whether it held.
    @discardableResult
    public func waitUntil(
        timeoutSeconds: Double = 30,
        _ predicate: (_ calls: [Call], _ heldCalls: Int) -> Bool
    ) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        return self.locked {
            while !predicate(self.log, self.heldCalls) {
                if !self.condition.wait(until: deadline) {
                    return predicate(self.log, self.heldCalls)
                }
            }
            return true
        }
    }

    /// The files with data written since their last sync, and how many pages of it.
    public var unsyncedPageCounts: [FilePath: Int] {
        self.locked { self.unsyncedPages.filter { !$0.value.isEmpty }.mapValues { $0.count } }
    }

    // MARK: - Crashes

    /// Loses the page cache: writes back, for every page written since its file's last successful
    /// sync, the content it had at that sync, or with `tearing` only for a random subset of the
    /// pages. Then the machine is off until ``restart()``: every call fails with EIO.
    @discardableResult
    public func simulatePowerLoss(tearing: Tearing = .none) throws -> PowerLossReport {
        try self.locked {
            var report = PowerLossReport()
            var random: SeededRandom?
            var keptProbability = 0.0
            if case .randomPages(let seed, let probability) = tearing {
                random = SeededRandom(seed: seed)
                keptProbability = probability
            }
            // Sorted, so that a seed always tears the same pages.
            for path in self.unsyncedPages.keys.sorted(by: { $0.string < $1.string }) {
                let pages = self.unsyncedPages[path] ?? [:]
                guard !pages.isEmpty else { continue }
                let file = try self.base.openFile(path, create: false)
                defer { try? self.base.close(file) }
                let size = try self.base.size(of: file)
                for index in pages.keys.sorted() {
                    let start = index * Int64(Self.pageBytes)
                    if random?.chance(keptProbability) ?? false {
                        report.keptPages[path, default: []].append(start)
                        continue
                    }
                    report.revertedPages[path, default: []].append(start)
                    let count = Int(min(Int64(Self.pageBytes), size - start))
                    guard count > 0 else { continue }
                    try pages[index]!.original.withUnsafeBytes { bytes in
                        try self.base.write(file, UnsafeRawBufferPointer(rebasing: bytes[0..<count]), at: start)
                    }
                }
            }
            self.unsyncedPages = [:]
            for key in self.descriptors.keys {
                self.descriptors[key]!.isDead = true
            }
            self.isOff = true
            self.condition.broadcast()
            return report
        }
    }

    /// Turns the machine back on after ``simulatePowerLoss(tearing:)``: calls work again, except on
    /// descriptors opened before the loss.
    public func restart() {
        self.locked { self.isOff = false }
    }

    // MARK: - FileSystem

    public func openFile(_ path: FilePath, create: Bool) throws -> FileDescriptor {
        try self.perform(.openFile, path: path, name: "open") {
            let file = try self.base.openFile(path, create: create)
            self.descriptors[file.rawValue] = Descriptor(path: path)
            return file
        }
    }

    public func openDirectory(_ path: FilePath) throws -> FileDescriptor {
        try self.perform(.openDirectory, path: path, name: "open directory") {
            let file = try self.base.openDirectory(path)
            self.descriptors[file.rawValue] = Descriptor(path: path)
            return file
        }
    }

    public func close(_ file: FileDescriptor) throws {
        let wasDead = self.locked {
            guard self.descriptors[file.rawValue]?.isDead ?? false else { return false }
            // The process that held a dead descriptor is gone; closing it only releases it.
            let index = self.record(
                Call(operation: .close, path: self.descriptors[file.rawValue]?.path, outcome: .unfinished)
            )
            self.descriptors[file.rawValue] = nil
            try? self.base.close(file)
            self.finish(index, .succeeded)
            return true
        }
        guard !wasDead else { return }
        try self.perform(.close, file: file, name: "close") {
            self.descriptors[file.rawValue] = nil
            try self.base.close(file)
        }
    }

    public func write(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        try self.perform(.write, file: file, offset: offset, bytes: Int64(bytes.count), name: "pwrite") {
            let path = self.descriptors[file.rawValue]?.path
            var allowed = bytes.count
            var failure: Errno?
            if let budget = self.writeBudget, Self.matches(budget.matches, path) {
                if Int64(bytes.count) > budget.remainingBytes {
                    allowed = budget.shortWrite ? Int(budget.remainingBytes) : 0
                    failure = budget.errno
                    // The disk is full now: no later write fits, however small.
                    self.writeBudget!.remainingBytes = 0
                } else {
                    self.writeBudget!.remainingBytes -= Int64(allowed)
                }
            }
            if allowed > 0 {
                if let path {
                    try self.rememberOriginals(of: file, path: path, offset: offset, count: allowed)
                }
                try self.base.write(file, UnsafeRawBufferPointer(rebasing: bytes[0..<allowed]), at: offset)
            }
            if let failure {
                throw StorageError.systemCall("pwrite", failure)
            }
        }
    }

    public func read(
        _ file: FileDescriptor,
        into buffer: UnsafeMutableRawBufferPointer,
        at offset: Int64
    ) throws -> Int {
        try self.perform(.read, file: file, offset: offset, bytes: Int64(buffer.count), name: "pread") {
            try self.base.read(file, into: buffer, at: offset)
        }
    }

    public func synchronizeData(_ file: FileDescriptor) throws {
        try self.synchronize(file, operation: .synchronizeData, name: "fdatasync") {
            try self.base.synchronizeData(file)
        }
    }

    public func synchronize(_ file: FileDescriptor) throws {
        try self.synchronize(file, operation: .synchronize, name: "fsync") {
            try self.base.synchronize(file)
        }
    }

    public func allocate(_ file: FileDescriptor, offset: Int64, length: Int64) throws {
        try self.perform(.allocate, file: file, offset: offset, bytes: length, name: "fallocate") {
            try self.base.allocate(file, offset: offset, length: length)
        }
    }

    public func resize(_ file: FileDescriptor, to size: Int64) throws {
        try self.perform(.resize, file: file, bytes: size, name: "ftruncate") {
            try self.base.resize(file, to: size)
        }
    }

    public func size(of file: FileDescriptor) throws -> Int64 {
        try self.perform(.size, file: file, name: "lseek") {
            try self.base.size(of: file)
        }
    }

    public func lockExclusively(_ file: FileDescriptor) throws -> Bool {
        try self.perform(.lockExclusively, file: file, name: "flock") {
            try self.base.lockExclusively(file)
        }
    }

    public func createDirectory(_ path: FilePath) throws {
        try self.perform(.createDirectory, path: path, name: "mkdir") {
            try self.base.createDirectory(path)
        }
    }

    public func contentsOfDirectory(_ path: FilePath) throws -> [String] {
        try self.perform(.contentsOfDirectory, path: path, name: "opendir") {
            try self.base.contentsOfDirectory(path)
        }
    }

    public func rename(_ source: FilePath, to destination: FilePath) throws {
        try self.perform(.rename, path: source, destination: destination, name: "rename") {
            try self.base.rename(source, to: destination)
            // The file keeps its unsynced pages and its descriptors under the new name; a file
            // the rename replaced is gone.
            self.unsyncedPages[destination] = self.unsyncedPages.removeValue(forKey: source)
            for key in self.descriptors.keys where self.descriptors[key]!.path == source {
                self.descriptors[key]!.path = destination
            }
        }
    }

    public func removeFile(_ path: FilePath) throws {
        try self.perform(.removeFile, path: path, name: "unlink") {
            try self.base.removeFile(path)
            self.unsyncedPages[path] = nil
        }
    }

    public func fileExists(_ path: FilePath) -> Bool {
        let index = self.locked { self.record(Call(operation: .fileExists, path: path, outcome: .unfinished)) }
        let exists = self.base.fileExists(path)
        self.locked { self.finish(index, .succeeded) }
        return exists
    }

    // MARK: - Internals

    private func locked<Result>(_ body: () throws -> Result) rethrows -> Result {
        self.condition.lock()
        defer { self.condition.unlock() }
        return try body()
    }

    private func record(_ call: Call) -> Int {
        self.log.append(call)
        self.condition.broadcast()
        return self.log.count - 1
    }

    private func finish(_ index: Int, _ outcome: Outcome) {
        // The log may have been cleared while the call ran.
        if index < self.log.count {
            self.log[index].outcome = outcome
        }
        self.condition.broadcast()
    }

    /// A sync: on success, the pages written before it started are durable.
    private func synchronize(
        _ file: FileDescriptor,
        operation: Operation,
        name: String,
        _ body: () throws -> Void
    ) throws {
        var startedAt: UInt64 = 0
        try self.perform(
            operation,
            file: file,
            name: name,
            started: { startedAt = self.writeCounter },
            body: {
                try body()
                if let path = self.descriptors[file.rawValue]?.path {
                    self.unsyncedPages[path] = self.unsyncedPages[path]?.filter { $0.value.lastWrite > startedAt }
                }
            }
        )
    }

    /// Records a call, applies delays, holds and faults, and runs `body` under the lock.
    private func perform<Result>(
        _ operation: Operation,
        file: FileDescriptor? = nil,
        path: FilePath? = nil,
        destination: FilePath? = nil,
        offset: Int64? = nil,
        bytes: Int64? = nil,
        name: String,
        started: () -> Void = {},
        body: () throws -> Result
    ) throws -> Result {
        self.condition.lock()
        let path = path ?? file.flatMap { self.descriptors[$0.rawValue]?.path }
        let index = self.record(
            Call(
                operation: operation,
                path: path,
                destination: destination,
                offset: offset,
                bytes: bytes,
                outcome: .unfinished
            )
        )
        started()
        let injected = self.injectedFailure(operation, path: path)
        let pause = self.slowdowns.filter { $0.operation == operation && Self.matches($0.matches, path) }
            .reduce(0) { $0 + $1.nanoseconds }
        if pause > 0 {
            self.condition.unlock()
            Thread.sleep(forTimeInterval: Double(pause) / 1e9)
            self.condition.lock()
        }
        if let hold = self.holdingHold(operation, path: path) {
            self.heldCalls += 1
            self.condition.broadcast()
            while self.holds.contains(where: { $0.id == hold }) {
                self.condition.wait()
            }
            self.heldCalls -= 1
        }
        defer { self.condition.unlock() }
        let isDead = file.map { self.descriptors[$0.rawValue]?.isDead ?? false } ?? false
        let failure = self.isOff || isDead ? Errno.ioError : injected
        if let failure {
            self.finish(index, .failed(failure))
            throw StorageError.systemCall(name, failure, path: path)
        }
        do {
            let result = try body()
            self.finish(index, .succeeded)
            return result
        } catch let error as StorageError {
            self.finish(index, .failed(error.errno ?? .ioError))
            throw error
        } catch {
            self.finish(index, .failed(.ioError))
            throw error
        }
    }

    private static func matches(_ predicate: (@Sendable (FilePath) -> Bool)?, _ path: FilePath?) -> Bool {
        guard let predicate else { return true }
        return path.map(predicate) ?? false
    }

    /// The failure the first applicable fault injects, counting the call against every matching one.
    private func injectedFailure(_ operation: Operation, path: FilePath?) -> Errno? {
        var failure: Errno?
        for index in self.faults.indices
        where self.faults[index].operation == operation && Self.matches(self.faults[index].matches, path) {
            self.faults[index].seen += 1
            if self.faults[index].occurrence.includes(self.faults[index].seen) && failure == nil {
                failure = self.faults[index].errno
            }
        }
        return failure
    }

    /// The id of the first hold that blocks this call, counting the call against every matching one.
    private func holdingHold(_ operation: Operation, path: FilePath?) -> Int? {
        var holding: Int?
        for index in self.holds.indices
        where self.holds[index].operation == operation && Self.matches(self.holds[index].matches, path) {
            self.holds[index].seen += 1
            if self.holds[index].occurrence.includes(self.holds[index].seen) && holding == nil {
                holding = self.holds[index].id
            }
        }
        return holding
    }

    /// Before a write, keeps the current content of every page it touches that has no unsynced
    /// write yet: that is what the page reverts to in a power loss.
    private func rememberOriginals(of file: FileDescriptor, path: FilePath, offset: Int64, count: Int) throws {
        self.writeCounter += 1
        let pageBytes = Int64(Self.pageBytes)
        var pages = self.unsyncedPages[path] ?? [:]
        for index in (offset / pageBytes)...((offset + Int64(count) - 1) / pageBytes) {
            if pages[index] == nil {
                var original = [UInt8](repeating: 0, count: Self.pageBytes)
                _ = try original.withUnsafeMutableBytes { buffer in
                    try self.base.read(file, into: buffer, at: index * pageBytes)
                }
                pages[index] = UnsyncedPage(original: original, lastWrite: self.writeCounter)
            } else {
                pages[index]!.lastWrite = self.writeCounter
            }
        }
        self.unsyncedPages[path] = pages
    }
}
