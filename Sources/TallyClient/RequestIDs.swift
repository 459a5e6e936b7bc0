import Synchronization

/// The request ids of one connection: 1, 2, 3, ... (never 0, which only the server's own replies
/// carry), taken by callers on any thread as they encode their frames.
final class RequestIDs: Sendable {
    private let counter = Atomic<UInt64>(1)

    init() {}

    /// The next unused id.
    func next() -> UInt64 {
        self.counter.wrappingAdd(1, ordering: .relaxed).oldValue
    }
}
