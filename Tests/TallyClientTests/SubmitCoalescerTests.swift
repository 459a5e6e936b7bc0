import NIOCore
import TallyCore
import Testing

@testable import TallyClient

@Suite("SubmitCoalescer")
struct SubmitCoalescerTests {
    typealias Coalescer = SubmitCoalescer<Int>

    static func item(_ waiter: Int, bytes: Int = 10, deadline: Int64 = 0) -> Coalescer.Item {
        Coalescer.Item(
            operation: createAccount(UInt64(waiter)),
            byteCount: bytes,
            deadline: .uptimeNanoseconds(UInt64(deadline)),
            waiter: waiter
        )
    }

    static func waiters(_ action: Coalescer.Action) -> [Int]? {
        switch action {
        case .none: return nil
        case .send(let items): return items.map(\.waiter)
        }
    }

    @Test("a lone operation is sent at once; others queue until the batch in flight finishes")
    func sendsAtOnceThenQueues() {
        var coalescer = Coalescer(operationsMax: 100, bytesMax: 1_000)
        #expect(Self.waiters(coalescer.enqueue(Self.item(1))) == [1])
        #expect(Self.waiters(coalescer.enqueue(Self.item(2))) == nil)
        #expect(Self.waiters(coalescer.enqueue(Self.item(3))) == nil)
        #expect(coalescer.queuedCount == 2)
        #expect(Self.waiters(coalescer.batchFinished()) == [2, 3])
        #expect(coalescer.isInFlight)
        #expect(Self.waiters(coalescer.batchFinished()) == nil)
        #expect(!coalescer.isInFlight)
        #expect(Self.waiters(coalescer.enqueue(Self.item(4))) == [4])
    }

    @Test("a batch stops at the operation limit and at the byte limit, oldest first")
    func limits() {
        var coalescer = Coalescer(operationsMax: 3, bytesMax: 100)
        _ = coalescer.enqueue(Self.item(0))
        for waiter in 1...5 {
            _ = coalescer.enqueue(Self.item(waiter, bytes: 10))
        }
        _ = coalescer.enqueue(Self.item(6, bytes: 60))
        _ = coalescer.enqueue(Self.item(7, bytes: 50))
        #expect(Self.waiters(coalescer.batchFinished()) == [1, 2, 3])
        #expect(Self.waiters(coalescer.batchFinished()) == [4, 5, 6])  // 10 + 10 + 60 = 80
        #expect(Self.waiters(coalescer.batchFinished()) == [7])
        #expect(Self.waiters(coalescer.batchFinished()) == nil)
    }

    @Test("removeAll hands back the queue and leaves the coalescer idle")
    func removeAll() {
        var coalescer = Coalescer(operationsMax: 10, bytesMax: 100)
        _ = coalescer.enqueue(Self.item(1))
        _ = coalescer.enqueue(Self.item(2))
        _ = coalescer.enqueue(Self.item(3))
        #expect(coalescer.removeAll() == [2, 3])
        #expect(!coalescer.isInFlight)
        #expect(Self.waiters(coalescer.enqueue(Self.item(4))) == [4])
    }
}
