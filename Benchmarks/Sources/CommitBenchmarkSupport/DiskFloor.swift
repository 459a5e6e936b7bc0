#if canImport(Glibc)
import Glibc
#endif

/// The disk floor as every harness measures it: sync latency at 4 KiB (the goal's reference), and
/// at the size of a lone journal record appended after the previous one (what a single-operation
/// commit really writes), and sequential synced bandwidth at a few large write sizes.
public struct DiskFloor: Codable, Sendable {
    public struct Settings: Sendable {
        /// Timed `pwrite` + `fdatasync` pairs per latency measurement (0: none).
        public var syncs = 2_000
        /// The small append's size: a one-operation engine record (24 + 136 bytes) by default.
        public var smallWriteBytes = 160
        /// Write sizes of the bandwidth measurement (empty: none).
        public var bandwidthWriteBytes = [1 << 20, 4 << 20, 16 << 20]
        /// Bytes written per bandwidth size.
        public var bandwidthTotalBytes = 256 << 20
        /// The scratch file: as large as a journal segment, or the largest write if that is larger.
        public var fileBytes = 64 << 20

        public init() {}
    }

    /// 4 KiB at the next 4 KiB offset + fdatasync.
    public var latency4KiB: LatencySummary?
    /// ``Settings/smallWriteBytes`` at the next offset (the same page several times) + fdatasync.
    public var latencySmallAppend: LatencySummary?
    public var smallWriteBytes: Int
    public var bandwidth: [DiskProbe.Bandwidth]
    /// Preparing the scratch file: allocate, zero-fill, fsync (what the journal's preparer does).
    public var preparationMegabytesPerSecond: Double

    /// The best sequential synced bandwidth measured, in MB/s.
    public var bestMegabytesPerSecond: Double {
        self.bandwidth.map(\.megabytesPerSecond).max() ?? .nan
    }

    /// The bandwidth measured at the write size nearest (by ratio) to `bytes`.
    public func megabytesPerSecond(nearest bytes: Double) -> Double {
        guard !self.bandwidth.isEmpty else { return .nan }
        return self.bandwidth.min {
            abs(log2(Double($0.writeBytes) / bytes)) < abs(log2(Double($1.writeBytes) / bytes))
        }!
        .megabytesPerSecond
    }

    /// Measures in `directory`, on one scratch file that is removed afterwards.
    public static func measure(in directory: String, _ settings: Settings) throws -> DiskFloor {
        let probe = DiskProbe(directory: directory)
        let fileBytes = max(settings.fileBytes, settings.bandwidthWriteBytes.max() ?? 0)
        let file = try probe.prepareFile(name: "disk-floor.tmp", bytes: fileBytes)
        defer { file.close() }
        var floor = DiskFloor(
            latency4KiB: nil,
            latencySmallAppend: nil,
            smallWriteBytes: settings.smallWriteBytes,
            bandwidth: [],
            preparationMegabytesPerSecond: file.preparationMegabytesPerSecond
        )
        if settings.syncs > 0 {
            floor.latency4KiB = try probe.syncLatency(file, writeBytes: 4_096, count: settings.syncs)
            floor.latencySmallAppend = try probe.syncLatency(
                file,
                writeBytes: settings.smallWriteBytes,
                count: settings.syncs
            )
        }
        for writeBytes in settings.bandwidthWriteBytes {
            floor.bandwidth.append(
                try probe.syncedBandwidth(file, writeBytes: writeBytes, totalBytes: settings.bandwidthTotalBytes)
            )
        }
        return floor
    }

    /// Summary lines.
    public var lines: [String] {
        var lines: [String] = []
        if let latency = self.latency4KiB {
            lines.append("4 KiB pwrite + fdatasync: \(latency.text)")
        }
        if let latency = self.latencySmallAppend {
            lines.append("\(self.smallWriteBytes) B append + fdatasync: \(latency.text)")
        }
        for bandwidth in self.bandwidth {
            lines.append(
                "\(bandwidth.writeBytes >> 20) MiB writes + fdatasync: "
                    + "\(format(bandwidth.megabytesPerSecond, digits: 0)) MB/s (\(bandwidth.writes) writes, "
                    + "p50 \(format(bandwidth.latency.p50Microseconds, digits: 0)) µs each)"
            )
        }
        lines.append(
            "preparing the file (zero-fill + fsync): \(format(self.preparationMegabytesPerSecond, digits: 0)) MB/s"
        )
        return lines
    }
}
