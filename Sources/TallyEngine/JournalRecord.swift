import TallyCore
import TallyStorage

/// The payload of one journal record: one batch the engine applied, with what replay needs to
/// reproduce it and to prove it did (format version 1, docs/FORMATS.md):
///
///     0   1  kind: 1 a client batch, 2 an expiry sweep the engine issued
///     1   1  version (1)
///     2   2  reserved, zero
///     4   4  CRC-32C of the results, 16 bytes each: code u16, detail u16, replay flag u8,
///            3 zero bytes, transaction id u64
///     8   8  engine time the batch was applied at (ns since the epoch)
///     16  8  the first transaction id the batch could assign (the ledger's last id + 1)
///     24  8  how many transactions the batch created
///     32  …  the operation batch encoding (OperationBatch v1)
///
/// Replay applies the batch at the same engine time and checks the transaction ids and the results'
/// checksum: a difference means the ledger no longer reproduces its own history, and recovery stops.
struct JournalRecord {
    enum Kind: UInt8 {
        case client = 1
        case expirySweep = 2
    }

    static let version: UInt8 = 1
    static let headerBytes = 32

    var kind: Kind
    var resultsChecksum: UInt32
    var time: Timestamp
    var firstTransaction: UInt64
    var transactionsCreated: UInt64

    /// Appends the record (header and `batch`) to `bytes`.
    func encode(_ batch: OperationBatch, into bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Self.headerBytes))
        bytes.withUnsafeMutableBytes { raw in
            let header = UnsafeMutableRawBufferPointer(rebasing: raw[start...])
            header.storeBytes(of: self.kind.rawValue, toByteOffset: 0, as: UInt8.self)
            header.storeBytes(of: Self.version, toByteOffset: 1, as: UInt8.self)
            header.storeBytes(of: self.resultsChecksum.littleEndian, toByteOffset: 4, as: UInt32.self)
            header.storeBytes(of: self.time.nanosecondsSinceEpoch.littleEndian, toByteOffset: 8, as: UInt64.self)
            header.storeBytes(of: self.firstTransaction.littleEndian, toByteOffset: 16, as: UInt64.self)
            header.storeBytes(of: self.transactionsCreated.littleEndian, toByteOffset: 24, as: UInt64.self)
        }
        batch.encode(into: &bytes)
    }

    /// Reads the header at the start of `bytes`; the batch follows it.
    /// Why a record header cannot be read.
    struct HeaderProblem: Error, CustomStringConvertible {
        var description: String
    }

    static func decodeHeader(_ bytes: UnsafeRawBufferPointer) -> Result<JournalRecord, HeaderProblem> {
        guard bytes.count >= Self.headerBytes else {
            return .failure(
                HeaderProblem(
                    description: "record of \(bytes.count) bytes is shorter than its \(Self.headerBytes)-byte header"
                )
            )
        }
        guard let kind = Kind(rawValue: bytes[0]) else {
            return .failure(HeaderProblem(description: "unknown record kind \(bytes[0])"))
        }
        guard bytes[1] == Self.version else {
            return .failure(
                HeaderProblem(description: "record version \(bytes[1]); this build reads version \(Self.version)")
            )
        }
        return .success(
            JournalRecord(
                kind: kind,
                resultsChecksum: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
                time: Timestamp(
                    nanosecondsSinceEpoch: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                ),
                firstTransaction: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                transactionsCreated: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            )
        )
    }

    /// The checksum of a batch's results, as the header stores it.
    static func checksum(of results: [OperationResult], scratch: inout [UInt8]) -> UInt32 {
        scratch.removeAll(keepingCapacity: true)
        scratch.reserveCapacity(results.count * 16)
        for result in results {
            withUnsafeBytes(of: result.code.rawValue.littleEndian) { scratch.append(contentsOf: $0) }
            withUnsafeBytes(of: result.detail.littleEndian) { scratch.append(contentsOf: $0) }
            scratch.append(result.isReplay ? 1 : 0)
            scratch.append(contentsOf: [0, 0, 0])
            withUnsafeBytes(of: result.transactionID.rawValue.littleEndian) { scratch.append(contentsOf: $0) }
        }
        return CRC32C.checksum(scratch)
    }
}
