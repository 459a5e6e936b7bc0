import CTallySystem
import Glibc
import SystemPackage

/// The real file system: thin wrappers over the system calls, in swift-system's manner (an inner
/// `Result<_, Errno>` layer with EINTR retried, a throwing outer layer). swift-system has no
/// fsync, fdatasync, fallocate or flock; they are wrapped here.
public struct SystemFileSystem: FileSystem {
    public init() {}

    public func openFile(_ path: FilePath, create: Bool) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(
                path,
                .readWrite,
                options: create ? [.create, .closeOnExec] : [.closeOnExec],
                permissions: create ? [.ownerReadWrite] : nil
            )
        } catch let errno as Errno {
            throw StorageError.systemCall("open", errno, path: path)
        }
    }

    public func openDirectory(_ path: FilePath) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(path, .readOnly, options: [.directory, .closeOnExec])
        } catch let errno as Errno {
            throw StorageError.systemCall("open directory", errno, path: path)
        }
    }

    public func close(_ file: FileDescriptor) throws {
        do {
            try file.close()
        } catch let errno as Errno {
            throw StorageError.systemCall("close", errno)
        }
    }

    public func write(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var written = 0
        while written < bytes.count {
            do {
                let count = try file.write(
                    toAbsoluteOffset: offset + Int64(written),
                    UnsafeRawBufferPointer(rebasing: bytes[written...])
                )
                guard count > 0 else {
                    throw StorageError(.io, "pwrite wrote nothing at offset \(offset + Int64(written))")
                }
                written += count
            } catch let errno as Errno {
                throw StorageError.systemCall("pwrite", errno)
            }
        }
    }

    public func read(
        _ file: FileDescriptor,
        into buffer: UnsafeMutableRawBufferPointer,
        at offset: Int64
    ) throws -> Int {
        var total = 0
        while total < buffer.count {
            do {
                let count = try file.read(
                    fromAbsoluteOffset: offset + Int64(total),
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[total...])
                )
                if count == 0 {
                    break
                }
                total += count
            } catch let errno as Errno {
                throw StorageError.systemCall("pread", errno)
            }
        }
        return total
    }

    public func synchronizeData(_ file: FileDescriptor) throws {
        try SystemCall.fdatasync(file).mapError { StorageError.systemCall("fdatasync", $0) }.get()
    }

    public func synchronize(_ file: FileDescriptor) throws {
        try SystemCall.fsync(file).mapError { StorageError.systemCall("fsync", $0) }.get()
    }

    public func allocate(_ file: FileDescriptor, offset: Int64, length: Int64) throws {
        try SystemCall.fallocate(file, offset: offset, length: length)
            .mapError { StorageError.systemCall("fallocate", $0) }.get()
    }

    public func resize(_ file: FileDescriptor, to size: Int64) throws {
        do {
            try file.resize(to: size)
        } catch let errno as Errno {
            throw StorageError.systemCall("ftruncate", errno)
        }
    }

    public func size(of file: FileDescriptor) throws -> Int64 {
        do {
            return try file.seek(offset: 0, from: .end)
        } catch let errno as Errno {
            throw StorageError.systemCall("lseek", errno)
        }
    }

    public func lockExclusively(_ file: FileDescriptor) throws -> Bool {
        switch SystemCall.flockExclusiveNonBlocking(file) {
        case .success: return true
        case .failure(let errno) where errno == .wouldBlock: return false
        case .failure(let errno): throw StorageError.systemCall("flock", errno)
        }
    }

    public func createDirectory(_ path: FilePath) throws {
        let result = path.withPlatformString { name in SystemCall.retrying { mkdir(name, 0o700) } }
        switch result {
        case .success: return
        case .failure(let errno) where errno == .fileExists: return
        case .failure(let errno): throw StorageError.systemCall("mkdir", errno, path: path)
        }
    }

    public func contentsOfDirectory(_ path: FilePath) throws -> [String] {
        guard let directory = path.withPlatformString({ opendir($0) }) else {
            throw StorageError.systemCall("opendir", Errno(rawValue: Glibc.errno), path: path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." {
                names.append(name)
            }
        }
        return names
    }

    public func rename(_ source: FilePath, to destination: FilePath) throws {
        let result = source.withPlatformString { from in
            destination.withPlatformString { to in SystemCall.retrying { Glibc.rename(from, to) } }
        }
        if case .failure(let errno) = result {
            throw StorageError.systemCall("rename", errno, path: source)
        }
    }

    public func removeFile(_ path: FilePath) throws {
        if case .failure(let errno) = path.withPlatformString({ name in SystemCall.retrying { unlink(name) } }) {
            throw StorageError.systemCall("unlink", errno, path: path)
        }
    }

    public func fileExists(_ path: FilePath) -> Bool {
        path.withPlatformString { access($0, F_OK) == 0 }
    }
}

/// The inner layer: one function per system call, EINTR retried, failures as `Errno`.
enum SystemCall {
    static func retrying(_ call: () -> Int32) -> Result<Void, Errno> {
        while true {
            if call() != -1 {
                return .success(())
            }
            let errno = Errno(rawValue: Glibc.errno)
            if errno != .interrupted {
                return .failure(errno)
            }
        }
    }

    static func fdatasync(_ file: FileDescriptor) -> Result<Void, Errno> {
        // Not retried on EINTR: after a failed sync the state of the page cache is unknown, and the
        // journal treats any failure as final. fdatasync does not return EINTR on Linux anyway.
        Glibc.fdatasync(file.rawValue) == 0 ? .success(()) : .failure(Errno(rawValue: Glibc.errno))
    }

    static func fsync(_ file: FileDescriptor) -> Result<Void, Errno> {
        Glibc.fsync(file.rawValue) == 0 ? .success(()) : .failure(Errno(rawValue: Glibc.errno))
    }

    static func fallocate(_ file: FileDescriptor, offset: Int64, length: Int64) -> Result<Void, Errno> {
        retrying { tally_fallocate(file.rawValue, 0, offset, length) }
    }

    static func flockExclusiveNonBlocking(_ file: FileDescriptor) -> Result<Void, Errno> {
        retrying { flock(file.rawValue, LOCK_EX | LOCK_NB) }
    }
}
