import SystemPackage
import TallyCore
import TallyStorage

/// The snapshots of a data directory (`snapshots/`): which exist, and loading the newest one that
/// checks out, falling back to older ones.
public struct SnapshotCatalog: Sendable {
    public let directory: FilePath
    public let fileSystem: any FileSystem

    public init(directory: FilePath, fileSystem: any FileSystem = SystemFileSystem()) {
        self.directory = directory
        self.fileSystem = fileSystem
    }

    /// A snapshot that did not load, and why.
    public struct Rejection: Hashable, Sendable, CustomStringConvertible {
        public var name: String
        public var error: StorageError

        public var description: String { "\(self.name): \(self.error)" }
    }

    /// The snapshot files, newest (highest sequence) first.
    public func snapshots() throws -> [(name: String, sequence: UInt64)] {
        guard self.fileSystem.fileExists(self.directory) else { return [] }
        return try self.fileSystem.contentsOfDirectory(self.directory)
            .compactMap { name in SnapshotFile.sequence(ofName: name).map { (name, $0) } }
            .sorted { $0.sequence > $1.sequence }
    }

    /// Removes what an interrupted snapshot left (`*.tsnap.tmp`); they were never renamed into place,
    /// so nothing refers to them.
    public func removeUnfinished() throws {
        guard self.fileSystem.fileExists(self.directory) else { return }
        for name in try self.fileSystem.contentsOfDirectory(self.directory)
        where name.hasSuffix("." + SnapshotFile.fileExtension + ".tmp") {
            try self.fileSystem.removeFile(self.directory.appending(name))
        }
    }

    /// Loads the newest snapshot at or before `sequenceMax` that reads and checks out; every newer or
    /// damaged one is returned as a rejection (recovery reports them: a damaged snapshot is never
    /// silently passed over). Nil when none loads.
    public func loadNewest(
        configuration: LedgerConfiguration,
        sequenceMax: UInt64 = .max,
        verifyDigest: Bool = false
    ) throws -> (loaded: (ledger: Ledger, info: SnapshotFile.Info)?, rejected: [Rejection]) {
        var rejected: [Rejection] = []
        for snapshot in try self.snapshots() {
            guard snapshot.sequence <= sequenceMax else {
                rejected.append(
                    Rejection(
                        name: snapshot.name,
                        error: StorageError(
                            .corrupted,
                            "covers sequence \(snapshot.sequence), beyond the journal's last durable record \(sequenceMax)"
                        )
                    )
                )
                continue
            }
            do {
                let loaded = try SnapshotFile.read(
                    self.directory.appending(snapshot.name),
                    configuration: configuration,
                    fileSystem: self.fileSystem,
                    verifyDigest: verifyDigest
                )
                guard loaded.info.sequence == snapshot.sequence else {
                    throw StorageError(
                        .corrupted,
                        "the file says sequence \(loaded.info.sequence), its name \(snapshot.sequence)"
                    )
                }
                return (loaded, rejected)
            } catch let error as StorageError {
                rejected.append(Rejection(name: snapshot.name, error: error))
            }
        }
        return (nil, rejected)
    }
}
