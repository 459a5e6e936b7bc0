import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage
import TallyTestKit

/// Runs the payment workload through a durable engine on a data directory: every batch is journaled
/// and synced, engine time follows the workload's virtual business clock, and the engine sweeps hold
/// expiries itself. Batches are acknowledged at apply time (the workload needs their results to
/// plan follow-ups) and everything is confirmed durable at the end.
struct DurableSimulation {
    struct Outcome {
        var operations = 0
        var batches = 0
        var postings = 0
        var replays = 0
        var results: [ResultCode: Int] = [:]
        var lastSequence: UInt64 = 0
        var recovery: Engine.Recovery
        /// The final state's digest, read once everything is durable.
        var digest: StateDigest?
        var violations: [String]
    }

    var workload: PaymentWorkload
    var operations: Int
    var batchSize: Int
    var dataDirectory: FilePath
    var checkInvariants: Bool

    mutating func run(progress: (Int) -> Void) async throws -> Outcome {
        let clock = VirtualClock(self.workload.time)
        var configuration = Engine.Configuration(dataDirectory: self.dataDirectory)
        configuration.ledger.expectedAccounts = self.workload.accountCount
        let (engine, recovery) = try Engine.open(configuration, clock: clock)
        var outcome = Outcome(recovery: recovery, violations: [])
        var batch = OperationBatch()
        do {
            while !self.workload.isSetUp || outcome.operations < self.operations {
                let wasSetUp = self.workload.isSetUp
                let count = wasSetUp ? min(self.batchSize, self.operations - outcome.operations) : self.batchSize
                let time = self.workload.nextBatch(into: &batch, count: count)
                clock.set(time)
                let response = try await engine.submit(batch, acknowledgement: .applied)
                self.workload.observe(response.results, of: batch)
                outcome.lastSequence = response.sequence
                outcome.batches += 1
                for result in response.results {
                    outcome.results[result.code, default: 0] += 1
                    if result.isReplay {
                        outcome.replays += 1
                    } else if result.code.isOK && result.transactionID.rawValue != 0 {
                        outcome.postings += 1
                    }
                }
                if wasSetUp {
                    outcome.operations += batch.count
                    progress(outcome.operations)
                }
            }
            try await engine.waitUntilDurable(outcome.lastSequence)
            outcome.digest = try await engine.read { $0.digest() }
            if self.checkInvariants {
                outcome.violations = try await engine.read { $0.checkInvariants() }
            }
        } catch {
            try? engine.close()
            throw error
        }
        try engine.close()
        return outcome
    }
}
