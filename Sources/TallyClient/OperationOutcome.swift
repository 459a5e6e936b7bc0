import TallyCore

/// What one operation submitted on its own (`TallyClient.submit(_:acknowledgement:)`)
/// produced: its result, and the batch it travelled in.
public struct OperationOutcome: Hashable, Sendable {
    /// `ok` or the rejection: a rejection is a value, not an error.
    public var result: OperationResult
    /// The journal sequence of the batch the operation was applied in (for
    /// ``TallyClient/waitUntilDurable(_:timeout:)`` after an applied acknowledgement).
    public var sequence: UInt64
    /// The engine time the ledger recorded for that batch.
    public var recordedTime: Timestamp

    public init(result: OperationResult, sequence: UInt64, recordedTime: Timestamp) {
        self.result = result
        self.sequence = sequence
        self.recordedTime = recordedTime
    }
}
