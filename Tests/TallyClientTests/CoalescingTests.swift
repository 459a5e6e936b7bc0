import TallyClient
import TallyCore
import TallyWire
import Testing

@Suite("Coalescing single operations")
struct CoalescingTests {
    /// The fake server's result for an operation: ok with a transaction id from the account id for
    /// even ids, a rejection for odd ones.
    static func result(for operation: Operation) -> OperationResult {
        guard case .createAccount(let account) = operation else { return .rejected(.accountUnknown) }
        let id = account.id.rawValue
        return id % 2 == 0 ? .ok(TransactionID(rawValue: id * 10)) : .rejected(.accountExistsWithDifferentFields)
    }

    static func reply(to request: RequestFrame, sequence: UInt64) -> Reply {
        .submitBatch(
            SubmitBatchReply(
                sequence: sequence,
                recordedTime: Timestamp(nanosecondsSinceEpoch: sequence * 1_000),
                results: operations(of: request).map(result(for:))
            )
        )
    }

    @Test("concurrent callers are combined into few batches and each gets its own result")
    func concurrentCallersAreCoalesced() async throws {
        try await withConnectedClient { _, connection, client in
            let callers = 50
            let calls = (1...callers).map { id in
                Task { await outcome { try await client.submit(createAccount(UInt64(id))) } }
            }
            // The first operation goes alone and at once; hold its reply while the others queue.
            let first = try await connection.nextRequest()
            #expect(operations(of: first).count == 1)
            try await Task.sleep(for: .milliseconds(300))
            #expect(connection.requests.count == 0, "nothing else is sent while the batch is in flight")
            var sequence: UInt64 = 100
            var batchSizes = [operations(of: first).count]
            var sequenceOfAccount: [UInt64: UInt64] = [:]
            var request = first
            while true {
                guard case .submitBatch(let submit) = request.request else {
                    Issue.record("expected a submit, got \(request.request)")
                    return
                }
                #expect(submit.acknowledgement == .durable)
                for index in 0..<submit.batch.count {
                    #expect(!submit.batch.isLinked(at: index), "operations of different callers are never linked")
                }
                for case .createAccount(let account) in submit.batch.operations {
                    sequenceOfAccount[account.id.rawValue] = sequence
                }
                try await connection.reply(to: request, Self.reply(to: request, sequence: sequence))
                sequence += 1
                guard sequenceOfAccount.count < callers else { break }
                request = try await connection.nextRequest()
                batchSizes.append(operations(of: request).count)
            }
            #expect(batchSizes.reduce(0, +) == callers)
            #expect(batchSizes.count < callers, "coalescing happened: \(batchSizes)")
            #expect(batchSizes.count <= 3, "the queued operations went together: \(batchSizes)")
            for (index, call) in calls.enumerated() {
                let id = UInt64(index + 1)
                let outcome = try await call.value.get()
                #expect(outcome.result == Self.result(for: createAccount(id)))
                #expect(outcome.sequence == sequenceOfAccount[id])
                #expect(outcome.recordedTime == Timestamp(nanosecondsSinceEpoch: outcome.sequence * 1_000))
            }
        }
    }

    @Test("a lone caller is sent at once, and each acknowledgement kind has its own batch in flight")
    func acknowledgementKindsAreSeparate() async throws {
        try await withConnectedClient { _, connection, client in
            let durable = Task { await outcome { try await client.submit(createAccount(2)) } }
            let durableRequest = try await connection.nextRequest()
            // An applied submit does not wait for the durable one in flight.
            let applied = Task {
                await outcome { try await client.submit(createAccount(4), acknowledgement: .applied) }
            }
            let appliedRequest = try await connection.nextRequest()
            guard case .submitBatch(let submit) = appliedRequest.request else {
                Issue.record("expected a submit, got \(appliedRequest.request)")
                return
            }
            #expect(submit.acknowledgement == .applied)
            // A second durable one waits for the first.
            let queued = Task { await outcome { try await client.submit(createAccount(6)) } }
            try await Task.sleep(for: .milliseconds(100))
            #expect(connection.requests.count == 0)
            try await connection.reply(to: appliedRequest, Self.reply(to: appliedRequest, sequence: 7))
            try await connection.reply(to: durableRequest, Self.reply(to: durableRequest, sequence: 8))
            let next = try await connection.nextRequest()
            #expect(operations(of: next) == [createAccount(6)])
            try await connection.reply(to: next, Self.reply(to: next, sequence: 9))
            #expect(try await applied.value.get().sequence == 7)
            #expect(
                try await durable.value.get()
                    == OperationOutcome(
                        result: .ok(20),
                        sequence: 8,
                        recordedTime: Timestamp(nanosecondsSinceEpoch: 8_000)
                    )
            )
            #expect(try await queued.value.get().result == .ok(60))
        }
    }

    @Test("batches respect the operation limit and the server's frame limit")
    func batchesRespectLimits() async throws {
        var options = FakeServer.Options()
        options.handshake = FakeServer.handshake(
            limits: ConnectionLimits(frameBytesMax: 4_096, operationsPerRequestMax: 1_000)
        )
        var configuration = TallyClient.Configuration.testing
        configuration.coalescedOperationsMax = 10
        try await withConnectedClient(options, configuration: configuration) { _, connection, client in
            // 1 + 30 small operations: after the first, batches of at most 10.
            let small = (1...31).map { id in
                Task { await outcome { try await client.submit(createAccount(UInt64(id))) } }
            }
            var sizes: [Int] = []
            var answered = 0
            var first = true
            while answered < small.count {
                let request = try await connection.nextRequest()
                if first {
                    // Let every caller queue behind the first batch.
                    try await Task.sleep(for: .milliseconds(200))
                    first = false
                }
                sizes.append(operations(of: request).count)
                answered += operations(of: request).count
                try await connection.reply(to: request, Self.reply(to: request, sequence: UInt64(sizes.count)))
            }
            #expect(sizes.allSatisfy { $0 <= 10 })
            #expect(sizes.contains(10), "the queue filled batches up to the limit: \(sizes)")
            for call in small { #expect(await call.value.failure == nil) }

            // Posts of about 2 KiB: two do not fit 4,096 frame bytes, so each goes alone.
            let large = (1...3).map { key in
                Task { await outcome { try await client.submit(post(key: UInt64(key), referenceBytes: 1_000)) } }
            }
            for _ in large {
                let request = try await connection.nextRequest()
                #expect(operations(of: request).count == 1)
                try await Task.sleep(for: .milliseconds(50))
                try await connection.reply(
                    to: request,
                    .submitBatch(
                        SubmitBatchReply(
                            sequence: 1,
                            recordedTime: Timestamp(nanosecondsSinceEpoch: 1),
                            results: [.ok(1)]
                        )
                    )
                )
            }
            for call in large { #expect(await call.value.failure == nil) }
        }
    }

    @Test("a coalesced batch that times out fails its callers and the queue moves on")
    func coalescedTimeout() async throws {
        var configuration = TallyClient.Configuration.testing
        configuration.requestTimeout = .seconds(1)
        try await withConnectedClient(configuration: configuration) { _, connection, client in
            let first = Task { await outcome { try await client.submit(createAccount(2)) } }
            let firstRequest = try await connection.nextRequest()
            // The second caller's deadline is this much later than the first batch's, which is
            // when its own batch goes: time enough to answer it.
            try await Task.sleep(for: .milliseconds(500))
            let second = Task { await outcome { try await client.submit(createAccount(4)) } }
            #expect(await first.value.failure?.code == .timeout)
            // The queued operation goes once the first batch timed out, and its own reply counts.
            let secondRequest = try await connection.nextRequest()
            #expect(operations(of: secondRequest) == [createAccount(4)])
            try await connection.reply(to: firstRequest, Self.reply(to: firstRequest, sequence: 1))
            try await connection.reply(to: secondRequest, Self.reply(to: secondRequest, sequence: 2))
            #expect(try await second.value.get().sequence == 2)
        }
    }
}
