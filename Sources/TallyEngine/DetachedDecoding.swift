import Foundation

/// Runs `body` on a thread of its own; ``take()`` waits for its outcome and hands it over.
final class DetachedDecoding<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `outcome` and `done` are guarded by `condition`.
    private let condition = NSCondition()
    private var outcome: Result<Value, any Error>?
    private var done = false

    init(name: String, _ body: @escaping @Sendable () throws -> Value) {
        // Named from inside the thread: on Linux a name set before `start()` never reaches the
        // kernel, which keeps at most 15 bytes of one.
        let thread = Thread { [self] in
            Thread.current.name = name
            let outcome = Result { try body() }
            self.condition.lock()
            self.outcome = outcome
            self.done = true
            self.condition.broadcast()
            self.condition.unlock()
        }
        thread.start()
    }

    /// Waits until `body` has returned or thrown.
    func wait() {
        self.condition.lock()
        defer { self.condition.unlock() }
        while !self.done {
            self.condition.wait()
        }
    }

    /// What `body` returned or threw, once it has; the outcome is handed over, not kept (a value
    /// kept here would share its storage with the caller's, and the caller's first change to it
    /// would copy it whole). Taken once.
    func take() -> Result<Value, any Error> {
        self.condition.lock()
        defer { self.condition.unlock() }
        while !self.done {
            self.condition.wait()
        }
        precondition(self.outcome != nil, "DetachedDecoding.take() called twice")
        defer { self.outcome = nil }
        return self.outcome!
    }
}
