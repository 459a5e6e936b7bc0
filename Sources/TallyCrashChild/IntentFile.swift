import SystemPackage
import TallyCore
import TallyStorage

/// The batch a submitter is about to send, kept so that the next run can send it again, as a client
/// does with a request that got no answer before the server died: it gets the original results, as
/// replays, if the batch had reached the journal, and a fresh application if it had not.
///
/// Layout: `TCI1`, the payload's length (u32 little-endian), its CRC-32C (u32 little-endian), then
/// the payload, the batch in its v1 encoding. Each intent overwrites the previous one with one
/// `pwrite` at offset 0 (longer old bytes may remain after it; the length says where it ends). A
/// write the kill cut short fails the checksum, and the intent is dropped.
struct IntentFile {
    private static let magic: [UInt8] = Array("TCI1".utf8)
    private static let headerBytes = 12

    private let file: FileDescriptor
    private var bytes: [UInt8] = []
    private var payload: [UInt8] = []

    init(_ path: FilePath) throws {
        self.file = try FileDescriptor.open(
            path,
            .writeOnly,
            options: [.create, .closeOnExec],
            permissions: [.ownerReadWrite, .groupRead, .otherRead]
        )
    }

    /// Records `batch` as the one about to be sent.
    mutating func record(_ batch: OperationBatch) throws {
        self.payload.removeAll(keepingCapacity: true)
        batch.encode(into: &self.payload)
        self.bytes.removeAll(keepingCapacity: true)
        self.bytes.append(contentsOf: Self.magic)
        withUnsafeBytes(of: UInt32(self.payload.count).littleEndian) { self.bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: CRC32C.checksum(self.payload).littleEndian) { self.bytes.append(contentsOf: $0) }
        self.bytes.append(contentsOf: self.payload)
        _ = try self.file.writeAll(toAbsoluteOffset: 0, self.bytes)
    }

    /// The intent stored at `path`; nil when there is none or its write was cut short.
    static func read(_ path: FilePath) -> OperationBatch? {
        guard let file = try? FileDescriptor.open(path, .readOnly) else { return nil }
        defer { try? file.close() }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var count = 0
        while count < buffer.count {
            let read = buffer.withUnsafeMutableBytes { raw in
                try? file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[count...]))
            }
            guard let read, read > 0 else { break }
            count += read
        }
        guard count >= Self.headerBytes, Array(buffer[0..<4]) == Self.magic else { return nil }
        let length = buffer.withUnsafeBytes {
            Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        }
        let checksum = buffer.withUnsafeBytes {
            UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        }
        guard length >= 1, Self.headerBytes + length <= count else { return nil }
        let payload = Array(buffer[Self.headerBytes..<Self.headerBytes + length])
        guard CRC32C.checksum(payload) == checksum else { return nil }
        return payload.withUnsafeBytes { try? OperationBatch.decode($0) }
    }
}
