import SystemPackage
import Testing

@testable import TallyStorage

/// The group-commit state machine, scripted event by event: each step is an event and the action
/// it must return. Every legal path is here; impossible transitions are preconditions and are not
/// tested by crashing.
@Suite("Group commit")
struct GroupCommitTests {
    enum Event: CustomStringConvertible {
        /// The writer appended this sequence.
        case append(UInt64)
        /// The writer appended this sequence, to sync it itself.
        case appendForCaller(UInt64)
        /// The appender asks whether to write now.
        case callerSync
        /// The sync thread asks for work.
        case next
        case syncSucceeded
        case syncFailed(StorageError)
        /// The owner asks to close (returns no action).
        case close

        var description: String {
            switch self {
            case .append(let sequence): return "append(\(sequence))"
            case .appendForCaller(let sequence): return "appendForCaller(\(sequence))"
            case .callerSync: return "callerSync"
            case .next: return "next"
            case .syncSucceeded: return "syncSucceeded"
            case .syncFailed(let error): return "syncFailed(\(error.code))"
            case .close: return "close"
            }
        }
    }

    /// The action, with errors reduced to what callers rely on.
    enum Action: Hashable {
        case wakeSyncThread
        case none
        case syncByCaller
        case reject(StorageError.Code, Errno?)
        case write(through: UInt64)
        case wait
        case stop
        case publish(durable: UInt64)
        case fail(StorageError.Code, Errno?)
        /// The event returns nothing.
        case nothing
    }

    static let eio = StorageError(.io, "fdatasync failed: EIO", path: "/j/1.journal", sequence: 4, errno: .ioError)
    static let enospc = StorageError(.noSpace, "pwrite failed: ENOSPC", errno: .noSpace)

    static func apply(_ event: Event, to machine: inout GroupCommit) -> Action {
        switch event {
        case .append(let sequence):
            switch machine.recordAppended(sequence) {
            case .wakeSyncThread: return .wakeSyncThread
            case .none: return .none
            case .syncByCaller: return .syncByCaller
            case .reject(let error): return .reject(error.code, error.errno)
            }
        case .appendForCaller(let sequence):
            switch machine.recordAppended(sequence, syncByCaller: true) {
            case .wakeSyncThread: return .wakeSyncThread
            case .none: return .none
            case .syncByCaller: return .syncByCaller
            case .reject(let error): return .reject(error.code, error.errno)
            }
        case .callerSync:
            switch machine.callerSyncAction() {
            case .write(let through): return .write(through: through)
            case .none: return .none
            }
        case .next:
            switch machine.nextAction() {
            case .write(let through): return .write(through: through)
            case .wait: return .wait
            case .stop: return .stop
            }
        case .syncSucceeded:
            return Self.endAction(machine.syncSucceeded())
        case .syncFailed(let error):
            return Self.endAction(machine.syncFailed(error))
        case .close:
            machine.closeRequestedByOwner()
            return .nothing
        }
    }

    static func endAction(_ action: GroupCommit.SyncEndAction) -> Action {
        switch action {
        case .publish(let durable): return .publish(durable: durable)
        case .fail(let error): return .fail(error.code, error.errno)
        }
    }

    /// Runs the script and compares every action; returns the machine for checks of its state.
    @discardableResult
    static func run(
        lastDurable: UInt64 = 0,
        _ script: [(Event, Action)],
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> GroupCommit {
        var machine = GroupCommit(lastDurable: lastDurable)
        for (step, (event, expected)) in script.enumerated() {
            let action = Self.apply(event, to: &machine)
            #expect(action == expected, "step \(step): \(event)", sourceLocation: sourceLocation)
        }
        return machine
    }

    @Test func aLoneRecordWakesTheSyncThread() {
        let machine = Self.run([
            (.next, .wait),
            (.append(1), .wakeSyncThread),
            (.next, .write(through: 1)),
            (.syncSucceeded, .publish(durable: 1)),
            (.next, .wait),
            (.append(2), .wakeSyncThread),
            (.next, .write(through: 2)),
            (.syncSucceeded, .publish(durable: 2)),
            (.next, .wait),
        ])
        #expect(machine.durable == 2)
        #expect(machine.lastAppended == 2)
        #expect(machine.failure == nil)
        #expect(!machine.isClosed)
    }

    @Test func recordsAppendedDuringASyncJoinTheNextGroup() {
        let machine = Self.run([
            (.append(1), .wakeSyncThread),
            (.next, .write(through: 1)),
            (.append(2), .none),
            (.append(3), .none),
            (.append(4), .none),
            (.syncSucceeded, .publish(durable: 1)),
            (.append(5), .wakeSyncThread),  // idle between the end of a sync and the next ask
            (.next, .write(through: 5)),
            (.append(6), .none),
            (.syncSucceeded, .publish(durable: 5)),
            (.next, .write(through: 6)),
            (.syncSucceeded, .publish(durable: 6)),
            (.next, .wait),
        ])
        #expect(machine.durable == 6)
    }

    @Test func appendsBeforeTheSyncThreadAsksEachWakeIt() {
        // The sync thread may not have asked yet; every append wakes it, and one write takes all.
        Self.run([
            (.append(1), .wakeSyncThread),
            (.append(2), .wakeSyncThread),
            (.append(3), .wakeSyncThread),
            (.next, .write(through: 3)),
            (.syncSucceeded, .publish(durable: 3)),
            (.next, .wait),
        ])
    }

    @Test func startsAfterTheReplayedRecords() {
        let machine = Self.run(
            lastDurable: 41,
            [
                (.next, .wait),
                (.append(42), .wakeSyncThread),
                (.next, .write(through: 42)),
                (.syncSucceeded, .publish(durable: 42)),
            ]
        )
        #expect(machine.durable == 42)
    }

    @Test func aFailedSyncIsFinal() {
        let machine = Self.run([
            (.append(1), .wakeSyncThread),
            (.next, .write(through: 1)),
            (.syncSucceeded, .publish(durable: 1)),
            (.next, .wait),
            (.append(2), .wakeSyncThread),
            (.next, .write(through: 2)),
            (.append(3), .none),
            (.syncFailed(Self.eio), .fail(.journalFailed, .ioError)),
            (.append(4), .reject(.journalFailed, .ioError)),
            (.next, .stop),
            (.next, .stop),
            (.append(4), .reject(.journalFailed, .ioError)),
            (.close, .nothing),
            (.next, .stop),
            (.append(4), .reject(.journalFailed, .ioError)),
        ])
        // Nothing after the last successful sync became durable, and the failure stays.
        #expect(machine.durable == 1)
        #expect(machine.lastAppended == 3)
        #expect(!machine.isClosed)
        let failure = machine.failure
        #expect(failure?.code == .journalFailed)
        #expect(failure?.errno == .ioError)
        #expect(failure?.path == "/j/1.journal")
        #expect(failure?.sequence == 4)
        #expect(failure?.message.contains("fdatasync failed: EIO") == true)
    }

    @Test func aFailedFirstWriteKeepsItsErrno() {
        let machine = Self.run([
            (.append(1), .wakeSyncThread),
            (.next, .write(through: 1)),
            (.syncFailed(Self.enospc), .fail(.journalFailed, .noSpace)),
            (.next, .stop),
        ])
        #expect(machine.durable == 0)
        #expect(machine.failure?.errno == .noSpace)
    }

    @Test func closeWaitsForPendingRecordsThenStops() {
        let machine = Self.run([
            (.append(1), .wakeSyncThread),
            (.next, .write(through: 1)),
            (.append(2), .none),
            (.close, .nothing),
            (.append(3), .reject(.closed, nil)),
            (.syncSucceeded, .publish(durable: 1)),
            (.next, .write(through: 2)),
            (.syncSucceeded, .publish(durable: 2)),
            (.next, .stop),
            (.append(3), .reject(.closed, nil)),
            (.next, .stop),
        ])
        #expect(machine.isClosed)
        #expect(machine.durable == 2)
        #expect(machine.lastAppended == 2)
        #expect(machine.failure == nil)
    }

    @Test func closeWhileIdleWithRecordsNotYetTaken() {
        let machine = Self.run([
            (.append(1), .wakeSyncThread),
            (.append(2), .wakeSyncThread),
            (.close, .nothing),
            (.next, .write(through: 2)),
            (.syncSucceeded, .publish(durable: 2)),
            (.next, .stop),
        ])
        #expect(machine.isClosed)
    }

    @Test func closeWithNothingPendingStopsAtOnce() {
        Self.run([
            (.close, .nothing),
            (.append(1), .reject(.closed, nil)),
            (.next, .stop),
        ])
        let afterRecords = Self.run([
            (.append(1), .wakeSyncThread),
            (.next, .write(through: 1)),
            (.syncSucceeded, .publish(durable: 1)),
            (.next, .wait),
            (.close, .nothing),
            (.next, .stop),
        ])
        #expect(afterRecords.isClosed)
        #expect(afterRecords.durable == 1)
    }

    @Test func aSyncFailingDuringCloseLeavesItFailedNotClosed() {
        let machine = Self.run([
            (.append(1), .wakeSyncThread),
            (.next, .write(through: 1)),
            (.close, .nothing),
            (.syncFailed(Self.eio), .fail(.journalFailed, .ioError)),
            (.next, .stop),
            (.append(2), .reject(.journalFailed, .ioError)),
        ])
        #expect(!machine.isClosed)
        #expect(machine.durable == 0)
        #expect(machine.failure?.code == .journalFailed)
    }

    @Test func closingTwiceChangesNothing() {
        let machine = Self.run([
            (.append(1), .wakeSyncThread),
            (.close, .nothing),
            (.close, .nothing),
            (.next, .write(through: 1)),
            (.close, .nothing),
            (.syncSucceeded, .publish(durable: 1)),
            (.next, .stop),
            (.close, .nothing),
            (.next, .stop),
        ])
        #expect(machine.isClosed)
    }

    @Test func aCallerSyncsItsOwnRecordsWithoutWakingTheSyncThread() {
        var machine = Self.run([
            (.next, .wait),
            (.appendForCaller(1), .syncByCaller),
            (.appendForCaller(2), .syncByCaller),
            (.callerSync, .write(through: 2)),
            // While the caller syncs, the sync thread (woken for any reason) waits, and records
            // appended meanwhile join the next group.
            (.next, .wait),
            (.appendForCaller(3), .none),
            (.callerSync, .none),
            (.syncSucceeded, .publish(durable: 2)),
        ])
        // Record 3 was appended during the caller's sync: the sync thread must be woken for it.
        #expect(machine.syncThreadHasWork)
        #expect(Self.apply(.next, to: &machine) == .write(through: 3))
        #expect(Self.apply(.callerSync, to: &machine) == .none)
        #expect(Self.apply(.syncSucceeded, to: &machine) == .publish(durable: 3))
        #expect(!machine.syncThreadHasWork)
        #expect(Self.apply(.callerSync, to: &machine) == .none)
        #expect(machine.durable == 3)
    }

    @Test func theSyncThreadTakesRecordsLeftForTheCaller() {
        // Woken (its timed wait, another append, a close), the sync thread takes deferred records;
        // the caller then finds nothing to do.
        Self.run([
            (.appendForCaller(1), .syncByCaller),
            (.next, .write(through: 1)),
            (.callerSync, .none),
            (.appendForCaller(2), .none),
            (.syncSucceeded, .publish(durable: 1)),
            (.appendForCaller(3), .syncByCaller),
            (.callerSync, .write(through: 3)),
            (.syncSucceeded, .publish(durable: 3)),
            (.callerSync, .none),
            (.next, .wait),
        ])
    }

    @Test func aCloseDuringACallersSyncIsLeftToTheSyncThread() {
        var machine = Self.run([
            (.appendForCaller(1), .syncByCaller),
            (.callerSync, .write(through: 1)),
            (.close, .nothing),
            (.next, .wait),
            (.appendForCaller(2), .reject(.closed, nil)),
            (.syncSucceeded, .publish(durable: 1)),
        ])
        #expect(machine.syncThreadHasWork, "the close waits for the sync thread to stop")
        #expect(Self.apply(.next, to: &machine) == .stop)
        #expect(machine.isClosed)
    }

    @Test func aFailedCallerSyncIsFinalToo() {
        let machine = Self.run([
            (.appendForCaller(1), .syncByCaller),
            (.callerSync, .write(through: 1)),
            (.syncFailed(Self.eio), .fail(.journalFailed, .ioError)),
            (.callerSync, .none),
            (.appendForCaller(2), .reject(.journalFailed, .ioError)),
            (.next, .stop),
        ])
        #expect(machine.durable == 0)
        #expect(!machine.syncThreadHasWork)
    }

    @Test func rejectionMessagesSayClosingOrClosed() {
        var machine = GroupCommit(lastDurable: 0)
        _ = machine.recordAppended(1)
        machine.closeRequestedByOwner()
        if case .reject(let error) = machine.recordAppended(2) {
            #expect(error.message == "the journal is closing")
        } else {
            Issue.record("not rejected while closing")
        }
        _ = machine.nextAction()
        _ = machine.syncSucceeded()
        #expect(machine.nextAction() == .stop)
        if case .reject(let error) = machine.recordAppended(2) {
            #expect(error.message == "the journal is closed")
        } else {
            Issue.record("not rejected once closed")
        }
    }
}
