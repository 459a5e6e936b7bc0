import Synchronization
import TallyCore

#if canImport(Glibc)
import Glibc
#endif

/// Where the engine's time comes from. The ledger never reads a clock: the engine reads this one
/// once per batch and journals the time with the batch, so replay needs no clock at all.
public protocol EngineClock: Sendable {
    func now() -> Timestamp
}

/// Wall-clock time (CLOCK_REALTIME).
public struct SystemClock: EngineClock {
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(
            nanosecondsSinceEpoch: UInt64(spec.tv_sec) * Timestamp.nanosecondsPerSecond + UInt64(spec.tv_nsec)
        )
    }
}

/// A clock that moves only when told to: tests and load runs use it to let a month of business
/// time (hold deadlines, retention windows) pass in minutes.
public final class VirtualClock: EngineClock {
    private let nanoseconds: Atomic<UInt64>

    public init(_ start: Timestamp) {
        self.nanoseconds = Atomic(start.nanosecondsSinceEpoch)
    }

    public func now() -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: self.nanoseconds.load(ordering: .acquiring))
    }

    /// Moves the clock forward.
    public func advance(byNanoseconds delta: UInt64) {
        self.nanoseconds.add(delta, ordering: .releasing)
    }

    public func advance(bySeconds seconds: UInt64) {
        self.advance(byNanoseconds: seconds * Timestamp.nanosecondsPerSecond)
    }

    /// Sets the clock (it may go backwards; the ledger's recorded time never does).
    public func set(_ time: Timestamp) {
        self.nanoseconds.store(time.nanosecondsSinceEpoch, ordering: .releasing)
    }
}
