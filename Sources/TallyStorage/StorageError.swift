import SystemPackage

/// The one error type of TallyStorage: what went wrong (a stable code), a message for people, and
/// where (file, byte offset, record sequence) when that is known.
public struct StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, extensible classification.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case io
            case noSpace
            case directoryLocked
            case corrupted
            case unsupportedFormat
            case journalFailed
            case closed
            case invalidArgument
        }

        private let value: Value

        /// A system call failed.
        public static let io = Code(value: .io)
        /// The disk is full (ENOSPC, EDQUOT).
        public static let noSpace = Code(value: .noSpace)
        /// Another process holds the data directory.
        public static let directoryLocked = Code(value: .directoryLocked)
        /// Stored bytes fail their checksum or make no sense where a torn tail cannot explain them.
        public static let corrupted = Code(value: .corrupted)
        /// A file of a format version this build cannot read.
        public static let unsupportedFormat = Code(value: .unsupportedFormat)
        /// The journal stopped for good after a failed write or sync; nothing more is acknowledged.
        public static let journalFailed = Code(value: .journalFailed)
        /// The journal was closed.
        public static let closed = Code(value: .closed)
        /// A caller passed something out of range (a record larger than the limit, say).
        public static let invalidArgument = Code(value: .invalidArgument)

        public var description: String {
            switch self.value {
            case .io: return "io"
            case .noSpace: return "no_space"
            case .directoryLocked: return "directory_locked"
            case .corrupted: return "corrupted"
            case .unsupportedFormat: return "unsupported_format"
            case .journalFailed: return "journal_failed"
            case .closed: return "closed"
            case .invalidArgument: return "invalid_argument"
            }
        }
    }

    public var code: Code
    public var message: String
    /// The file concerned, if any.
    public var path: FilePath?
    /// The byte offset in `path` concerned, if any.
    public var offset: Int64?
    /// The journal record sequence concerned, if any.
    public var sequence: UInt64?
    /// The system error underneath, if any.
    public var errno: Errno?

    public init(
        _ code: Code,
        _ message: String,
        path: FilePath? = nil,
        offset: Int64? = nil,
        sequence: UInt64? = nil,
        errno: Errno? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.sequence = sequence
        self.errno = errno
    }

    /// A failed system call: ENOSPC and EDQUOT become ``Code/noSpace``, everything else ``Code/io``.
    public static func systemCall(_ name: String, _ errno: Errno, path: FilePath? = nil) -> StorageError {
        let code: Code = errno == .noSpace || errno == .diskQuotaExceeded ? .noSpace : .io
        return StorageError(code, "\(name) failed: \(errno)", path: path, errno: errno)
    }

    public var description: String {
        var text = "\(self.code): \(self.message)"
        if let path = self.path { text += " (file \(path)" + (self.offset.map { ", offset \($0)" } ?? "") + ")" }
        if let sequence = self.sequence { text += " [sequence \(sequence)]" }
        return text
    }
}
