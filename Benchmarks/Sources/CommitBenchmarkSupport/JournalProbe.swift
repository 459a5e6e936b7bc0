import SystemPackage
import TallyStorage

/// Commit latency through ``Journal`` alone: one appender, one record at a time, each waited for
/// until durable. Shared so that the engine harness can measure the same in its own run, between
/// the disk floor and the engine.
public enum JournalProbe {
    public struct Latency: Codable, Sendable {
        public var payloadBytes: Int
        /// From before `append` to the return of `waitUntilDurable`.
        public var commit: LatencySummary
        /// The sync thread's `pwrite` and `fdatasync` in the same interval: the disk's part.
        public var syncThreadWrite: LatencySummary
        public var syncThreadDataSync: LatencySummary
        public var groupSyncs: UInt64
    }

    /// A fresh journal in `directory/name` (removed afterwards), `warmup` unrecorded commits, then
    /// `count` recorded ones.
    public static func commitLatency(
        in directory: String,
        payloadBytes: Int,
        count: Int,
        warmup: Int = 50
    ) throws -> Latency {
        let scratch = try ScratchDirectory(in: directory, prefix: "journal-latency")
        defer { scratch.remove() }
        let fileSystem = MeteredFileSystem()
        let (journal, _) = try Journal.open(
            directory: FilePath(scratch.path + "/journal"),
            fileSystem: fileSystem,
            replay: { _, _ in },
            onDurable: { _ in }
        )
        defer { try? journal.close() }
        let payload = [UInt8](repeating: 0xA5, count: payloadBytes)
        var recorder = LatencyRecorder()
        var before = fileSystem.snapshot
        try payload.withUnsafeBytes { bytes in
            for index in 0..<(warmup + count) {
                if index == warmup {
                    fileSystem.resetLatencies()
                    before = fileSystem.snapshot
                }
                let started = monotonicNanoseconds()
                let sequence = try journal.append(bytes)
                try journal.waitUntilDurable(sequence)
                let ended = monotonicNanoseconds()
                if index >= warmup {
                    recorder.record(ended - started)
                }
            }
        }
        let latencies = fileSystem.syncThreadLatencies
        return Latency(
            payloadBytes: payloadBytes,
            commit: recorder.summary,
            syncThreadWrite: latencies.write,
            syncThreadDataSync: latencies.dataSync,
            groupSyncs: fileSystem.snapshot.since(before).groupSyncs
        )
    }
}
