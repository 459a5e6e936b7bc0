import SystemPackage

/// Every file-system call TallyStorage makes, behind one protocol so that tests can inject faults
/// (a failing sync, a full disk, a torn write) and simulate crashes. ``SystemFileSystem`` is the
/// real one. All calls throw ``StorageError``.
public protocol FileSystem: Sendable {
    /// Opens (and with `create`, creates with mode 0600) the file at `path` for reading and writing.
    func openFile(_ path: FilePath, create: Bool) throws -> FileDescriptor
    /// Opens a directory, for ``synchronize(_:)`` after creating, renaming or removing entries in it.
    func openDirectory(_ path: FilePath) throws -> FileDescriptor
    func close(_ file: FileDescriptor) throws
    /// Writes all of `bytes` at `offset` (short writes are continued).
    func write(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws
    /// Reads up to `buffer.count` bytes at `offset`; returns how many (fewer only at end of file).
    func read(_ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int
    /// `fdatasync`: the file's data (and the metadata needed to read it) is on stable storage.
    func synchronizeData(_ file: FileDescriptor) throws
    /// `fsync`: data and all metadata.
    func synchronize(_ file: FileDescriptor) throws
    /// `fallocate` (mode 0): reserves `length` bytes at `offset`, extending the file if needed.
    func allocate(_ file: FileDescriptor, offset: Int64, length: Int64) throws
    /// `ftruncate`.
    func resize(_ file: FileDescriptor, to size: Int64) throws
    /// The file's size in bytes.
    func size(of file: FileDescriptor) throws -> Int64
    /// Takes an exclusive `flock` without waiting; false when another open file holds it.
    func lockExclusively(_ file: FileDescriptor) throws -> Bool
    /// Creates a directory (mode 0700); succeeds when it exists already.
    func createDirectory(_ path: FilePath) throws
    /// The names in a directory, without `.` and `..`, in no particular order.
    func contentsOfDirectory(_ path: FilePath) throws -> [String]
    func rename(_ source: FilePath, to destination: FilePath) throws
    func removeFile(_ path: FilePath) throws
    func fileExists(_ path: FilePath) -> Bool
}
