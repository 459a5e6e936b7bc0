import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage

/// An append-only text file of what the engine acknowledged as durable; each submitter has its own.
///
/// Every line is a tag, `name=value` fields and a checksum, separated by single spaces:
///
///     recovered run=3 pid=4242 submitters=4 records=812 last-sequence=812 torn-sequence=0 torn-bytes=0
///         recovery-ns=81234567 recorded-time=1800000123000000000 digest=<64 hex digits> crc=5e0c33a1
///     ack sequence=815 op=2/7 key=0000000300000002000000000000001f kind=capture code=0 tx=5121
///         detail=0 replay=0 crc=0b7f9d42
///
/// (one line each). `crc` is the CRC-32C of the line's bytes before ` crc=`, as 8 hexadecimal
/// digits, and a newline ends the line. `recovered` is written once per run, right after recovery,
/// with what the engine reported (the torn tail it cut, if any, and the recovered state's digest). `ack` is written for every operation of a batch once its journal record is
/// durable: `sequence` is the batch's journal sequence, `op` the operation's index and the batch's
/// operation count, `key` the idempotency key as a 128-bit hexadecimal number (zero for the keyless
/// setup operations), `code` the result code's number, `tx` the transaction id, `replay` 1 when
/// the result was a replay.
///
/// All the lines of one batch go out in one `write(2)` on a file opened with O_APPEND, and the file
/// is never synced: a SIGKILL leaves the page cache to the kernel, so a line is lost only if the
/// kill cuts that very write short. Such a torn line (no newline, or a checksum that does not
/// match) can only be the last of its file, and readers ignore it. A machine crash is another
/// matter: the logs would need an fsync per batch, which these tests do not need.
struct AcknowledgementLog {
    private let file: FileDescriptor
    private var bytes: [UInt8] = []

    /// Opens (or creates) the log at `path` for appending.
    init(_ path: FilePath) throws {
        self.file = try FileDescriptor.open(
            path,
            .writeOnly,
            options: [.create, .append, .closeOnExec],
            permissions: [.ownerReadWrite, .groupRead, .otherRead]
        )
    }

    /// Logs the recovery the engine reported when it opened.
    mutating func logRecovery(
        run: UInt64,
        submitters: Int,
        recovery: Engine.Recovery,
        recordedTime: Timestamp
    ) throws {
        self.bytes.removeAll(keepingCapacity: true)
        Self.appendLine(
            "recovered run=\(run) pid=\(getpid()) submitters=\(submitters) records=\(recovery.recordsReplayed)"
                + " last-sequence=\(recovery.scan.lastSequence ?? 0)"
                + " torn-sequence=\(recovery.scan.tornTail?.sequence ?? 0)"
                + " torn-bytes=\(recovery.scan.tornTail?.bytes ?? 0) recovery-ns=\(recovery.nanoseconds)"
                + " snapshot-sequence=\(recovery.snapshot?.sequence ?? 0)"
                + " rejected-snapshots=\(recovery.rejectedSnapshots.count)"
                + " recorded-time=\(recordedTime.nanosecondsSinceEpoch) digest=\(recovery.digest.map(\.description) ?? "none")",
            to: &self.bytes
        )
        try self.flush()
    }

    /// Logs every operation of `batch` with its result, once the engine acknowledged it as durable.
    mutating func logDurable(_ batch: OperationBatch, response: Engine.Response) throws {
        precondition(batch.count == response.results.count)
        self.bytes.removeAll(keepingCapacity: true)
        for index in 0..<batch.count {
            let operation = batch.operation(at: index)
            let result = response.results[index]
            let key = operation.header?.key.rawValue ?? 0
            Self.appendLine(
                "ack sequence=\(response.sequence) op=\(index)/\(batch.count) key=\(Self.hex(key))"
                    + " kind=\(operation.kind) code=\(result.code.rawValue) tx=\(result.transactionID.rawValue)"
                    + " detail=\(result.detail) replay=\(result.isReplay ? 1 : 0)",
                to: &self.bytes
            )
        }
        try self.flush()
    }

    /// One `write(2)`: `writeAll` loops only on a short write, which a regular file gives only when
    /// the disk is full.
    private func flush() throws {
        _ = try self.file.writeAll(self.bytes)
    }

    private static func appendLine(_ content: String, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: content.utf8)
        let checksum = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        bytes.append(contentsOf: " crc=\(Self.hex(checksum))\n".utf8)
    }

    /// `value` in lowercase hexadecimal, zero-padded to its full width.
    static func hex<Value: FixedWidthInteger & UnsignedInteger>(_ value: Value) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: Value.bitWidth / 4 - digits.count) + digits
    }
}
