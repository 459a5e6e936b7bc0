import TallyCore

// The Tally wire protocol, version 1: what clients and the server exchange over the Unix socket.
// docs/PROTOCOL.md describes every byte; this module is its codec and does no I/O.
//
// A connection carries frames back to back in both directions. Every frame starts with the same
// 20-byte header (little-endian, no padding):
//
//   0   4  frame length: the whole frame's bytes, header included (20 ... the frame limit)
//   4   2  magic "TL" (0x54 0x4C)
//   6   1  protocol version (1)
//   7   1  opcode: what the request asks; a reply echoes its request's
//   8   8  request id: chosen by the client, echoed by the reply; 0 only in replies the server
//          sends on its own (a connection-level error)
//   16  2  status: 0 in a request; in a reply, ok (0) or why the request failed
//   18  2  flags: in a request bit 0 "applied" (acknowledge a write when applied, or read what is
//          applied rather than what is durable); in a reply bit 0 "closing" (the server closes the
//          connection after this reply). Every other bit 0.
//
// The payload follows at offset 20, laid out by opcode (one file per message). A reply whose status
// is not ok carries an ErrorReply whatever its opcode. The first 7 bytes (length, magic, version)
// keep their meaning in every protocol version, and every server answers a version-1 handshake,
// so a client can always find out which versions a server speaks.

/// The protocol's fixed constants and ceilings. A server may configure tighter limits
/// (``ConnectionLimits``), never wider ones.
public enum WireProtocol {
    /// The protocol version this module writes and reads.
    public static let version: UInt8 = 1
    /// The protocol versions this module speaks.
    public static let versionsSupported: ClosedRange<UInt8> = 1...1
    /// "TL" as it appears on the wire, read as a little-endian `u16`.
    public static let magic: UInt16 = 0x4C54
    /// Bytes of the frame header that starts every frame.
    public static let headerBytes = 20

    /// Bytes of the journal record payload header that precedes a batch in the journal
    /// (docs/FORMATS.md, "Journal record payload (v1)"; `JournalRecord.headerBytes` in TallyEngine).
    public static let journalRecordHeaderBytes = 32
    /// The largest journal record payload (`JournalFormat.recordPayloadBytesMax` in TallyStorage).
    public static let journalRecordPayloadBytesMax = 16 << 20

    /// The largest frame of any kind, in either direction: 16 MiB − 12 = 16,777,204 bytes.
    ///
    /// Chosen so that every batch a frame can carry fits one journal record: the batch is the
    /// submit request's whole payload, at most `frameBytesCeiling − headerBytes` = 16 MiB − 32
    /// bytes, and the journal stores it behind a 32-byte header in a record of at most 16 MiB. A
    /// server never accepts a request the journal would refuse after the ledger applied it.
    public static let frameBytesCeiling = journalRecordPayloadBytesMax - journalRecordHeaderBytes + headerBytes
    /// The smallest frame limit a server may configure: room for every fixed-size request.
    public static let frameBytesFloor = 4_096
    /// The most operations one submit may carry, and the most items one read may ask for.
    public static let operationsPerRequestCeiling = Limits.operationsPerBatchMax
    /// The most statistics one statistics reply may carry.
    public static let statisticsMax = 1_024
    /// Bytes of a statistic's name.
    public static let statisticNameBytesMax = 64
    /// Bytes of the client name in a handshake and of the server version in its reply.
    public static let nameBytesMax = 64
    /// Bytes of the message of an error reply; longer messages are cut at a character boundary.
    public static let errorMessageBytesMax = 1_024

    /// The bytes of the largest batch a frame can carry.
    public static let batchBytesMax = frameBytesCeiling - headerBytes

    static func checkRelationships() {
        precondition(batchBytesMax + journalRecordHeaderBytes <= journalRecordPayloadBytesMax)
        precondition(frameBytesCeiling <= Int(UInt32.max))
        precondition(frameBytesFloor <= frameBytesCeiling)
        // The largest reply (a submit's results, a page of balances or accounts) fits a frame.
        precondition(
            headerBytes + SubmitBatchReply.fixedBytes + operationsPerRequestCeiling * SubmitBatchReply.resultBytes
                <= frameBytesCeiling
        )
        precondition(
            headerBytes + ListLayout.countBytes + operationsPerRequestCeiling * AccountsReply.itemBytes
                <= frameBytesCeiling
        )
    }
}

/// How a write is acknowledged.
public enum Acknowledgement: Hashable, Sendable {
    /// When its journal record is on stable storage (the default; request flag bit 0 clear).
    case durable
    /// As soon as it is applied (request flag bit 0 set); ``WaitUntilDurableRequest`` confirms
    /// durability later, by the reply's sequence.
    case applied
}

/// What a read may see.
public enum ReadConsistency: Hashable, Sendable {
    /// Only durable state: the reply waits until everything it reflects is durable (the default;
    /// request flag bit 0 clear).
    case durable
    /// Everything applied, durable or not (request flag bit 0 set).
    case applied
}
