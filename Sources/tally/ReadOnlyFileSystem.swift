import SystemPackage
import TallyStorage

/// The system's file system, for tools that promise not to write: files are opened read-only (so a
/// read-only copy or mount can be checked too), and every call that would change something is
/// refused with ``StorageError/Code-swift.struct/invalidArgument`` instead of being made.
struct ReadOnlyFileSystem: FileSystem {
    private let system = SystemFileSystem()

    private func refuse(_ call: String, _ path: FilePath? = nil) -> StorageError {
        StorageError(.invalidArgument, "\(call) refused: this command does not write", path: path)
    }

    func openFile(_ path: FilePath, create: Bool) throws -> FileDescriptor {
        guard !create else { throw self.refuse("creating a file", path) }
        do {
            return try FileDescriptor.open(path, .readOnly, options: [.closeOnExec])
        } catch let errno as Errno {
            throw StorageError.systemCall("open", errno, path: path)
        }
    }

    func openDirectory(_ path: FilePath) throws -> FileDescriptor {
        try self.system.openDirectory(path)
    }

    func close(_ file: FileDescriptor) throws {
        try self.system.close(file)
    }

    func write(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        throw self.refuse("pwrite")
    }

    func read(_ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        try self.system.read(file, into: buffer, at: offset)
    }

    func synchronizeData(_ file: FileDescriptor) throws {
        throw self.refuse("fdatasync")
    }

    func synchronize(_ file: FileDescriptor) throws {
        throw self.refuse("fsync")
    }

    func allocate(_ file: FileDescriptor, offset: Int64, length: Int64) throws {
        throw self.refuse("fallocate")
    }

    func resize(_ file: FileDescriptor, to size: Int64) throws {
        throw self.refuse("ftruncate")
    }

    func size(of file: FileDescriptor) throws -> Int64 {
        try self.system.size(of: file)
    }

    func lockExclusively(_ file: FileDescriptor) throws -> Bool {
        throw self.refuse("flock")
    }

    func createDirectory(_ path: FilePath) throws {
        throw self.refuse("mkdir", path)
    }

    func contentsOfDirectory(_ path: FilePath) throws -> [String] {
        try self.system.contentsOfDirectory(path)
    }

    func rename(_ source: FilePath, to destination: FilePath) throws {
        throw self.refuse("rename", source)
    }

    func removeFile(_ path: FilePath) throws {
        throw self.refuse("unlink", path)
    }

    func fileExists(_ path: FilePath) -> Bool {
        self.system.fileExists(path)
    }
}
