import Foundation
import Logging
import ServiceLifecycle
import TallyEngine

/// Keeps an ``Engine`` open while a service group runs and closes it at graceful shutdown: the
/// writer finishes what is queued, the journal is made durable and closed (and a snapshot is
/// written, if the engine is configured to write one at close).
///
/// Put it before the ``TallyServer`` in the group's services: a group shuts services down in
/// reverse order, so the server has stopped taking requests and drained its connections before
/// the engine closes.
public struct EngineService: Service {
    public let engine: Engine
    private let logger: Logger

    public init(engine: Engine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    public func run() async throws {
        // Returns at graceful shutdown, or throws when the task is cancelled: close either way.
        try? await gracefulShutdown()
        self.logger.info("closing the engine", metadata: ["durable_sequence": "\(self.engine.durableSequence)"])
        let engine = self.engine
        // close() blocks until the writer has finished and the journal is durable: run it on a
        // thread of its own rather than the cooperative pool.
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let thread = Thread {
                // Named from inside: on Linux a name set before `start()` never reaches the kernel.
                Thread.current.name = "tally-close"
                continuation.resume(with: Result { try engine.close() })
            }
            thread.start()
        }
        self.logger.info("engine closed", metadata: ["durable_sequence": "\(self.engine.durableSequence)"])
    }
}
