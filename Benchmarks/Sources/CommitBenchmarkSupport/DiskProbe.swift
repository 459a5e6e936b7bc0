#if canImport(Glibc)
import Glibc
#endif

/// The disk's own cost, measured with bare system calls (`pwrite`, `fdatasync`) on a scratch file
/// prepared as the journal prepares its segments: allocated, zero-filled and synced, so that a
/// later write changes no allocation metadata and a sync writes data only. This is the floor the
/// journal and the engine are compared with, measured in the same run as they are.
public struct DiskProbe {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A prepared scratch file; ``close()`` removes it.
    public final class ScratchFile {
        public let path: String
        public let descriptor: Int32
        public let bytes: Int
        /// How fast preparing it went (allocate, zero-fill, fsync), in MB/s.
        public let preparationMegabytesPerSecond: Double

        init(path: String, descriptor: Int32, bytes: Int, preparationMegabytesPerSecond: Double) {
            self.path = path
            self.descriptor = descriptor
            self.bytes = bytes
            self.preparationMegabytesPerSecond = preparationMegabytesPerSecond
        }

        public func close() {
            _ = Glibc.close(self.descriptor)
            unlink(self.path)
        }
    }

    /// Sequential synced bandwidth at one write size.
    public struct Bandwidth: Codable, Sendable {
        public var writeBytes: Int
        public var writes: Int
        public var megabytesPerSecond: Double
        /// Each write's `pwrite` + `fdatasync`.
        public var latency: LatencySummary
    }

    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Creates a file of `bytes` in the directory. With `zeroFilled` (the journal's way) it is
    /// allocated, written with zeros and synced; without, only allocated (`fallocate`: unwritten
    /// extents, which the first write to each must convert, in metadata).
    public func prepareFile(name: String, bytes: Int, zeroFilled: Bool = true) throws -> ScratchFile {
        let path = self.directory + "/" + name
        unlink(path)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Self.failure("open \(path)") }
        let started = monotonicNanoseconds()
        let allocated = posix_fallocate(descriptor, 0, off_t(bytes))
        guard allocated == 0 else {
            Glibc.close(descriptor)
            throw Failure(description: "posix_fallocate \(path): \(String(cString: strerror(allocated)))")
        }
        if zeroFilled {
            let zeros = [UInt8](repeating: 0, count: 1 << 20)
            var offset = 0
            while offset < bytes {
                let count = min(zeros.count, bytes - offset)
                try zeros.withUnsafeBytes { try Self.writeAll(descriptor, $0.baseAddress!, count, at: offset) }
                offset += count
            }
        }
        guard fsync(descriptor) == 0 else {
            Glibc.close(descriptor)
            throw Self.failure("fsync \(path)")
        }
        let elapsed = monotonicNanoseconds() - started
        return ScratchFile(
            path: path,
            descriptor: descriptor,
            bytes: bytes,
            preparationMegabytesPerSecond: megabytesPerSecond(bytes: Double(bytes), nanoseconds: elapsed)
        )
    }

    /// `count` times: write `writeBytes` at the next offset (wrapping at the end of the file), then
    /// `fdatasync`; the latency of each pair. The first `warmup` pairs are not recorded.
    public func syncLatency(
        _ file: ScratchFile,
        writeBytes: Int,
        count: Int,
        warmup: Int = 50
    ) throws -> LatencySummary {
        let buffer = Self.patternBuffer(writeBytes)
        defer { buffer.deallocate() }
        var recorder = LatencyRecorder()
        var offset = 0
        for index in 0..<(warmup + count) {
            if offset + writeBytes > file.bytes {
                offset = 0
            }
            let started = monotonicNanoseconds()
            try Self.writeAll(file.descriptor, buffer.baseAddress!, writeBytes, at: offset)
            guard fdatasync(file.descriptor) == 0 else { throw Self.failure("fdatasync \(file.path)") }
            let ended = monotonicNanoseconds()
            if index >= warmup {
                recorder.record(ended - started)
            }
            offset += writeBytes
        }
        return recorder.summary
    }

    /// Writes of `writeBytes` at consecutive offsets, each followed by `fdatasync`, until at least
    /// `totalBytes` (and at least four writes) are written; wraps at the end of the file. One write
    /// of the size first, unmeasured, so the buffer's pages are touched before timing.
    public func syncedBandwidth(_ file: ScratchFile, writeBytes: Int, totalBytes: Int) throws -> Bandwidth {
        precondition(writeBytes <= file.bytes, "the file must hold one write")
        let buffer = Self.patternBuffer(writeBytes)
        defer { buffer.deallocate() }
        try Self.writeAll(file.descriptor, buffer.baseAddress!, writeBytes, at: 0)
        guard fdatasync(file.descriptor) == 0 else { throw Self.failure("fdatasync \(file.path)") }
        let writes = max(4, (totalBytes + writeBytes - 1) / writeBytes)
        var recorder = LatencyRecorder()
        var offset = writeBytes
        let started = monotonicNanoseconds()
        for _ in 0..<writes {
            if offset + writeBytes > file.bytes {
                offset = 0
            }
            let writeStarted = monotonicNanoseconds()
            try Self.writeAll(file.descriptor, buffer.baseAddress!, writeBytes, at: offset)
            guard fdatasync(file.descriptor) == 0 else { throw Self.failure("fdatasync \(file.path)") }
            recorder.record(monotonicNanoseconds() - writeStarted)
            offset += writeBytes
        }
        let elapsed = monotonicNanoseconds() - started
        return Bandwidth(
            writeBytes: writeBytes,
            writes: writes,
            megabytesPerSecond: megabytesPerSecond(bytes: Double(writes * writeBytes), nanoseconds: elapsed),
            latency: recorder.summary
        )
    }

    /// A page-aligned buffer of non-zero bytes: a virtual disk may treat all-zero writes specially
    /// (detect-zeroes), and journal records are never all zero.
    static func patternBuffer(_ bytes: Int) -> UnsafeMutableRawBufferPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 4_096)
        for index in 0..<buffer.count {
            buffer[index] = UInt8(truncatingIfNeeded: index &* 131 &+ 7) | 1
        }
        return buffer
    }

    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int, at offset: Int) throws {
        var written = 0
        while written < count {
            let result = pwrite(descriptor, bytes + written, count - written, off_t(offset + written))
            if result < 0 {
                if errno == EINTR {
                    continue
                }
                throw Self.failure("pwrite")
            }
            guard result > 0 else { throw Failure(description: "pwrite wrote nothing") }
            written += result
        }
    }

    static func failure(_ call: String) -> Failure {
        Failure(description: "\(call): \(String(cString: strerror(errno)))")
    }
}
