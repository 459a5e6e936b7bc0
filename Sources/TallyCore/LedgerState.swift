/// The ledger's whole state as bytes, for snapshots: version 1 of the encoding, documented byte by
/// byte in docs/FORMATS.md ("Ledger state").
///
/// The state is cut into sections, each a stream of little-endian fields, so that a snapshot can
/// compress, checksum and decode them one by one without holding a second copy of the state.
/// ``Ledger/encodeState(_:to:)`` writes one section; ``LedgerStateDecoder`` reads them back, in
/// order, into a new ledger. Decoding trusts nothing: every count, index, order and record is
/// checked, and a malformed section is a ``LedgerState/DecodingError``, never a trap later on.
public enum LedgerState {
    /// The encoding's version, written first in the counters section.
    public static let version: UInt16 = 1

    /// The sections, in the order they are written and must be decoded (later ones refer to
    /// earlier ones: accounts to assets and aggregate buckets, holds and records to accounts).
    public enum Section: UInt16, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        case counters = 1
        case assets = 2
        case aggregates = 3
        case accounts = 4
        case holds = 5
        case reversals = 6
        case keys = 7
        case transactions = 8

        public var description: String {
            switch self {
            case .counters: return "counters"
            case .assets: return "assets"
            case .aggregates: return "aggregates"
            case .accounts: return "accounts"
            case .holds: return "holds"
            case .reversals: return "reversals"
            case .keys: return "keys"
            case .transactions: return "transactions"
            }
        }
    }

    /// A section that does not decode; `offset` is the byte offset within the section's stream.
    public struct DecodingError: Error, Hashable, Sendable, CustomStringConvertible {
        public var section: Section?
        public var offset: Int
        public var message: String

        public init(section: Section?, offset: Int, _ message: String) {
            self.section = section
            self.offset = offset
            self.message = message
        }

        public var description: String {
            guard let section else { return "ledger state: \(self.message)" }
            return "ledger state, section \(section) at byte \(self.offset): \(self.message)"
        }
    }
}

/// Where a section's bytes come from when decoding (a decompressing file reader, an array).
public protocol LedgerStateInput {
    /// Fills the start of `buffer` with the next bytes of the section and returns how many; zero
    /// only at the section's end.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A section held in memory.
public struct LedgerStateBytes: LedgerStateInput {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, self.bytes.count - self.offset)
        guard count > 0 else { return 0 }
        self.bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + self.offset, byteCount: count)
        }
        self.offset += count
        return count
    }
}

/// Collects a section's fields and hands them to the output in pieces of about 64 KiB.
struct StateWriter: ~Copyable {
    private var buffer: [UInt8] = []
    private let output: (UnsafeRawBufferPointer) throws -> Void
    static let pieceBytes = 1 << 16

    init(_ output: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.output = output
        self.buffer.reserveCapacity(Self.pieceBytes + 64)
    }

    @inline(__always)
    mutating func put<T: FixedWidthInteger>(_ value: T) throws {
        Swift.withUnsafeBytes(of: value.littleEndian) { self.buffer.append(contentsOf: $0) }
        if self.buffer.count >= Self.pieceBytes {
            try self.flush()
        }
    }

    mutating func put(_ balance: Balance) throws {
        try self.put(balance.debitsPosted)
        try self.put(balance.creditsPosted)
        try self.put(balance.debitsPending)
        try self.put(balance.creditsPending)
    }

    /// Raw bytes, written as they are (large ones go straight to the output).
    mutating func put(bytes: UnsafeRawBufferPointer) throws {
        if bytes.count >= Self.pieceBytes {
            try self.flush()
            try self.output(bytes)
            return
        }
        self.buffer.append(contentsOf: bytes)
        if self.buffer.count >= Self.pieceBytes {
            try self.flush()
        }
    }

    mutating func flush() throws {
        guard !self.buffer.isEmpty else { return }
        try self.buffer.withUnsafeBytes { try self.output($0) }
        self.buffer.removeAll(keepingCapacity: true)
    }
}

/// Reads a section's fields from a ``LedgerStateInput`` through a 64 KiB buffer; every read is
/// bounds-checked and a short section is a ``LedgerState/DecodingError``.
struct StateReader: ~Copyable {
    private var input: any LedgerStateInput
    let section: LedgerState.Section
    private let buffer: UnsafeMutableRawBufferPointer
    private var position = 0
    private var end = 0
    /// Bytes consumed before the buffer's start, for error offsets.
    private var consumedBefore = 0
    private var inputEnded = false

    /// The buffer's size: the most ``next(bytes:)`` hands over at once.
    static let bufferBytes = 1 << 16

    init(_ input: any LedgerStateInput, section: LedgerState.Section) {
        self.input = input
        self.section = section
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferBytes, alignment: 16)
    }

    deinit {
        self.buffer.deallocate()
    }

    var offset: Int { self.consumedBefore + self.position }

    func error(_ message: String) -> LedgerState.DecodingError {
        LedgerState.DecodingError(section: self.section, offset: self.offset, message)
    }

    /// An error at `offset` bytes into the section: for an item of a run read by ``next(bytes:)``.
    func error(at offset: Int, _ message: String) -> LedgerState.DecodingError {
        LedgerState.DecodingError(section: self.section, offset: offset, message)
    }

    /// Makes at least `count` (at most the buffer's size) bytes available, or throws at the end.
    private mutating func fill(_ count: Int) throws {
        let remaining = self.end - self.position
        if remaining > 0 && self.position > 0 {
            self.buffer.baseAddress!.copyMemory(from: self.buffer.baseAddress! + self.position, byteCount: remaining)
        }
        self.consumedBefore += self.position
        self.position = 0
        self.end = remaining
        while self.end < count && !self.inputEnded {
            let read = try self.input.read(into: UnsafeMutableRawBufferPointer(rebasing: self.buffer[self.end...]))
            if read == 0 {
                self.inputEnded = true
            }
            self.end += read
        }
        guard self.end >= count else {
            throw self.error("the section ends early (\(count) more bytes wanted, \(self.end) left)")
        }
    }

    @inline(__always)
    mutating func next<T: FixedWidthInteger>(_: T.Type = T.self) throws -> T {
        let size = MemoryLayout<T>.size
        if self.end - self.position < size {
            try self.fill(size)
        }
        let value = self.buffer.loadUnaligned(fromByteOffset: self.position, as: T.self)
        self.position += size
        return T(littleEndian: value)
    }

    /// The next `count` bytes (at most ``bufferBytes``), contiguous and consumed; the memory is valid
    /// until the next call on the reader. A run of fixed-size items read this way is checked for
    /// length once, and its fields are read with a ``FieldCursor``.
    mutating func next(bytes count: Int) throws -> UnsafeRawPointer {
        precondition(count <= Self.bufferBytes)
        if self.end - self.position < count {
            try self.fill(count)
        }
        let start = self.buffer.baseAddress! + self.position
        self.position += count
        return UnsafeRawPointer(start)
    }

    mutating func balance() throws -> Balance {
        Balance(
            debitsPosted: try self.next(),
            creditsPosted: try self.next(),
            debitsPending: try self.next(),
            creditsPending: try self.next()
        )
    }

    /// A count that must not exceed `limit` (so a corrupt count cannot make us allocate without bound).
    mutating func count<T: FixedWidthInteger>(_: T.Type, limit: Int, of what: String) throws -> Int {
        let value = try self.next(T.self)
        guard value >= 0, UInt64(value) <= UInt64(limit) else {
            throw self.error("\(value) \(what), more than the \(limit) allowed")
        }
        return Int(value)
    }

    /// Copies the next `count` bytes to `destination`. Once the buffer is drained, large pieces are
    /// read from the input straight into `destination` (key chunks, record bytes: most of a
    /// snapshot's bytes are copied only once).
    mutating func copy(into destination: UnsafeMutableRawPointer, count: Int) throws {
        var copied = 0
        while copied < count {
            if self.position == self.end && count - copied >= Self.bufferBytes / 4 && !self.inputEnded {
                let read = try self.input.read(
                    into: UnsafeMutableRawBufferPointer(start: destination + copied, count: count - copied)
                )
                if read == 0 {
                    self.inputEnded = true
                }
                self.consumedBefore += read
                copied += read
                continue
            }
            if self.position == self.end {
                try self.fill(1)
            }
            let piece = min(count - copied, self.end - self.position)
            (destination + copied).copyMemory(from: self.buffer.baseAddress! + self.position, byteCount: piece)
            self.position += piece
            copied += piece
        }
    }

    /// Throws unless the section has no bytes left.
    mutating func expectEnd() throws {
        if self.position == self.end && !self.inputEnded {
            let read = try self.input.read(
                into: UnsafeMutableRawBufferPointer(
                    rebasing: self.buffer[self.end..<min(self.end + 1, self.buffer.count)]
                )
            )
            if read == 0 {
                self.inputEnded = true
            } else {
                self.end += read
            }
        }
        guard self.position == self.end else {
            throw self.error("trailing bytes after the section's content")
        }
    }
}

/// Little-endian fields from memory whose length the caller has checked already (a run from
/// ``StateReader/next(bytes:)``): no check per field.
struct FieldCursor {
    private var pointer: UnsafeRawPointer

    init(_ pointer: UnsafeRawPointer) {
        self.pointer = pointer
    }

    @inline(__always)
    mutating func next<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        let value = self.pointer.loadUnaligned(as: T.self)
        self.pointer += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    @inline(__always)
    mutating func balance() -> Balance {
        Balance(
            debitsPosted: self.next(),
            creditsPosted: self.next(),
            debitsPending: self.next(),
            creditsPending: self.next()
        )
    }
}
