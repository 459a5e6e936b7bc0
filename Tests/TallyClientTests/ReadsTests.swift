import TallyClient
import TallyCore
import TallyWire
import Testing

@Suite("Reads, waits and statistics")
struct ReadsTests {
    @Test("each read sends its request with the consistency asked for and returns the reply's values")
    func readsRoundTrip() async throws {
        try await withConnectedClient { _, connection, client in
            let balances = Task { await outcome { try await client.balances([3, 4], consistency: .applied) } }
            let balancesRequest = try await connection.nextRequest()
            #expect(balancesRequest.request == .balances(BalancesRequest([3, 4], consistency: .applied)))
            try await connection.reply(to: balancesRequest, .balances(BalancesReply([balance(for: 3), nil])))
            #expect(try await balances.value.get() == [balance(for: 3), nil])

            let asset = AssetInfo(code: "EUR", scale: 2, totals: balance(for: 9))
            let assets = Task { await outcome { try await client.assets(["EUR", "GBP"]) } }
            let assetsRequest = try await connection.nextRequest()
            #expect(assetsRequest.request == .assets(AssetsRequest(["EUR", "GBP"], consistency: .durable)))
            try await connection.reply(to: assetsRequest, .assets(AssetsReply([asset, nil])))
            #expect(try await assets.value.get() == [asset, nil])

            let aggregate = Task {
                await outcome {
                    try await client.aggregateBalance(kind: .merchantPayable, asset: "USD", dimension: .merchant(42))
                }
            }
            let aggregateRequest = try await connection.nextRequest()
            #expect(
                aggregateRequest.request
                    == .aggregateBalance(AggregateBalanceRequest(kind: .merchantPayable, asset: "USD", .merchant(42)))
            )
            try await connection.reply(to: aggregateRequest, .aggregateBalance(AggregateBalanceReply(balance(for: 42))))
            #expect(try await aggregate.value.get() == balance(for: 42))

            let page = Task {
                await outcome {
                    try await client.aggregateBalances(
                        kind: .merchantPayable,
                        asset: "USD",
                        grouping: .partner,
                        start: 5,
                        limit: 2
                    )
                }
            }
            let pageRequest = try await connection.nextRequest()
            #expect(
                pageRequest.request
                    == .aggregateBalances(
                        AggregateBalancesRequest(kind: .merchantPayable, asset: "USD", by: .partner, start: 5, limit: 2)
                    )
            )
            let entries = [
                AggregateEntry(value: 5, balance: balance(for: 5)), AggregateEntry(value: 8, balance: balance(for: 8)),
            ]
            try await connection.reply(
                to: pageRequest,
                .aggregateBalances(AggregateBalancesReply(entries, hasMore: true))
            )
            #expect(try await page.value.get() == AggregateBalancesReply(entries, hasMore: true))

            let transaction = Task { await outcome { try await client.transaction(77, consistency: .applied) } }
            let transactionRequest = try await connection.nextRequest()
            #expect(transactionRequest.request == .transaction(TransactionRequest(77, consistency: .applied)))
            try await connection.reply(to: transactionRequest, .transaction(TransactionReply(.notRetained)))
            #expect(try await transaction.value.get() == .notRetained)

            let record = Task { await outcome { try await client.idempotencyRecord(IdempotencyKey(5)) } }
            let recordRequest = try await connection.nextRequest()
            #expect(recordRequest.request == .idempotencyRecord(IdempotencyRequest(IdempotencyKey(5))))
            try await connection.reply(to: recordRequest, .idempotencyRecord(IdempotencyReply(nil)))
            #expect(try await record.value.get() == nil)

            let statistics = Task { await outcome { try await client.statistics() } }
            let statisticsRequest = try await connection.nextRequest()
            #expect(statisticsRequest.request == .statistics)
            let values = [Statistic("requests", .counter, 12), Statistic("connections", .gauge, 1)]
            try await connection.reply(to: statisticsRequest, .statistics(StatisticsReply(values)))
            #expect(try await statistics.value.get() == values)

            // An empty list asks nothing.
            #expect(try await client.balances([]) == [])
            #expect(connection.requests.count == 0)
        }
    }

    @Test("waitUntilDurable sends the sequence and its timeout, capped at the server's longest wait")
    func waitUntilDurable() async throws {
        var options = FakeServer.Options()
        options.handshake = FakeServer.handshake(limits: ConnectionLimits(waitTimeoutMaxMilliseconds: 2_000))
        try await withConnectedClient(options) { _, connection, client in
            let wait = Task { await outcome { try await client.waitUntilDurable(41, timeout: .milliseconds(1_500)) } }
            let request = try await connection.nextRequest()
            #expect(
                request.request == .waitUntilDurable(WaitUntilDurableRequest(sequence: 41, timeoutMilliseconds: 1_500))
            )
            try await connection.reply(to: request, .waitUntilDurable(WaitUntilDurableReply(durableSequence: 45)))
            #expect(try await wait.value.get() == 45)

            let capped = Task { await outcome { try await client.waitUntilDurable(50, timeout: .seconds(60)) } }
            let cappedRequest = try await connection.nextRequest()
            #expect(
                cappedRequest.request
                    == .waitUntilDurable(WaitUntilDurableRequest(sequence: 50, timeoutMilliseconds: 2_000))
            )
            try await connection.fail(cappedRequest, .durabilityTimeout)
            let error = await capped.value.failure
            #expect(error?.code == .server)
            #expect(error?.status == .durabilityTimeout)
        }
    }

    @Test("submit of a batch returns the server's reply for its operations")
    func submitBatch() async throws {
        try await withConnectedClient { _, connection, client in
            var batch = OperationBatch()
            batch.append(createAccount(1), linked: true)
            batch.append(createAccount(2))
            let call = Task { await outcome { try await client.submit(batch, acknowledgement: .applied) } }
            let request = try await connection.nextRequest()
            guard case .submitBatch(let submit) = request.request else {
                Issue.record("expected a submit, got \(request.request)")
                return
            }
            #expect(submit.acknowledgement == .applied)
            #expect(submit.batch.operations == [createAccount(1), createAccount(2)])
            #expect(submit.batch.isLinked(at: 0))
            let reply = SubmitBatchReply(
                sequence: 3,
                recordedTime: Timestamp(nanosecondsSinceEpoch: 4),
                results: [.rejected(.linkedOperationFailed), .rejected(.accountUnknown)]
            )
            try await connection.reply(to: request, .submitBatch(reply))
            #expect(try await call.value.get() == reply)
        }
    }
}
