import Foundation
import TallyTestKit
import Testing

@testable import TallyStorage

/// The zstd wrapper: round trips from empty to 50 MiB, streaming in odd chunks against one shot, and
/// the strict decompressor (truncation, a flipped byte, bytes after the frame, the size limit, the
/// window bound), each against the error code it must raise.
@Suite("Zstd")
struct ZstdTests {
    // MARK: - Round trips

    @Test(arguments: [Int32(1), 3])
    func edgeSizesRoundTrip(level: Int32) throws {
        for count in [0, 1, 2, 13, 4_093] {
            let bytes = payload(count, seed: UInt64(count))
            let compressed = try compress(bytes, level: level)
            #expect(try decompress(compressed, expectedBytes: count, limit: count) == bytes, "\(count) bytes")
            #expect(try decompress(compressed, limit: 1 << 20) == bytes, "\(count) bytes")
        }
    }

    @Test(arguments: [Int32(1), 3])
    func incompressibleFiveMebibytesRoundTrip(level: Int32) throws {
        let bytes = randomBytes(5 << 20, seed: 5)
        let compressed = try compress(bytes, level: level)
        // Stored as raw blocks: 3 bytes of block header per 128 KiB, a frame header and a checksum.
        #expect(compressed.count > bytes.count && compressed.count < bytes.count + 200)
        #expect(same(try decompress(compressed, expectedBytes: bytes.count, limit: bytes.count), bytes))
    }

    /// 50 MiB through a compressor and a decompressor fed in chunks of 7,919 (a prime) and 4,099
    /// bytes, of unknown size (no pledge, no size in the header); every decompressed chunk is checked
    /// against the original where it belongs.
    @Test(arguments: [Int32(1), 3])
    func compressibleFiftyMebibytesStreamInOddChunks(level: Int32) throws {
        let bytes = payload(50 << 20, seed: 50)
        var compressor = try ZstdCompressor(level: level)
        let compressed = try streamCompress(bytes, chunkBytes: 7_919, with: &compressor)
        #expect(compressed.count < bytes.count / 100)
        var decompressor = try ZstdDecompressor(limit: bytes.count)
        var checked = 0
        try bytes.withUnsafeBytes { original in
            try streamDecompress(compressed, chunkBytes: 4_099, with: &decompressor) { chunk in
                let expected = UnsafeRawBufferPointer(rebasing: original[checked..<checked + chunk.count])
                #expect(memcmp(chunk.baseAddress!, expected.baseAddress!, chunk.count) == 0, "at byte \(checked)")
                checked += chunk.count
            }
        }
        #expect(try decompressor.finish() == bytes.count)
        #expect(checked == bytes.count)
    }

    /// Every level round trips, and the level is really applied: the sizes differ.
    @Test func levelsRoundTripAndDiffer() throws {
        let bytes = ledgerShapedBytes(256 << 10, seed: 9)
        var sizes: [Int32: Int] = [:]
        for level in [Zstd.levels.lowerBound, -5, 0, 1, 3, 9, 19, Zstd.levels.upperBound] {
            let compressed = try compress(bytes, level: level)
            #expect(same(try decompress(compressed, expectedBytes: bytes.count, limit: bytes.count), bytes), "\(level)")
            sizes[level] = compressed.count
        }
        // Not monotonic in detail (on this data level 1 beats 3, and 9 beats 19), but by far.
        #expect(sizes[0] == sizes[3], "level 0 means the default, 3")
        #expect(sizes[Zstd.levels.lowerBound]! > sizes[-5]!)
        #expect(sizes[-5]! > max(sizes[1]!, sizes[3]!))
        #expect(sizes[19]! < min(sizes[1]!, sizes[3]!))
    }

    // MARK: - Streaming against one shot

    @Test func streamingCompressionEqualsOneShot() throws {
        let bytes = ledgerShapedBytes(3 << 20, seed: 3)
        let oneShot = try compress(bytes, level: 3)
        // One compressor for every chunk size: finishing a frame leaves it ready for the next.
        var compressor = try ZstdCompressor(level: 3)
        for chunkBytes in [7_919, 65_536, 1 << 20, bytes.count] {
            try compressor.reset(pledgedSourceBytes: bytes.count)
            #expect(try streamCompress(bytes, chunkBytes: chunkBytes, with: &compressor) == oneShot, "\(chunkBytes)")
        }
        // Without a pledge the header has no size and the frame differs, but decodes the same.
        let unpledged = try streamCompress(bytes, chunkBytes: 7_919, with: &compressor)
        #expect(unpledged != oneShot)
        #expect(same(try decompress(unpledged, limit: bytes.count), bytes))
    }

    @Test func streamingDecompressionEqualsOneShot() throws {
        let bytes = ledgerShapedBytes(64 << 10, seed: 4)
        let compressed = try compress(bytes, level: 3)
        let oneShot = try decompress(compressed, limit: bytes.count)
        #expect(oneShot == bytes)
        var decompressor = try ZstdDecompressor(limit: bytes.count)
        for chunkBytes in [1, 2, 3, 7_919, compressed.count] {
            var streamed: [UInt8] = []
            try streamDecompress(compressed, chunkBytes: chunkBytes, with: &decompressor) {
                streamed.append(contentsOf: $0)
            }
            #expect(try decompressor.finish() == bytes.count)
            #expect(streamed == oneShot, "\(chunkBytes)-byte chunks")
        }
    }

    // MARK: - What the decompressor refuses

    @Test func truncatedFrameThrowsAtFinish() throws {
        let bytes = ledgerShapedBytes(1 << 20, seed: 6)
        let compressed = try compress(bytes, level: 3)
        var decompressor = try ZstdDecompressor(limit: bytes.count)
        for kept in [0, 1, 4, 5, 100, compressed.count / 2, compressed.count - 4, compressed.count - 1] {
            // Every prefix decodes without complaint as far as it goes: only the end can tell.
            try compressed.withUnsafeBytes { raw in
                try decompressor.decompress(UnsafeRawBufferPointer(rebasing: raw[..<kept])) { _ in }
            }
            #expect(storageError { try decompressor.finish() }?.code == .corrupted, "\(kept) bytes kept")
            let error = storageError { _ = try decompress(Array(compressed[..<kept]), limit: bytes.count) }
            #expect(error?.code == .corrupted, "\(kept) bytes kept")
            decompressor.reset()
        }
        // The whole frame, with the same decompressor.
        try compressed.withUnsafeBytes { try decompressor.decompress($0) { _ in } }
        #expect(try decompressor.finish() == bytes.count)
    }

    /// Incompressible input is stored as raw blocks, which zstd cannot check by decoding: only the
    /// content checksum can notice a changed byte there.
    @Test func flippedByteIsCaughtByTheContentChecksum() throws {
        let bytes = randomBytes(256 << 10, seed: 8)
        var compressed = try compress(bytes, level: 3)
        // The frame header descriptor, after the 4-byte magic: bit 2 is Content_Checksum_flag.
        #expect(compressed[4] & 0b100 != 0)
        compressed[compressed.count / 2] ^= 0x10
        let error = storageError { _ = try decompress(compressed, limit: bytes.count) }
        #expect(error?.code == .corrupted)
        #expect(error?.message.contains("checksum") == true, "\(String(describing: error))")
    }

    @Test func flippedByteInCompressedDataThrows() throws {
        let bytes = ledgerShapedBytes(1 << 20, seed: 10)
        var compressed = try compress(bytes, level: 3)
        for index in [compressed.count / 3, compressed.count / 2, compressed.count - 6] {
            compressed[index] ^= 0x01
            #expect(storageError { _ = try decompress(compressed, limit: bytes.count) }?.code == .corrupted, "\(index)")
            compressed[index] ^= 0x01
        }
        #expect(same(try decompress(compressed, limit: bytes.count), bytes))
    }

    @Test func decompressedSizeLimitThrows() throws {
        let bytes = payload(1 << 20, seed: 12)
        // Unknown size: the limit must hold as the frame decodes, not only against its header.
        var compressor = try ZstdCompressor()
        let compressed = try streamCompress(bytes, chunkBytes: bytes.count, with: &compressor)
        for limit in [0, 1, bytes.count - 1] {
            var decompressor = try ZstdDecompressor(limit: limit)
            var handedOver = 0
            let error = storageError {
                try streamDecompress(compressed, chunkBytes: compressed.count, with: &decompressor) {
                    handedOver += $0.count
                }
                try decompressor.finish()
            }
            #expect(error?.code == .corrupted, "limit \(limit)")
            #expect(handedOver <= limit, "limit \(limit)")
            #expect(storageError { _ = try decompress(compressed, limit: limit) }?.code == .corrupted)
        }
        #expect(same(try decompress(compressed, limit: bytes.count), bytes))
    }

    @Test func expectedSizeMismatchThrows() throws {
        let bytes = payload(10_000, seed: 13)
        let compressed = try compress(bytes, level: 3)
        for expected in [0, 9_999] {
            let error = storageError { _ = try decompress(compressed, expectedBytes: expected, limit: 1 << 20) }
            #expect(error?.code == .corrupted, "expected \(expected)")
        }
        let short = storageError { _ = try decompress(compressed, expectedBytes: 10_001, limit: 1 << 20) }
        #expect(short?.code == .corrupted)
        #expect(short?.message.contains("holds 10000 bytes, expected 10001") == true)
        let beyond = storageError { _ = try decompress(compressed, expectedBytes: 10_001, limit: 10_000) }
        #expect(beyond?.code == .invalidArgument)
        #expect(try decompress(compressed, expectedBytes: 10_000, limit: 10_000) == bytes)
    }

    @Test func bytesAfterTheFrameThrow() throws {
        let compressed = try compress(payload(1_000, seed: 14), level: 3)
        for trailing in [[0], compressed] {
            let error = storageError { _ = try decompress(compressed + trailing, limit: 1 << 20) }
            #expect(error?.code == .corrupted)
        }
        // Also when they come in a later call.
        var decompressor = try ZstdDecompressor(limit: 1 << 20)
        try compressed.withUnsafeBytes { try decompressor.decompress($0) { _ in } }
        #expect(storageError { try [UInt8(0)].withUnsafeBytes { try decompressor.decompress($0) { _ in } } } != nil)
    }

    @Test func windowBeyondTheBoundIsRefused() throws {
        // Level 3 with the size unknown declares a 2 MiB window (log 21).
        let bytes = ledgerShapedBytes(1 << 20, seed: 15)
        var compressor = try ZstdCompressor(level: 3)
        let compressed = try streamCompress(bytes, chunkBytes: bytes.count, with: &compressor)
        var narrow = try ZstdDecompressor(limit: bytes.count, windowLogMax: 20)
        let error = storageError { try streamDecompress(compressed, chunkBytes: 100, with: &narrow) { _ in } }
        #expect(error?.code == .corrupted)
        var wide = try ZstdDecompressor(limit: bytes.count, windowLogMax: 21)
        try streamDecompress(compressed, chunkBytes: 100, with: &wide) { _ in }
        #expect(try wide.finish() == bytes.count)
    }

    // MARK: - Parameters and errors

    @Test func invalidParametersAreRejected() {
        for level in [Zstd.levels.lowerBound - 1, Zstd.levels.upperBound + 1, Int32.min, Int32.max] {
            #expect(storageError { _ = try ZstdCompressor(level: level) }?.code == .invalidArgument, "\(level)")
            #expect(storageError { _ = try compress([1, 2, 3], level: level) }?.code == .invalidArgument)
        }
        #expect(storageError { _ = try ZstdCompressor(pledgedSourceBytes: -1) }?.code == .invalidArgument)
        #expect(storageError { _ = try ZstdDecompressor(limit: -1) }?.code == .invalidArgument)
        for windowLogMax: Int32 in [0, 9, 32, 100] {
            let error = storageError { _ = try ZstdDecompressor(limit: 1, windowLogMax: windowLogMax) }
            #expect(error?.code == .invalidArgument, "windowLogMax \(windowLogMax)")
        }
    }

    @Test func pledgedSizeMismatchThrows() throws {
        let bytes = payload(1_000, seed: 16)
        for pledged in [999, 1_001] {
            var compressor = try ZstdCompressor(pledgedSourceBytes: pledged)
            let error = storageError { _ = try streamCompress(bytes, chunkBytes: 100, with: &compressor) }
            #expect(error?.code == .invalidArgument, "pledged \(pledged)")
        }
    }

    /// After an error every call throws until reset (a caller that goes on cannot build a frame out
    /// of pieces of two); reset makes the context usable again.
    @Test func errorsAreStickyUntilReset() throws {
        struct SinkFailed: Error {}
        let bytes = payload(1 << 20, seed: 17)
        var compressor = try ZstdCompressor()
        #expect(throws: SinkFailed.self) {
            try bytes.withUnsafeBytes { try compressor.compress($0) { _ in throw SinkFailed() } }
        }
        #expect(storageError { try compressor.finish { _ in } }?.code == .invalidArgument)
        try compressor.reset()
        let compressed = try streamCompress(bytes, chunkBytes: 7_919, with: &compressor)
        #expect(same(try decompress(compressed, limit: bytes.count), bytes))

        var decompressor = try ZstdDecompressor(limit: bytes.count)
        let garbage = payload(100, seed: 18)
        #expect(storageError { try garbage.withUnsafeBytes { try decompressor.decompress($0) { _ in } } } != nil)
        let again = storageError { try compressed.withUnsafeBytes { try decompressor.decompress($0) { _ in } } }
        #expect(again?.code == .invalidArgument)
        #expect(storageError { try decompressor.finish() }?.code == .invalidArgument)
        decompressor.reset()
        try compressed.withUnsafeBytes { try decompressor.decompress($0) { _ in } }
        #expect(try decompressor.finish() == bytes.count)
    }

    @Test func versionStringIsLibzstds() {
        let parts = Zstd.versionString.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil }, "\(Zstd.versionString)")
        #expect(Int(parts.first ?? "") == 1)
    }
}

// MARK: - Helpers

private func compress(_ bytes: [UInt8], level: Int32) throws -> [UInt8] {
    try bytes.withUnsafeBytes { try ZstdCompressor.compress($0, level: level) }
}

private func decompress(_ compressed: [UInt8], expectedBytes: Int? = nil, limit: Int) throws -> [UInt8] {
    try compressed.withUnsafeBytes { try ZstdDecompressor.decompress($0, expectedBytes: expectedBytes, limit: limit) }
}

/// One frame of `bytes` given to `compressor` `chunkBytes` at a time.
private func streamCompress(
    _ bytes: [UInt8],
    chunkBytes: Int,
    with compressor: inout ZstdCompressor
) throws -> [UInt8] {
    var compressed: [UInt8] = []
    try bytes.withUnsafeBytes { raw in
        for start in stride(from: 0, to: raw.count, by: chunkBytes) {
            let chunk = UnsafeRawBufferPointer(rebasing: raw[start..<min(start + chunkBytes, raw.count)])
            try compressor.compress(chunk) { compressed.append(contentsOf: $0) }
        }
    }
    try compressor.finish { compressed.append(contentsOf: $0) }
    return compressed
}

/// `compressed` given to `decompressor` `chunkBytes` at a time (without finishing).
private func streamDecompress(
    _ compressed: [UInt8],
    chunkBytes: Int,
    with decompressor: inout ZstdDecompressor,
    output: (UnsafeRawBufferPointer) throws -> Void
) throws {
    try compressed.withUnsafeBytes { raw in
        for start in stride(from: 0, to: raw.count, by: chunkBytes) {
            let chunk = UnsafeRawBufferPointer(rebasing: raw[start..<min(start + chunkBytes, raw.count)])
            try decompressor.decompress(chunk, output: output)
        }
    }
}

/// Whether two byte arrays are equal, compared with memcmp (element by element is slow in a debug
/// build, and a failed `==` would print megabytes).
private func same(_ left: [UInt8], _ right: [UInt8]) -> Bool {
    left.count == right.count
        && left.withUnsafeBytes { left in
            right.withUnsafeBytes { right in
                left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
            }
        }
}

/// `count` bytes of seeded random noise, which no compressor can shrink.
private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var random = SeededRandom(seed: seed)
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        let raw = UnsafeMutableRawBufferPointer(buffer)
        for offset in stride(from: 0, to: count, by: 8) {
            let word = random.next()
            withUnsafeBytes(of: word) { raw[offset..<min(offset + 8, count)].copyBytes(from: $0) }
        }
        initialized = count
    }
}

/// `count` bytes shaped like ledger state: 24-byte records of a little-endian UInt64 id increasing
/// by 1 to 4 and a UInt128 balance, mostly under 10,000 and sometimes up to 2^40.
private func ledgerShapedBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var random = SeededRandom(seed: seed)
    var id: UInt64 = 1_000_000
    return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        let raw = UnsafeMutableRawBufferPointer(buffer)
        raw.initializeMemory(as: UInt8.self, repeating: 0)
        for offset in stride(from: 0, to: count - 23, by: 24) {
            let draw = random.next()
            id += 1 + (draw & 3)
            let balance = UInt128((draw >> 8) & 0xFF == 0 ? draw >> 24 : (draw >> 16) % 10_000)
            raw.storeBytes(of: id.littleEndian, toByteOffset: offset, as: UInt64.self)
            raw.storeBytes(of: balance.littleEndian, toByteOffset: offset + 8, as: UInt128.self)
        }
        initialized = count
    }
}
