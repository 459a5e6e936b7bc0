import Foundation
import SystemPackage

/// A Tally data directory, locked for one process: `tally.lock` (holding the owner's pid) is held
/// with an exclusive `flock` for as long as the directory is open, and the journal lives in
/// `journal/`. A second process opening the same directory gets a clear error instead of two
/// writers corrupting one journal.
public final class DataDirectory: @unchecked Sendable {
    // @unchecked: immutable after init; `lock` is only closed by `close()`, called once.

    public let path: FilePath
    public let fileSystem: any FileSystem
    private var lock: FileDescriptor?

    public static let lockName = "tally.lock"
    public static let journalName = "journal"

    /// Takes the directory's lock; with `create`, creates the directory (mode 0700) when missing,
    /// otherwise a missing directory is an error (tools that only read must not create one).
    public init(_ path: FilePath, create: Bool = true, fileSystem: any FileSystem = SystemFileSystem()) throws {
        self.path = path
        self.fileSystem = fileSystem
        if !fileSystem.fileExists(path) {
            guard create else {
                throw StorageError(.io, "there is no data directory at \(path)", path: path)
            }
            try fileSystem.createDirectory(path)
            // The new entry must be durable in its parent, or a power loss could lose the whole
            // directory after records in it were acknowledged.
            let parent = path.removingLastComponent()
            let handle = try fileSystem.openDirectory(parent.isEmpty ? "." : parent)
            defer { try? fileSystem.close(handle) }
            try fileSystem.synchronize(handle)
        }
        let lockPath = path.appending(Self.lockName)
        let lock = try fileSystem.openFile(lockPath, create: true)
        guard try fileSystem.lockExclusively(lock) else {
            var holder = [UInt8](repeating: 0, count: 32)
            let count = (try? holder.withUnsafeMutableBytes { try fileSystem.read(lock, into: $0, at: 0) }) ?? 0
            try? fileSystem.close(lock)
            let pid = String(decoding: holder[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw StorageError(
                .directoryLocked,
                "data directory \(path) is in use by another tally process" + (pid.isEmpty ? "" : " (pid \(pid))"),
                path: lockPath
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        try fileSystem.resize(lock, to: 0)
        try pid.withUnsafeBytes { try fileSystem.write(lock, $0, at: 0) }
        self.lock = lock
    }

    /// The journal's directory.
    public var journalPath: FilePath { self.path.appending(Self.journalName) }

    public static let snapshotsName = "snapshots"
    /// Where snapshots are kept (created by the first snapshot written).
    public var snapshotsPath: FilePath { self.path.appending(Self.snapshotsName) }

    /// Releases the lock.
    public func close() {
        if let lock = self.lock {
            try? self.fileSystem.close(lock)
            self.lock = nil
        }
    }

    deinit {
        self.close()
    }
}
