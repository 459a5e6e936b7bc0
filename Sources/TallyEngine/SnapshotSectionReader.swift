import DequeModule
import Foundation
import SystemPackage
import TallyCore
import TallyStorage

/// Reads, checks and decompresses some of a snapshot's sections, in order, on a thread of its own, a
/// few blocks ahead of the thread that decodes them (``stream(for:)``, one per section, in order).
///
/// ``SnapshotFile/read(_:configuration:fileSystem:verifyDigest:)`` uses two: one for the keys
/// section, which another thread decodes, and one for the other sections, so that reading and
/// decompressing overlap decoding on both threads. What runs ahead is bounded: at most ``blocksMax`` blocks of ``blockBytes`` exist at
/// once, so memory stays a few MiB whatever the snapshot's size. Every check of a section (its
/// CRC-32C, its zstd frame, its size) is made on the reading thread before the section's end is
/// handed over; a failure is handed over in place of the end, after the bytes that came before
/// it, so the caller meets it exactly where a reader on its own thread would.
final class SnapshotSectionReader: @unchecked Sendable {
    // @unchecked: `queue`, `free`, `allocated`, `cancelled` and `running` are guarded by
    // `condition`; a block belongs to one thread at a time (handed over under the lock); the rest
    // is immutable or belongs to the reading thread.

    /// Decompressed bytes handed over at a time.
    static let blockBytes = 1 << 20
    /// Blocks in existence: queued, being filled and being decoded.
    static let blocksMax = 6
    /// Compressed bytes read from the file at a time.
    static let pieceBytes = 1 << 20

    final class Block {
        let bytes: UnsafeMutableRawBufferPointer
        var count = 0

        init() {
            self.bytes = .allocate(byteCount: SnapshotSectionReader.blockBytes, alignment: 16)
        }

        deinit {
            self.bytes.deallocate()
        }
    }

    private enum Item {
        case block(Block)
        /// The section ended and every check passed.
        case end
        case failure(any Error)
    }

    /// The reading thread was told to stop.
    private struct Cancelled: Error {}

    private let file: FileDescriptor
    private let path: FilePath
    private let sections: [SnapshotFile.Info.Section]
    private let fileSystem: any FileSystem
    private let condition = NSCondition()
    private var queue: Deque<Item> = []
    private var free: [Block] = []
    private var allocated = 0
    private var cancelled = false
    private var running = false

    /// Starts reading `sections` of the open `file` (which must stay open until ``stop()``).
    init(file: FileDescriptor, path: FilePath, sections: [SnapshotFile.Info.Section], fileSystem: any FileSystem) {
        self.file = file
        self.path = path
        self.sections = sections
        self.fileSystem = fileSystem
        self.running = true
        // Named from inside the thread (on Linux a name set before `start()` never reaches the
        // kernel, which keeps at most 15 bytes).
        let thread = Thread { [self] in
            Thread.current.name = "tally-snap-read"
            self.run()
        }
        thread.start()
    }

    /// Stops the reading thread and waits for it (it never touches the file after this returns).
    func stop() {
        self.condition.lock()
        self.cancelled = true
        self.condition.broadcast()
        while self.running {
            self.condition.wait()
        }
        self.queue.removeAll()
        self.free.removeAll()
        self.condition.unlock()
    }

    /// The next section's bytes, for the decoder.
    func stream(for section: SnapshotFile.Info.Section) -> Stream {
        Stream(reader: self, section: section)
    }

    // MARK: - The caller's side

    /// One section's decompressed bytes as a ``LedgerStateInput``.
    final class Stream: LedgerStateInput {
        private let reader: SnapshotSectionReader
        private let section: SnapshotFile.Info.Section
        private var current: Block?
        private var position = 0
        private var ended = false

        fileprivate init(reader: SnapshotSectionReader, section: SnapshotFile.Info.Section) {
            self.reader = reader
            self.section = section
        }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            while self.current == nil || self.position == self.current!.count {
                if let current = self.current {
                    self.reader.recycle(current)
                    self.current = nil
                }
                guard !self.ended else { return 0 }
                switch try self.reader.next() {
                case .block(let block):
                    self.current = block
                    self.position = 0
                case .end:
                    self.ended = true
                    return 0
                case .failure(let error):
                    throw error
                }
            }
            let current = self.current!
            let count = min(buffer.count, current.count - self.position)
            buffer.baseAddress!.copyMemory(from: current.bytes.baseAddress! + self.position, byteCount: count)
            self.position += count
            return count
        }

        /// Checks that the decoder consumed the whole section and the section ended properly.
        func finish() throws {
            if let current = self.current, self.position < current.count {
                throw self.reader.corrupted(self.section, "undecoded bytes remain")
            }
            while !self.ended {
                switch try self.reader.next() {
                case .block(let block):
                    let leftOver = block.count > 0
                    self.reader.recycle(block)
                    if leftOver {
                        throw self.reader.corrupted(self.section, "undecoded bytes remain")
                    }
                case .end:
                    self.ended = true
                case .failure(let error):
                    throw error
                }
            }
        }

        deinit {
            if let current = self.current {
                self.reader.recycle(current)
            }
        }
    }

    private func next() throws -> Item {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.queue.isEmpty {
            guard self.running else {
                throw StorageError(.corrupted, "snapshot \(self.path): the reader stopped early", path: self.path)
            }
            self.condition.wait()
        }
        let item = self.queue.removeFirst()
        self.condition.broadcast()
        return item
    }

    private func recycle(_ block: Block) {
        block.count = 0
        self.condition.lock()
        self.free.append(block)
        self.condition.broadcast()
        self.condition.unlock()
    }

    // MARK: - The reading thread

    private func run() {
        defer {
            self.condition.lock()
            self.running = false
            self.condition.broadcast()
            self.condition.unlock()
        }
        for section in self.sections {
            do {
                try self.produce(section)
                try self.hand(.end)
            } catch is Cancelled {
                return
            } catch {
                try? self.hand(.failure(error))
                return
            }
        }
    }

    private func hand(_ item: Item) throws {
        self.condition.lock()
        defer { self.condition.unlock() }
        guard !self.cancelled else { throw Cancelled() }
        self.queue.append(item)
        self.condition.broadcast()
    }

    /// An empty block, once one is free (or may be made).
    private func emptyBlock() throws -> Block {
        self.condition.lock()
        defer { self.condition.unlock() }
        while true {
            guard !self.cancelled else { throw Cancelled() }
            if let block = self.free.popLast() {
                return block
            }
            if self.allocated < Self.blocksMax {
                self.allocated += 1
                return Block()
            }
            self.condition.wait()
        }
    }

    fileprivate func corrupted(_ section: SnapshotFile.Info.Section, _ message: String) -> StorageError {
        StorageError(
            .corrupted,
            "snapshot \(self.path), section \(section.section): \(message)",
            path: self.path,
            offset: section.offset
        )
    }

    /// Reads, checks and decompresses one section, handing its bytes over block by block.
    private func produce(_ section: SnapshotFile.Info.Section) throws {
        // The limit is the table's size, itself bounded: decompression can never outgrow it.
        var decompressor = try ZstdDecompressor(limit: Int(section.uncompressedBytes))
        let compressed = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Int(min(section.compressedBytes, Int64(Self.pieceBytes))),
            alignment: 16
        )
        defer { compressed.deallocate() }
        var block = try self.emptyBlock()
        var checksum: UInt32 = 0
        var read: Int64 = 0
        while read < section.compressedBytes {
            let count = Int(min(Int64(compressed.count), section.compressedBytes - read))
            let piece = UnsafeMutableRawBufferPointer(rebasing: compressed[0..<count])
            let got = try self.fileSystem.read(self.file, into: piece, at: section.offset + read)
            guard got == count else { throw self.corrupted(section, "the file ends inside the section") }
            read += Int64(count)
            checksum = CRC32C.checksum(UnsafeRawBufferPointer(piece), continuing: checksum)
            do {
                try decompressor.decompress(UnsafeRawBufferPointer(piece)) { output in
                    var offset = 0
                    while offset < output.count {
                        let room = Self.blockBytes - block.count
                        let take = min(room, output.count - offset)
                        (block.bytes.baseAddress! + block.count).copyMemory(
                            from: output.baseAddress! + offset,
                            byteCount: take
                        )
                        block.count += take
                        offset += take
                        if block.count == Self.blockBytes {
                            try self.hand(.block(block))
                            block = try self.emptyBlock()
                        }
                    }
                }
            } catch let error as StorageError {
                throw self.corrupted(section, error.message)
            }
        }
        if block.count > 0 {
            try self.hand(.block(block))
        } else {
            self.recycle(block)
        }
        guard checksum == section.checksum else { throw self.corrupted(section, "the checksum does not match") }
        let size: Int
        do {
            size = try decompressor.finish()
        } catch let error as StorageError {
            throw self.corrupted(section, error.message)
        }
        guard size == section.uncompressedBytes else {
            throw self.corrupted(section, "\(size) bytes decompressed; the table says \(section.uncompressedBytes)")
        }
    }
}
