// wait_until_durable (opcode 0x11): confirms that a write acknowledged when applied is durable.
//
//   request                                   reply
//   0  8  journal sequence to wait for          0  8  the durable sequence when the reply was made
//   8  4  timeout, ms: 0 answers at once;             (at least the one asked for)
//         the server caps it at its longest wait
//
// Not reached within the timeout: status durability_timeout (nothing is lost; ask again). The
// journal failed: engine_failed. A sequence that is not assigned yet is waited for like any other.

/// Waits until the journal is durable through a sequence.
public struct WaitUntilDurableRequest: Hashable, Sendable {
    public var sequence: UInt64
    /// 0: do not wait, answer whether it is durable now.
    public var timeoutMilliseconds: UInt32

    public init(sequence: UInt64, timeoutMilliseconds: UInt32) {
        self.sequence = sequence
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.sequence)
        bytes.put(self.timeoutMilliseconds)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> WaitUntilDurableRequest {
        let sequence: UInt64 = try reader.read("the sequence")
        let timeout: UInt32 = try reader.read("the timeout")
        try reader.expectEnd()
        return WaitUntilDurableRequest(sequence: sequence, timeoutMilliseconds: timeout)
    }
}

/// The sequence is durable.
public struct WaitUntilDurableReply: Hashable, Sendable {
    /// The durable sequence when the reply was made.
    public var durableSequence: UInt64

    public init(durableSequence: UInt64) {
        self.durableSequence = durableSequence
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.durableSequence)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> WaitUntilDurableReply {
        let sequence: UInt64 = try reader.read("the durable sequence")
        try reader.expectEnd()
        return WaitUntilDurableReply(durableSequence: sequence)
    }
}
