/// The group-commit state machine: when the journal's sync thread writes, what becomes durable, and
/// what a failure or a close means. It decides; ``Journal`` does the I/O.
///
/// Records are appended into a pending group while the previous group is written and synced. As
/// soon as a sync ends, everything appended meanwhile is written as the next group: one sync for a
/// lone record, one sync shared by everything that arrived during the previous one, and no fixed
/// batching delay. A failed write or sync is final: nothing more is written or acknowledged.
///
/// The appender may also sync its own records (``recordAppended(_:syncByCaller:)``): the record is
/// not handed to the sync thread, and the appender writes it later with ``callerSyncAction()``, so
/// a lone request costs no thread wake-up on either side. Whoever syncs takes everything pending;
/// the sync thread takes deferred records too whenever it is woken.
struct GroupCommit {
    /// Who writes and syncs a group.
    enum Syncer: Equatable {
        case syncThread
        case caller
    }

    private enum State {
        /// Nothing is being written.
        case idle
        /// A group through `through` is being written and synced by `syncer`.
        case syncing(through: UInt64, by: Syncer)
        /// A write or sync failed; nothing more is acknowledged.
        case failed(StorageError)
        /// Closed after everything appended became durable.
        case closed
    }

    enum AppendAction: Equatable {
        /// The sync thread is idle: wake it to write this record.
        case wakeSyncThread
        /// A sync is under way; the record goes in the next group.
        case none
        /// Nothing is being written and the appender asked to sync the record itself: the sync
        /// thread is not woken.
        case syncByCaller
        /// The journal cannot take records any more.
        case reject(StorageError)
    }

    enum NextAction: Equatable {
        /// Write and sync everything appended through this sequence.
        case write(through: UInt64)
        /// Nothing to write: wait for an append or a close.
        case wait
        /// Closed: the sync thread ends.
        case stop
    }

    enum SyncEndAction: Equatable {
        /// Acknowledge everything through this sequence as durable.
        case publish(durable: UInt64)
        /// Tell everyone waiting that nothing more will become durable.
        case fail(StorageError)
    }

    private var state: State = .idle
    private(set) var lastAppended: UInt64
    private(set) var durable: UInt64
    private var closeRequested = false

    init(lastDurable: UInt64) {
        self.lastAppended = lastDurable
        self.durable = lastDurable
    }

    var failure: StorageError? {
        if case .failed(let error) = self.state { return error }
        return nil
    }

    enum CallerAction: Equatable {
        /// Write and sync everything appended through this sequence on the calling thread.
        case write(through: UInt64)
        /// Nothing for the caller: a sync is under way (it or the next one takes the records), or
        /// everything is durable, or the journal has stopped.
        case none
    }

    mutating func recordAppended(_ sequence: UInt64, syncByCaller: Bool = false) -> AppendAction {
        switch self.state {
        case .failed(let error):
            return .reject(error)
        case .closed:
            return .reject(StorageError(.closed, "the journal is closed"))
        case .idle, .syncing:
            guard !self.closeRequested else {
                return .reject(StorageError(.closed, "the journal is closing"))
            }
            precondition(sequence == self.lastAppended + 1, "sequences are appended in order")
            self.lastAppended = sequence
            if case .idle = self.state { return syncByCaller ? .syncByCaller : .wakeSyncThread }
            return .none
        }
    }

    /// The sync thread asks what to do next.
    mutating func nextAction() -> NextAction {
        switch self.state {
        case .syncing(_, by: .syncThread):
            preconditionFailure("the sync thread asked for work while its own sync is under way")
        case .syncing(_, by: .caller):
            // The caller's sync ends with a wake-up when there is more to do.
            return .wait
        case .failed, .closed:
            return .stop
        case .idle:
            if self.lastAppended > self.durable {
                self.state = .syncing(through: self.lastAppended, by: .syncThread)
                return .write(through: self.lastAppended)
            }
            if self.closeRequested {
                self.state = .closed
                return .stop
            }
            return .wait
        }
    }

    /// A caller that appended with `syncByCaller` asks whether to write now.
    mutating func callerSyncAction() -> CallerAction {
        switch self.state {
        case .syncing, .failed, .closed:
            return .none
        case .idle:
            guard self.lastAppended > self.durable else { return .none }
            self.state = .syncing(through: self.lastAppended, by: .caller)
            return .write(through: self.lastAppended)
        }
    }

    /// Whether the sync thread has work once a caller's sync ended: records appended meanwhile, or
    /// a close waiting for it.
    var syncThreadHasWork: Bool {
        guard case .idle = self.state else { return false }
        return self.lastAppended > self.durable || self.closeRequested
    }

    mutating func syncSucceeded() -> SyncEndAction {
        guard case .syncing(let through, _) = self.state else {
            preconditionFailure("a sync ended that was never started")
        }
        self.durable = through
        self.state = .idle
        return .publish(durable: through)
    }

    mutating func syncFailed(_ error: StorageError) -> SyncEndAction {
        guard case .syncing = self.state else {
            preconditionFailure("a sync failed that was never started")
        }
        let failure = StorageError(
            .journalFailed,
            "the journal stopped for good after a failed write or sync: \(error.message)",
            path: error.path,
            offset: error.offset,
            sequence: error.sequence,
            errno: error.errno
        )
        self.state = .failed(failure)
        return .fail(failure)
    }

    mutating func closeRequestedByOwner() {
        self.closeRequested = true
    }

    var isClosed: Bool {
        if case .closed = self.state { return true }
        return false
    }
}
