import TallyStorage

/// The one error type of TallyEngine: a stable code, a message, and the storage error underneath
/// when there is one.
public struct EngineError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        /// Too many requests are waiting; try again shortly.
        public static let busy = Code(name: "busy")
        /// The batch has more operations than one request may carry.
        public static let batchTooLarge = Code(name: "batch_too_large")
        /// The batch cannot be journaled (a field beyond the journal encoding's limits).
        public static let batchNotEncodable = Code(name: "batch_not_encodable")
        /// The journal failed: nothing more is written or acknowledged; reads still work. For the
        /// write that met the failure the outcome is unknown (its record may have reached the disk):
        /// resend it with the same idempotency key once the engine restarts to learn its result.
        public static let journalFailed = Code(name: "journal_failed")
        /// The engine is closed or closing.
        public static let closed = Code(name: "closed")
        /// Startup could not recover the data directory (damage, a lock held elsewhere, I/O).
        public static let recoveryFailed = Code(name: "recovery_failed")
        /// Replaying a journal record did not reproduce what was recorded when it was applied.
        public static let replayDiverged = Code(name: "replay_diverged")
        /// A snapshot could not be written (the ledger and the journal are unaffected).
        public static let snapshotFailed = Code(name: "snapshot_failed")

        public var description: String { self.name }
    }

    public var code: Code
    public var message: String
    public var storage: StorageError?

    public init(_ code: Code, _ message: String, storage: StorageError? = nil) {
        self.code = code
        self.message = message
        self.storage = storage
    }

    public var description: String {
        "\(self.code): \(self.message)" + (self.storage.map { " [\($0)]" } ?? "")
    }
}
