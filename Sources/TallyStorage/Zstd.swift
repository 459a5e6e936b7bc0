import CZstd

// Zstandard (RFC 8878) through the system's libzstd: a streaming compressor and decompressor that
// each own one libzstd context and one output buffer, allocated once and reused frame after frame.
//
// One frame per cycle: `compress` any number of times, then `finish`; `decompress` any number of
// times, then `finish`. Every frame carries a content checksum (XXH64, low 32 bits) that the
// decompressor checks at the end of the frame, so bytes handed to a decompression sink are not
// verified until `finish` returns. The decompressor is strict: a truncated frame, bytes after the
// frame, a window larger than `windowLogMax` or more output than the limit are errors, never
// silently accepted or allocated for. After any error (the sink's own included) the frame is
// abandoned and every call throws until `reset`.

/// Zstandard compression: what ``ZstdCompressor`` and ``ZstdDecompressor`` share.
public enum Zstd {
    /// The version of the libzstd this process runs with, such as "1.5.4".
    public static var versionString: String { String(cString: ZSTD_versionString()) }

    /// zstd's own default level (what level 0 means).
    public static let levelDefault: Int32 = 3

    /// The levels libzstd accepts: negative levels trade ratio for speed, 0 is the default (3),
    /// 20 and above ("ultra") need windows of 32 to 128 MiB.
    public static var levels: ClosedRange<Int32> { ZSTD_minCLevel()...ZSTD_maxCLevel() }

    /// The largest window a decompressor accepts by default, as log2 of bytes: 27, 128 MiB.
    ///
    /// The window is what a decompressor allocates for a frame (the frame's header states it), so this
    /// bounds the memory a hostile or corrupted header can ask for (the format allows 2 GiB and more).
    /// 27 is the largest window any level chooses (level 22, size unknown; levels 1 ... 19 choose at most
    /// 8 MiB, less for a source of known smaller size), so every frame ``ZstdCompressor`` writes decodes;
    /// it is also libzstd's own default limit, set here so that it does not change with the library.
    public static let windowLogMax: Int32 = 27

    static func isError(_ result: Int) -> Bool {
        ZSTD_isError(result) != 0
    }

    static func errorName(_ result: Int) -> String {
        String(cString: ZSTD_getErrorName(result))
    }

    static let abandoned = StorageError(
        .invalidArgument,
        "the zstd frame was abandoned after an error; reset() starts a new one"
    )
}

/// A streaming zstd compressor: one frame per ``compress(_:output:)`` ... ``finish(output:)`` cycle,
/// with a content checksum.
///
/// The context and a `ZSTD_CStreamOutSize()` output buffer (128 KiB) are allocated once and reused
/// for every frame; compressing allocates nothing more once the first frame has warmed the context.
/// Noncopyable: one owner, so the context is never used from two places at once.
public struct ZstdCompressor: ~Copyable, @unchecked Sendable {
    private enum FrameState {
        /// No byte of the next frame has been given yet.
        case idle
        case inFrame
        /// An error abandoned the frame: every call throws until `reset`.
        case failed
    }

    private let context: OpaquePointer
    private let buffer: UnsafeMutableRawBufferPointer
    private var state: FrameState

    /// A compressor at `level` (one of ``Zstd/levels``).
    ///
    /// - Parameter pledgedSourceBytes: the exact number of bytes the first frame will hold, if known:
    ///   it is written into the frame header (a decompressor can then size its output), lets libzstd
    ///   pick a smaller window for a small source, and a different count is an error at the end of
    ///   the frame. It applies to the first frame only (``reset(pledgedSourceBytes:)`` pledges again).
    public init(level: Int32 = Zstd.levelDefault, pledgedSourceBytes: Int? = nil) throws {
        guard Zstd.levels.contains(level) else {
            throw StorageError(.invalidArgument, "zstd level \(level) is outside \(Zstd.levels)")
        }
        guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        do {
            try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level), "level \(level)")
            try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "content checksum")
            try Self.pledge(pledgedSourceBytes, context)
        } catch {
            ZSTD_freeCCtx(context)
            throw error
        }
        self.context = context
        self.buffer = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        self.state = .idle
    }

    deinit {
        ZSTD_freeCCtx(self.context)
        self.buffer.deallocate()
    }

    /// Compresses `input` as the next bytes of the frame, handing compressed bytes to `output` as they
    /// come (in chunks of up to 128 KiB, often none: libzstd buffers up to a block of input).
    ///
    /// `output`'s buffer is valid only during the call. If `output` throws, the frame is abandoned
    /// and the error rethrown.
    public mutating func compress(
        _ input: UnsafeRawBufferPointer,
        output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard self.state != .failed else { throw Zstd.abandoned }
        guard !input.isEmpty else { return }
        self.state = .inFrame
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        // ZSTD_e_continue returns once the input is consumed or the output buffer is full.
        repeat {
            _ = try self.step(&source, ZSTD_e_continue, output)
        } while source.pos < source.size
    }

    /// Ends the frame: hands the rest of it (buffered input, the last block, the checksum) to
    /// `output`. The next ``compress(_:output:)`` starts a new frame, of unknown size.
    public mutating func finish(output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard self.state != .failed else { throw Zstd.abandoned }
        self.state = .inFrame
        var source = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        // ZSTD_e_end returns how many bytes are still to be flushed: 0 once the frame is complete.
        while try self.step(&source, ZSTD_e_end, output) != 0 {}
        self.state = .idle
    }

    /// Abandons the frame in progress, if any (after an error, say); the next frame holds exactly
    /// `pledgedSourceBytes` if given. The level stays.
    public mutating func reset(pledgedSourceBytes: Int? = nil) throws {
        _ = ZSTD_CCtx_reset(self.context, ZSTD_reset_session_only)  // cannot fail for a session reset
        self.state = .idle
        do {
            try Self.pledge(pledgedSourceBytes, self.context)
        } catch {
            self.state = .failed
            throw error
        }
    }

    /// `bytes` compressed into one frame at `level`, its size stated in the header.
    public static func compress(_ bytes: UnsafeRawBufferPointer, level: Int32 = Zstd.levelDefault) throws -> [UInt8] {
        var compressor = try ZstdCompressor(level: level, pledgedSourceBytes: bytes.count)
        var compressed: [UInt8] = []
        try compressor.compress(bytes) { compressed.append(contentsOf: $0) }
        try compressor.finish { compressed.append(contentsOf: $0) }
        return compressed
    }

    /// One call of ZSTD_compressStream2 into the output buffer, whose bytes go to `output`. Returns
    /// libzstd's answer: for ZSTD_e_end, the bytes still to be flushed.
    private mutating func step(
        _ source: inout ZSTD_inBuffer,
        _ directive: ZSTD_EndDirective,
        _ output: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        var target = ZSTD_outBuffer(dst: self.buffer.baseAddress, size: self.buffer.count, pos: 0)
        let remaining = ZSTD_compressStream2(self.context, &target, &source, directive)
        guard !Zstd.isError(remaining) else {
            // With the level and parameters checked, what is left is a source that does not match
            // its pledged size (or an allocation failure inside libzstd).
            self.state = .failed
            throw StorageError(.invalidArgument, "zstd compression failed: \(Zstd.errorName(remaining))")
        }
        if target.pos > 0 {
            do {
                try output(UnsafeRawBufferPointer(start: self.buffer.baseAddress, count: target.pos))
            } catch {
                self.state = .failed
                throw error
            }
        }
        return remaining
    }

    private static func pledge(_ sourceBytes: Int?, _ context: OpaquePointer) throws {
        guard let sourceBytes else { return }
        guard sourceBytes >= 0 else {
            throw StorageError(.invalidArgument, "a zstd frame cannot hold \(sourceBytes) bytes")
        }
        try self.check(ZSTD_CCtx_setPledgedSrcSize(context, UInt64(sourceBytes)), "pledged size \(sourceBytes)")
    }

    private static func check(_ result: Int, _ what: String) throws {
        guard !Zstd.isError(result) else {
            throw StorageError(.invalidArgument, "zstd refused \(what): \(Zstd.errorName(result))")
        }
    }
}

/// A streaming zstd decompressor: exactly one frame per ``decompress(_:output:)`` ...
/// ``finish()`` cycle, at most ``limit`` bytes, its content checksum checked.
///
/// The context and a `ZSTD_DStreamOutSize()` output buffer (128 KiB) are allocated once and
/// reused; libzstd allocates the frame's window (at most 2^windowLogMax bytes) when a frame begins,
/// and keeps it for the next frame when that one needs no more.
public struct ZstdDecompressor: ~Copyable, @unchecked Sendable {
    private enum FrameState {
        /// No byte of the next frame has been given yet.
        case idle
        case inFrame
        /// The frame ended, checksum checked; only `finish` may follow (bytes would be trailing).
        case complete
        /// An error abandoned the frame: every call throws until `reset`.
        case failed
    }

    /// The most bytes one frame may decompress to; the output that would go beyond is never handed
    /// over, the frame is an error instead.
    public let limit: Int

    private let context: OpaquePointer
    private let buffer: UnsafeMutableRawBufferPointer
    private var state: FrameState
    /// Compressed bytes of this frame consumed by calls before the current one.
    private var consumedBytes: Int
    /// Bytes of this frame handed to the sink.
    private var decompressedBytes: Int

    /// A decompressor of frames of at most `limit` bytes whose window is at most 2^`windowLogMax` bytes
    /// (`windowLogMax` from 10 to 31 on 64-bit machines).
    public init(limit: Int, windowLogMax: Int32 = Zstd.windowLogMax) throws {
        guard limit >= 0 else { throw StorageError(.invalidArgument, "a zstd limit of \(limit) bytes") }
        // Checked here rather than left to libzstd, which takes 0 to mean its own default.
        let bounds = ZSTD_dParam_getBounds(ZSTD_d_windowLogMax)
        guard windowLogMax >= bounds.lowerBound && windowLogMax <= bounds.upperBound else {
            throw StorageError(
                .invalidArgument,
                "zstd windowLogMax \(windowLogMax) is outside \(bounds.lowerBound)...\(bounds.upperBound)"
            )
        }
        guard let context = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
        let result = ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, windowLogMax)
        guard !Zstd.isError(result) else {
            ZSTD_freeDCtx(context)
            throw StorageError(
                .invalidArgument,
                "zstd refused windowLogMax \(windowLogMax): \(Zstd.errorName(result))"
            )
        }
        self.limit = limit
        self.context = context
        self.buffer = .allocate(byteCount: ZSTD_DStreamOutSize(), alignment: 16)
        self.state = .idle
        self.consumedBytes = 0
        self.decompressedBytes = 0
    }

    deinit {
        ZSTD_freeDCtx(self.context)
        self.buffer.deallocate()
    }

    /// Decompresses `input`, the next bytes of the frame, handing decompressed bytes to `output` as
    /// they come (in chunks of up to 128 KiB).
    ///
    /// Nothing handed to `output` is verified until ``finish()`` returns: the content checksum is at
    /// the end of the frame. `output`'s buffer is valid only during the call. Throws
    /// ``StorageError/Code/corrupted`` for a bad frame, bytes after its end, or more than ``limit``
    /// bytes; if `output` throws, the frame is abandoned and the error rethrown.
    public mutating func decompress(
        _ input: UnsafeRawBufferPointer,
        output: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        switch self.state {
        case .idle, .inFrame:
            break
        case .complete:
            guard input.isEmpty else { throw self.fail("\(input.count) bytes follow the end of the zstd frame") }
            return
        case .failed:
            throw Zstd.abandoned
        }
        guard !input.isEmpty else { return }
        self.state = .inFrame
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var target = ZSTD_outBuffer(dst: self.buffer.baseAddress, size: self.buffer.count, pos: 0)
            // 0 once the frame is decoded, its checksum checked and its output all flushed; otherwise
            // a hint of how much input the frame still needs.
            let hint = ZSTD_decompressStream(self.context, &target, &source)
            guard !Zstd.isError(hint) else {
                let offset = self.consumedBytes + source.pos
                throw self.fail("bad zstd frame (within its first \(offset) bytes): \(Zstd.errorName(hint))")
            }
            if target.pos > 0 {
                guard target.pos <= self.limit - self.decompressedBytes else {
                    throw self.fail("the zstd frame decompresses to more than \(self.limit) bytes")
                }
                self.decompressedBytes += target.pos
                do {
                    try output(UnsafeRawBufferPointer(start: self.buffer.baseAddress, count: target.pos))
                } catch {
                    self.state = .failed
                    throw error
                }
            }
            if hint == 0 {
                self.state = .complete
                let trailing = source.size - source.pos
                guard trailing == 0 else { throw self.fail("\(trailing) bytes follow the end of the zstd frame") }
                break
            }
            // A full output buffer may leave output inside libzstd: go round until it is not full.
            if source.pos == source.size && target.pos < target.size { break }
        }
        self.consumedBytes += source.pos
    }

    /// Ends the frame: throws ``StorageError/Code/corrupted`` unless exactly one whole frame was
    /// given (a truncated frame, or none, is an error). Returns the frame's decompressed size; the
    /// decompressor is then ready for the next frame.
    @discardableResult
    public mutating func finish() throws -> Int {
        switch self.state {
        case .complete:
            let decompressedBytes = self.decompressedBytes
            self.reset()
            return decompressedBytes
        case .idle:
            throw self.fail("no zstd frame: the input was empty")
        case .inFrame:
            throw self.fail(
                "the zstd frame is truncated: it ends after \(self.consumedBytes) bytes"
                    + " (\(self.decompressedBytes) decompressed)"
            )
        case .failed:
            throw Zstd.abandoned
        }
    }

    /// Abandons the frame in progress, if any (after an error, say).
    public mutating func reset() {
        _ = ZSTD_DCtx_reset(self.context, ZSTD_reset_session_only)  // cannot fail for a session reset
        self.state = .idle
        self.consumedBytes = 0
        self.decompressedBytes = 0
    }

    /// The one frame in `bytes`, decompressed: at most `limit` bytes, and exactly `expectedBytes`
    /// when given (a different size is ``StorageError/Code/corrupted``).
    public static func decompress(
        _ bytes: UnsafeRawBufferPointer,
        expectedBytes: Int? = nil,
        limit: Int
    ) throws -> [UInt8] {
        if let expectedBytes {
            guard expectedBytes >= 0 && expectedBytes <= limit else {
                throw StorageError(.invalidArgument, "expected \(expectedBytes) bytes, beyond the limit of \(limit)")
            }
        }
        var decompressor = try ZstdDecompressor(limit: expectedBytes ?? limit)
        var decompressed: [UInt8] = []
        // The header states the size when the compressor knew it (a pledge). Only a hint: it is
        // believed up to the limit, and the frame is checked against it as it decodes.
        let declared = ZSTD_getFrameContentSize(bytes.baseAddress, bytes.count)
        decompressed.reserveCapacity(expectedBytes ?? (declared <= UInt64(limit) ? Int(declared) : 0))
        try decompressor.decompress(bytes) { decompressed.append(contentsOf: $0) }
        try decompressor.finish()
        if let expectedBytes, decompressed.count != expectedBytes {
            throw StorageError(
                .corrupted,
                "the zstd frame holds \(decompressed.count) bytes, expected \(expectedBytes)"
            )
        }
        return decompressed
    }

    private mutating func fail(_ message: String) -> StorageError {
        self.state = .failed
        return StorageError(.corrupted, message)
    }
}
