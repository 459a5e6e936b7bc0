import SystemPackage
import TallyCore
import TallyStorage

/// Checks snapshots without an engine, without the data directory's lock and without writing: each
/// file against itself (every checksum, a full decode, the state digest recomputed, the header's
/// counts against the restored state), and against the journal, the audit log: replaying the journal
/// from empty through a snapshot's sequence must give the snapshot's digest. For
/// `tally snapshot verify`.
///
/// The lock is not needed, so verification can run beside a server: a snapshot is immutable once it
/// has its final name, `ledger.conf` is written once when the directory is created, and the journal
/// records a snapshot includes were durable before it took its name and are never rewritten. Every
/// read goes through the given file system; pass one that refuses writes to be sure of the rest.
public enum SnapshotVerification {
    /// The ledger settings the data directory at `dataDirectory` stores (`ledger.conf`) applied to
    /// `base`, and a one-line summary of them; nil when it has none. Reads without taking the lock.
    public static func storedLedgerConfiguration(
        dataDirectory: FilePath,
        base: LedgerConfiguration = LedgerConfiguration(),
        fileSystem: any FileSystem = SystemFileSystem()
    ) throws -> (configuration: LedgerConfiguration, summary: String)? {
        let path = dataDirectory.appending(StoredLedgerSettings.fileName)
        guard fileSystem.fileExists(path) else { return nil }
        let file = try fileSystem.openFile(path, create: false)
        defer { try? fileSystem.close(file) }
        let size = try fileSystem.size(of: file)
        guard size <= 64 << 10 else {
            throw StorageError(
                .corrupted,
                "\(StoredLedgerSettings.fileName) is \(size) bytes; it should be a few lines",
                path: path
            )
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let read = try bytes.withUnsafeMutableBytes { try fileSystem.read(file, into: $0, at: 0) }
        var stored: StoredLedgerSettings
        do {
            stored = try StoredLedgerSettings(text: String(decoding: bytes[0..<read], as: UTF8.self))
        } catch var error as StorageError {
            error.path = path
            throw error
        }
        return (stored.applied(to: base), stored.summary)
    }

    /// Reads the snapshot at `path` under `configuration` (the data directory's stored settings)
    /// with every check: header, table, trailer and section checksums, zstd frames, a full decode,
    /// and the restored state's digest against the header's. Also checks the sequence in the file's
    /// name (when it has a snapshot's name) and the header's counts against the restored state.
    /// Returns what the header says; throws ``StorageError`` (`corrupted`, `unsupportedFormat` for
    /// damage, `io` when the file cannot be read).
    public static func verify(
        _ path: FilePath,
        configuration: LedgerConfiguration,
        fileSystem: any FileSystem = SystemFileSystem()
    ) throws -> SnapshotFile.Info {
        let (ledger, info) = try SnapshotFile.read(
            path,
            configuration: configuration,
            fileSystem: fileSystem,
            verifyDigest: true
        )
        func corrupted(_ message: String) -> StorageError {
            StorageError(.corrupted, "snapshot \(path): \(message)", path: path)
        }
        if let name = path.lastComponent?.string, let named = SnapshotFile.sequence(ofName: name),
            named != info.sequence
        {
            throw corrupted("the header says sequence \(info.sequence), the file's name \(named)")
        }
        // The digest covers the state, not these header fields: a writer that put wrong counts in a
        // header whose checksum it then computed would otherwise go unnoticed.
        let statistics = ledger.statistics
        let counts: [(String, UInt64, UInt64)] = [
            ("transactions", info.transactions, statistics.transactions),
            ("accounts", info.accounts, UInt64(statistics.accounts)),
            ("retained keys", info.retainedKeys, UInt64(statistics.retainedKeys)),
            ("open holds", info.openHolds, UInt64(statistics.openHolds)),
            ("recorded time", info.recordedTime.nanosecondsSinceEpoch, statistics.recordedTime.nanosecondsSinceEpoch),
        ]
        for (name, header, restored) in counts where header != restored {
            throw corrupted("the header says \(name) \(header); the restored state has \(restored)")
        }
        return info
    }

    /// The journal replayed from empty, with the state digest at each sequence asked for.
    public struct Replay: Sendable {
        /// The digest of the state through each sequence asked for that the replay reached.
        public var digests: [UInt64: StateDigest]
        /// Records replayed.
        public var records: UInt64
        /// The last record replayed; 0 when none was.
        public var lastSequence: UInt64
        /// What stopped the replay before it reached every sequence asked for: damage in the journal,
        /// including a journal that ends too soon (``StorageError``, `corrupted` or
        /// `unsupportedFormat`; `io` when it could not be read), or a record that does not reproduce
        /// what it recorded (``EngineError``, `replayDiverged`). Nil when the replay reached them all.
        public var failure: (any Error)?
    }

    /// Replays the journal in `journal` (archived segments included) from an empty ledger under
    /// `configuration`, checking every record as recovery does, and takes the state digest at each
    /// of `sequences` (0 is the empty ledger). Reads nothing past the highest of them, so a journal
    /// a server is appending to can be replayed up to any durable sequence. Never throws: see
    /// ``Replay/failure``.
    public static func replay(
        journal: FilePath,
        configuration: LedgerConfiguration,
        digestsAt sequences: Set<UInt64>,
        fileSystem: any FileSystem = SystemFileSystem()
    ) -> Replay {
        let wanted = sequences.sorted()
        var next = 0
        var replayer = Replayer(ledger: Ledger(configuration: configuration))
        var replay = Replay(digests: [:], records: 0, lastSequence: 0, failure: nil)
        // Takes the digest for every sequence asked for up to `sequence`, which the state is at.
        func capture(through sequence: UInt64) {
            guard next < wanted.count, wanted[next] <= sequence else { return }
            let digest = replayer.ledger.digest()
            while next < wanted.count && wanted[next] <= sequence {
                replay.digests[wanted[next]] = digest
                next += 1
            }
        }
        capture(through: 0)
        guard let last = wanted.last, last > 0 else { return replay }
        do {
            _ = try JournalScanner(directory: journal, fileSystem: fileSystem).scan(through: last) {
                sequence,
                payload in
                // The scanner checks that sequences follow each other, but not where the first is.
                guard sequence == replay.lastSequence + 1 else {
                    throw StorageError(
                        .corrupted,
                        "the journal has record \(sequence) where \(replay.lastSequence + 1) was expected: records \(replay.lastSequence + 1) to \(sequence - 1) are missing",
                        path: journal,
                        sequence: replay.lastSequence + 1
                    )
                }
                try replayer.replay(sequence, payload)
                replay.records += 1
                replay.lastSequence = sequence
                capture(through: sequence)
            }
        } catch {
            replay.failure = error
        }
        return replay
    }
}
