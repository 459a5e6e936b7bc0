import NIOCore
import Testing

@testable import TallyClient

@Suite("RequestTable")
struct RequestTableTests {
    static func at(_ milliseconds: Int64) -> NIODeadline {
        .uptimeNanoseconds(UInt64(1_000_000_000 + milliseconds * 1_000_000))
    }

    @Test("replies find their waiters in any order; unknown ids are told apart")
    func removeInAnyOrder() {
        var table = RequestTable<String>()
        table.insert("a", requestID: 1, deadline: Self.at(100))
        table.insert("b", requestID: 2, deadline: Self.at(200))
        table.insert("c", requestID: 3, deadline: Self.at(300))
        guard case .waiting("b") = table.remove(requestID: 2) else {
            Issue.record("request 2 not found")
            return
        }
        guard case .unknown = table.remove(requestID: 2) else {
            Issue.record("request 2 answered twice")
            return
        }
        guard case .unknown = table.remove(requestID: 9) else {
            Issue.record("request 9 was never sent")
            return
        }
        #expect(table.count == 2)
        #expect(table.nextDeadline == Self.at(100))
    }

    @Test("expiry takes requests by deadline, and their late replies are recognised once")
    func expiryAndLateReplies() {
        var table = RequestTable<String>()
        table.insert("late", requestID: 1, deadline: Self.at(300))
        table.insert("early", requestID: 2, deadline: Self.at(100))
        table.insert("answered", requestID: 3, deadline: Self.at(50))
        _ = table.remove(requestID: 3)
        #expect(table.nextDeadline == Self.at(100), "an answered request at the top is trimmed")
        let expired = table.expire(now: Self.at(150))
        #expect(expired.map(\.requestID) == [2])
        #expect(expired.map(\.waiter) == ["early"])
        #expect(table.abandonedCount == 1)
        #expect(table.nextDeadline == Self.at(300))
        guard case .abandoned = table.remove(requestID: 2) else {
            Issue.record("the late reply was not recognised")
            return
        }
        guard case .unknown = table.remove(requestID: 2) else {
            Issue.record("a second late reply was accepted")
            return
        }
        #expect(table.abandonedCount == 0)
        #expect(table.expire(now: Self.at(1_000)).map(\.waiter) == ["late"])
        #expect(table.nextDeadline == nil)
    }

    @Test("answered requests behind an old one do not pile up in the deadline heap")
    func heapStaysBounded() {
        var table = RequestTable<Int>()
        table.insert(0, requestID: 1, deadline: Self.at(10))
        for id in UInt64(2)...10_000 {
            table.insert(Int(id), requestID: id, deadline: Self.at(Int64(id) + 100))
            _ = table.remove(requestID: id)
        }
        #expect(table.count == 1)
        #expect(table.nextDeadline == Self.at(10))
        // Every answered request is gone: expiry finds only the old one.
        #expect(table.expire(now: Self.at(1_000_000)).map(\.waiter) == [0])
        #expect(table.nextDeadline == nil)
    }

    @Test("removeAll returns every waiter by id and forgets abandoned ids")
    func removeAll() {
        var table = RequestTable<String>()
        table.insert("b", requestID: 2, deadline: Self.at(10))
        table.insert("a", requestID: 1, deadline: Self.at(20))
        table.insert("c", requestID: 3, deadline: Self.at(1))
        _ = table.expire(now: Self.at(5))
        #expect(table.removeAll() == ["a", "b"])
        #expect(table.isEmpty)
        #expect(table.abandonedCount == 0)
    }

    @Test("the deadline heap yields deadlines in order")
    func heapOrder() {
        var heap = DeadlineHeap()
        var random = SystemRandomNumberGenerator()
        let deadlines = (0..<500).map { _ in Int64.random(in: 0..<10_000, using: &random) }
        for (index, deadline) in deadlines.enumerated() {
            heap.insert(DeadlineHeap.Element(deadline: Self.at(deadline), requestID: UInt64(index)))
        }
        var popped: [NIODeadline] = []
        while !heap.isEmpty {
            popped.append(heap.removeFirst().deadline)
        }
        #expect(popped == deadlines.sorted().map(Self.at))
        heap.rebuild(
            from: deadlines.enumerated().map { DeadlineHeap.Element(deadline: Self.at($1), requestID: UInt64($0)) }
        )
        #expect(heap.first?.deadline == Self.at(deadlines.min()!))
    }
}
