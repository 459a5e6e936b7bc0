import CommitBenchmarkSupport
import Dispatch
import Foundation
import TallyCore
import TallyEngine

/// Requests to the engine with a bounded number in flight, acknowledged when applied; remembers the
/// transaction ids of holds (to capture later) and of the latest transfer (to reverse) when told each
/// operation's kind.
public final class Pipeline: @unchecked Sendable {
    // @unchecked: the mutable state is behind `lock`.
    public enum Kind: Sendable {
        case transfer
        case hold(UInt128)
        case other
    }

    /// Requests in flight while building.
    public static let inFlightMax = 8

    private let engine: Engine
    private let slots = DispatchSemaphore(value: Pipeline.inFlightMax)
    private let lock = NSLock()
    private var holds: [(hold: TransactionID, amount: UInt128)] = []
    private var transfer: TransactionID?
    private var failure: String?
    private var lastSequence: UInt64 = 0

    public init(engine: Engine) {
        self.engine = engine
    }

    /// Submits `batch` once a slot is free; `kinds` (one per operation, or nil when nothing is to be
    /// remembered) says which results to keep. The first failed operation fails the next call.
    public func submit(_ batch: OperationBatch, kinds: [Kind]? = nil) throws {
        self.slots.wait()
        try self.check()
        self.engine.submit(batch, acknowledgement: .applied) { result in
            self.lock.lock()
            switch result {
            case .success(let response):
                self.lastSequence = max(self.lastSequence, response.sequence)
                for (index, result) in response.results.enumerated() {
                    guard result.code.isOK else {
                        self.failure = self.failure ?? "operation \(index) of a batch: \(result)"
                        continue
                    }
                    guard let kinds else { continue }
                    switch kinds[index] {
                    case .transfer: self.transfer = result.transactionID
                    case .hold(let amount): self.holds.append((result.transactionID, amount))
                    case .other: break
                    }
                }
            case .failure(let error):
                self.failure = self.failure ?? "\(error)"
            }
            self.lock.unlock()
            self.slots.signal()
        }
    }

    /// Waits for every request in flight.
    public func drain() throws {
        for _ in 0..<Pipeline.inFlightMax {
            self.slots.wait()
        }
        for _ in 0..<Pipeline.inFlightMax {
            self.slots.signal()
        }
        try self.check()
    }

    /// Waits until everything applied so far is durable.
    public func waitDurable() throws {
        let sequence = self.lock.withLock { self.lastSequence }
        let engine = self.engine
        try blocking { try await engine.waitUntilDurable(sequence) }
    }

    public func lastTransfer() -> TransactionID? {
        self.lock.withLock { self.transfer }
    }

    /// Moves the holds applied so far to `into` (dropping what `start` has passed); false if none.
    public func takeHolds(into destination: inout [(hold: TransactionID, amount: UInt128)], start: inout Int) -> Bool {
        destination.removeFirst(start)
        start = 0
        self.lock.withLock {
            destination.append(contentsOf: self.holds)
            self.holds.removeAll(keepingCapacity: true)
        }
        return !destination.isEmpty
    }

    private func check() throws {
        if let failure = self.lock.withLock({ self.failure }) {
            throw HarnessFailure(description: "building the state failed: \(failure)")
        }
    }
}
