import Foundation
import SystemPackage
import TallyStorage

/// The real file system, except that every write goes out as a run of `pwrite`s of at most
/// `chunkBytes`, in order, with a pause between them: a slow disk, as far as a kill can tell.
///
/// A SIGKILL cuts a write short only while the kernel is copying it, between two pages, and here a
/// journal write takes a few microseconds against a sync's 170: kills almost never land there, so a
/// crash test with the plain file system almost never meets a torn tail. Between two chunks, a kill
/// leaves what an interrupted write leaves, a prefix of it in the file, and the pauses make the
/// window wide enough that some kills do. Runs with it and without it are mixed, so the real file
/// system is killed too.
struct ChunkedWriteFileSystem: FileSystem {
    let base = SystemFileSystem()
    let chunkBytes: Int
    let pauseMicroseconds: UInt32

    init(chunkBytes: Int, pauseMicroseconds: UInt32) {
        precondition(chunkBytes >= 1)
        self.chunkBytes = chunkBytes
        self.pauseMicroseconds = pauseMicroseconds
    }

    func write(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var start = 0
        while start < bytes.count {
            if start > 0 && self.pauseMicroseconds > 0 {
                usleep(self.pauseMicroseconds)
            }
            let end = min(bytes.count, start + self.chunkBytes)
            try self.base.write(file, UnsafeRawBufferPointer(rebasing: bytes[start..<end]), at: offset + Int64(start))
            start = end
        }
    }

    func openFile(_ path: FilePath, create: Bool) throws -> FileDescriptor {
        try self.base.openFile(path, create: create)
    }

    func openDirectory(_ path: FilePath) throws -> FileDescriptor {
        try self.base.openDirectory(path)
    }

    func close(_ file: FileDescriptor) throws {
        try self.base.close(file)
    }

    func read(_ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        try self.base.read(file, into: buffer, at: offset)
    }

    func synchronizeData(_ file: FileDescriptor) throws {
        try self.base.synchronizeData(file)
    }

    func synchronize(_ file: FileDescriptor) throws {
        try self.base.synchronize(file)
    }

    func allocate(_ file: FileDescriptor, offset: Int64, length: Int64) throws {
        try self.base.allocate(file, offset: offset, length: length)
    }

    func resize(_ file: FileDescriptor, to size: Int64) throws {
        try self.base.resize(file, to: size)
    }

    func size(of file: FileDescriptor) throws -> Int64 {
        try self.base.size(of: file)
    }

    func lockExclusively(_ file: FileDescriptor) throws -> Bool {
        try self.base.lockExclusively(file)
    }

    func createDirectory(_ path: FilePath) throws {
        try self.base.createDirectory(path)
    }

    func contentsOfDirectory(_ path: FilePath) throws -> [String] {
        try self.base.contentsOfDirectory(path)
    }

    func rename(_ source: FilePath, to destination: FilePath) throws {
        try self.base.rename(source, to: destination)
    }

    func removeFile(_ path: FilePath) throws {
        try self.base.removeFile(path)
    }

    func fileExists(_ path: FilePath) -> Bool {
        self.base.fileExists(path)
    }
}
