/// Reads a payload field by field, little-endian, checking every field against the end of the
/// input first: a payload that ends early is a ``MalformedReason/truncated`` error naming the field,
/// never a read outside the input. Offsets in errors are from the frame's first byte.
struct WireReader {
    private let base: UnsafeRawPointer?
    private let count: Int
    /// The frame offset of the input's first byte.
    private let origin: Int
    private var position = 0

    /// Reads `bytes`, whose first byte is at frame offset `origin`.
    init(_ bytes: UnsafeRawBufferPointer, origin: Int) {
        self.base = bytes.baseAddress
        self.count = bytes.count
        self.origin = origin
    }

    /// Bytes not read yet.
    var remaining: Int { self.count &- self.position }

    /// The frame offset of the next byte.
    var offset: Int { self.origin &+ self.position }

    /// The next `byteCount` bytes; throws ``MalformedReason/truncated`` when the input ends first.
    @inline(__always)
    mutating func bytes(_ byteCount: Int, _ field: StaticString) throws(WireError) -> UnsafeRawBufferPointer {
        guard byteCount <= self.remaining else {
            throw .malformed(
                .truncated,
                at: self.offset,
                "the payload ends inside \(field): it needs \(byteCount) bytes, \(self.remaining) are left"
            )
        }
        let start = self.base.map { $0 + self.position }
        self.position &+= byteCount
        return UnsafeRawBufferPointer(start: start, count: byteCount)
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger & BitwiseCopyable>(_ field: StaticString) throws(WireError) -> T {
        let bytes = try self.bytes(MemoryLayout<T>.size, field)
        return T(littleEndian: bytes.loadUnaligned(as: T.self))
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger & BitwiseCopyable>(
        _: T.Type,
        _ field: StaticString
    ) throws(WireError) -> T {
        try self.read(field)
    }

    /// A field that must be zero (reserved bytes, a field that has no meaning in this case).
    mutating func readZero<T: FixedWidthInteger & BitwiseCopyable>(
        _: T.Type,
        _ field: StaticString
    ) throws(WireError) {
        let offset = self.offset
        let value: T = try self.read(field)
        guard value == 0 else {
            throw .malformed(.valueOutOfRange, at: offset, "\(field) must be 0, not \(value)")
        }
    }

    /// A byte that must be 0 or 1.
    mutating func readBool(_ field: StaticString) throws(WireError) -> Bool {
        let offset = self.offset
        let value: UInt8 = try self.read(field)
        guard value <= 1 else {
            throw .malformed(.valueOutOfRange, at: offset, "\(field) must be 0 or 1, not \(value)")
        }
        return value == 1
    }

    /// A count of `itemBytes`-byte items that follow it: 1 (or `minimum`) to `ceiling`, and beyond
    /// `limit` (a server's, at most `ceiling`) a ``ReplyStatus/tooManyOperations`` error. The items
    /// must be in the input, so a forged count never sizes an allocation beyond it.
    mutating func readCount<T: FixedWidthInteger & BitwiseCopyable>(
        _: T.Type,
        _ field: StaticString,
        minimum: Int = 1,
        ceiling: Int,
        limit: Int? = nil,
        itemBytes: Int
    ) throws(WireError) -> Int {
        let offset = self.offset
        let raw: T = try self.read(field)
        let count = Int(raw)
        if let limit, count > limit {
            throw WireError(
                .tooManyOperations,
                offset: offset,
                "\(field) is \(count), more than this server's limit of \(limit) per request"
            )
        }
        guard count >= minimum, count <= ceiling else {
            throw .malformed(
                .countOutOfRange,
                at: offset,
                "\(field) is \(count), outside \(minimum) to \(ceiling)"
            )
        }
        // A forged count: report the list as cut short before reserving anything for it.
        guard count * itemBytes <= self.remaining else {
            throw .malformed(
                .truncated,
                at: self.offset,
                "the payload ends inside the list of \(count) (\(field)): it needs \(count * itemBytes) bytes, \(self.remaining) are left"
            )
        }
        return count
    }

    /// UTF-8 text behind a length field of type `T`, at most `maximum` bytes.
    mutating func readText<T: FixedWidthInteger & BitwiseCopyable>(
        _: T.Type,
        _ field: StaticString,
        maximum: Int,
        allowEmpty: Bool = true,
        alphabet: ((UInt8) -> Bool)? = nil
    ) throws(WireError) -> String {
        let lengthOffset = self.offset
        let length = Int(try self.read(T.self, field))
        guard length <= maximum, allowEmpty || length > 0 else {
            throw .malformed(
                .lengthOutOfRange,
                at: lengthOffset,
                "the length of \(field) is \(length), outside \(allowEmpty ? 0 : 1) to \(maximum)"
            )
        }
        let textOffset = self.offset
        let bytes = try self.bytes(length, field)
        if let alphabet, !bytes.allSatisfy(alphabet) {
            throw .malformed(.textInvalid, at: textOffset, "\(field) has a character outside its alphabet")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformed(.textInvalid, at: textOffset, "\(field) is not valid UTF-8")
        }
        return text
    }

    /// Throws ``MalformedReason/trailingBytes`` unless every byte was read.
    func expectEnd() throws(WireError) {
        guard self.remaining == 0 else {
            throw .malformed(
                .trailingBytes,
                at: self.offset,
                "\(self.remaining) bytes follow the payload's last field"
            )
        }
    }
}

/// Layout constants shared by the list payloads.
enum ListLayout {
    /// A `u32` item count.
    static let countBytes = 4
}

extension [UInt8] {
    /// Appends `value` little-endian.
    @inline(__always)
    mutating func put<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { self.append(contentsOf: $0) }
    }

    mutating func put(_ flag: Bool) {
        self.append(flag ? 1 : 0)
    }

    /// Appends `text`'s UTF-8 behind a length field of type `T`; the caller checked its length.
    mutating func putText<T: FixedWidthInteger>(_ text: String, lengthAs _: T.Type, maximum: Int) {
        let utf8 = text.utf8
        precondition(utf8.count <= maximum, "a text of \(utf8.count) bytes, more than its \(maximum)")
        self.put(T(truncatingIfNeeded: utf8.count))
        self.append(contentsOf: utf8)
    }

    /// Appends `count` as a list count of type `T`; the caller checked it against the ceiling.
    mutating func putCount<T: FixedWidthInteger>(_ count: Int, as _: T.Type, ceiling: Int) {
        precondition(count <= ceiling, "a list of \(count) items, more than its ceiling of \(ceiling)")
        self.put(T(truncatingIfNeeded: count))
    }
}
