import Foundation
import TallyCore
import TallyEngine
import TallyTestKit
import TallyWire
import Testing

@testable import TallyServer

/// The server in this process, spoken to byte by byte over real Unix sockets.
@Suite(.serialized)
struct ServerTests {
    @Test func handshakeReportsVersionsLimitsAndAccess() async throws {
        let limits = ConnectionLimits(operationsPerRequestMax: 500, connectionsMax: 9, idleTimeoutMilliseconds: 0)
        let fixture = try await ServerFixture(limits: limits, readOnlySocket: true)
        let socket = try fixture.connect()
        let reply = try socket.roundTrip(.handshake(HandshakeRequest(clientName: "test")))
        guard case .handshake(let handshake) = reply.reply else {
            Issue.record("\(reply)")
            return
        }
        #expect(handshake.version == 1)
        #expect(handshake.limits == limits)
        #expect(!handshake.isReadOnly)
        #expect(handshake.serverVersion == "tally test")
        let readOnly = try fixture.connect(readOnly: true)
        guard case .handshake(let other) = try readOnly.roundTrip(.handshake(HandshakeRequest(clientName: "ro"))).reply
        else {
            Issue.record("no handshake")
            return
        }
        #expect(other.isReadOnly)
        // Socket files carry the configured permissions.
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.socketPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try await fixture.stop()
    }

    @Test func submitsAndEveryReadGoThroughTheSocket() async throws {
        let fixture = try await ServerFixture()
        let socket = try fixture.connect()
        let setup = try socket.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup))).submit
        #expect(setup.results.allSatisfy { $0.code == .ok })
        #expect(setup.sequence == 1)
        var batch = OperationBatch()
        for key in 1...10 { batch.append(ServerFixture.capture(key: UInt64(key), amount: 1_000)) }
        let posted = try socket.roundTrip(.submitBatch(SubmitBatchRequest(batch))).submit
        #expect(posted.results.map(\.code) == Array(repeating: .ok, count: 10))
        #expect(fixture.engine.durableSequence >= posted.sequence)

        let balances = try socket.roundTrip(.balances(BalancesRequest([1, 2, 3, 99]))).reply
        guard case .balances(let values) = balances else {
            Issue.record("\(balances)")
            return
        }
        #expect(values.balances.count == 4)
        #expect(values.balances[1]?.creditsPosted == UInt128(10 * 975))
        #expect(values.balances[2]?.creditsPosted == UInt128(10 * 25))
        #expect(values.balances[3] == nil)

        let accounts = try socket.roundTrip(.accounts(AccountsRequest([2]))).reply
        guard case .accounts(let infos) = accounts else {
            Issue.record("\(accounts)")
            return
        }
        #expect(infos.accounts.first??.merchant == 42)

        let aggregate = try socket.roundTrip(
            .aggregateBalance(AggregateBalanceRequest(kind: .merchantPayable, asset: "USD", .merchant(42)))
        ).reply
        guard case .aggregateBalance(let sum) = aggregate else {
            Issue.record("\(aggregate)")
            return
        }
        #expect(sum.balance?.creditsPosted == UInt128(10 * 975))

        let page = try socket.roundTrip(
            .aggregateBalances(AggregateBalancesRequest(kind: .merchantPayable, asset: "USD", by: .merchant))
        ).reply
        guard case .aggregateBalances(let entries) = page else {
            Issue.record("\(page)")
            return
        }
        #expect(entries.entries.map(\.value) == [42])
        #expect(!entries.hasMore)

        let assets = try socket.roundTrip(.assets(AssetsRequest(["USD", "EUR"]))).reply
        guard case .assets(let assetInfos) = assets else {
            Issue.record("\(assets)")
            return
        }
        #expect(assetInfos.assets[0]?.scale == 2)
        #expect(assetInfos.assets[1] == nil)

        let id = posted.results[0].transactionID
        let transaction = try socket.roundTrip(.transaction(TransactionRequest(id))).reply
        guard case .transaction(let lookup) = transaction, case .found(let record) = lookup.lookup else {
            Issue.record("\(transaction)")
            return
        }
        #expect(record.id == id)

        let keyed = try socket.roundTrip(.idempotencyRecord(IdempotencyRequest(IdempotencyKey(UInt128(1))))).reply
        guard case .idempotencyRecord(let remembered) = keyed else {
            Issue.record("\(keyed)")
            return
        }
        #expect(remembered.record?.transaction?.id == id)

        let holds = try socket.roundTrip(.holds(HoldsRequest([id]))).reply
        guard case .holds(let holdInfos) = holds else {
            Issue.record("\(holds)")
            return
        }
        #expect(holdInfos.holds == [nil])

        let waited = try socket.roundTrip(
            .waitUntilDurable(WaitUntilDurableRequest(sequence: posted.sequence, timeoutMilliseconds: 1_000))
        ).reply
        guard case .waitUntilDurable(let durable) = waited else {
            Issue.record("\(waited)")
            return
        }
        #expect(durable.durableSequence >= posted.sequence)

        let statistics = try socket.roundTrip(.statistics).reply
        guard case .statistics(let stats) = statistics else {
            Issue.record("\(statistics)")
            return
        }
        let named = Dictionary(uniqueKeysWithValues: stats.statistics.map { ($0.name, $0.value) })
        #expect(named["server.operations"] == 14)
        #expect(named["ledger.accounts"] == 3)
        #expect(named["journal.durable_sequence"] == posted.sequence)
        #expect((named["process.resident_bytes"] ?? 0) > 0)
        #expect(try socket.roundTrip(.ping).reply == .ping)
        try await fixture.stop()
    }

    @Test func pipelinedRequestsReadTheirOwnWritesAndKeepTheirIDs() async throws {
        let fixture = try await ServerFixture()
        let socket = try fixture.connect()
        _ = try socket.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup)))
        // 200 writes, each followed by an applied read of the merchant balance, without waiting.
        var expected: [UInt64: UInt128] = [:]
        var writes: Set<UInt64> = []
        for index in 1...200 {
            let write = try socket.send(
                .submitBatch(
                    SubmitBatchRequest(OperationBatch([ServerFixture.capture(key: UInt64(index), amount: 400)]))
                )
            )
            writes.insert(write)
            let read = try socket.send(.balances(BalancesRequest([2], consistency: .applied)))
            expected[read] = UInt128(index) * 390
        }
        var seen = 0
        while seen < 400 {
            guard let reply = try socket.receive() else {
                Issue.record("closed")
                return
            }
            seen += 1
            if let credits = expected[reply.requestID] {
                guard case .balances(let balances) = reply.reply else {
                    Issue.record("\(reply)")
                    return
                }
                #expect(balances.balances[0]?.creditsPosted == credits)
            } else {
                #expect(writes.contains(reply.requestID))
                #expect(try reply.submit.results[0].code == .ok)
            }
        }
        try await fixture.stop()
    }

    @Test func malformedRequestsAreAnsweredAndTheConnectionGoesOn() async throws {
        let fixture = try await ServerFixture()
        let socket = try fixture.connect()
        // An unknown opcode: answered, the frame skipped.
        try socket.send(ServerFixture.rawFrame(length: 20, opcode: 0x7F, requestID: 5))
        let unknown = try #require(try socket.receive())
        #expect(unknown.requestID == 5)
        #expect(unknown.reply.status == .unknownOpcode)
        #expect(!unknown.isClosing)
        // Trailing bytes after a ping.
        try socket.send(ServerFixture.rawFrame(length: 21, opcode: Opcode.ping.rawValue, requestID: 6, payload: [0]))
        let malformed = try #require(try socket.receive())
        #expect(malformed.requestID == 6)
        #expect(malformed.reply.status == .malformed)
        #expect(try socket.roundTrip(.ping).reply == .ping)

        // A bad magic cannot be delimited: answered, then closed; other connections are unaffected.
        let other = try fixture.connect()
        try socket.send(Array(repeating: 0xAB, count: 40))
        let replies = try socket.drainUntilClosed()
        #expect(replies.count == 1)
        #expect(replies.first?.reply.status == .malformed)
        #expect(replies.first?.isClosing == true)
        #expect(try other.roundTrip(.ping).reply == .ping)
        try await fixture.stop()
    }

    @Test func anOversizedFrameIsRefusedBeforeItsBodyArrives() async throws {
        let fixture = try await ServerFixture(limits: ConnectionLimits(frameBytesMax: 4_096))
        let socket = try fixture.connect()
        try socket.send(ServerFixture.rawFrame(length: 1 << 20, opcode: Opcode.submitBatch.rawValue, requestID: 9))
        let replies = try socket.drainUntilClosed()
        #expect(replies.map(\.reply.status) == [.frameTooLarge])
        #expect(replies.first?.requestID == 9)
        try await fixture.stop()
    }

    @Test func readOnlyAccessRefusesEveryWrite() async throws {
        let fixture = try await ServerFixture(readOnlySocket: true)
        let writer = try fixture.connect()
        _ = try writer.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup)))
        let reader = try fixture.connect(readOnly: true)
        let refused = try reader.roundTrip(
            .submitBatch(SubmitBatchRequest(OperationBatch([ServerFixture.capture(key: 1, amount: 100)])))
        )
        #expect(refused.reply.status == .readOnly)
        let balances = try reader.roundTrip(.balances(BalancesRequest([2]))).reply
        guard case .balances(let values) = balances else {
            Issue.record("\(balances)")
            return
        }
        #expect(values.balances[0]?.creditsPosted == 0)
        try await fixture.stop()

        // A peer whose user may not write is served read-only on the main socket.
        let strict = try await ServerFixture(writerUserIDs: [geteuid() &+ 12_345])
        let socket = try strict.connect()
        if geteuid() != 0 {
            let reply = try socket.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup)))
            #expect(reply.reply.status == .readOnly)
        } else {
            // Root may always write.
            #expect(try socket.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup))).reply.status == .ok)
        }
        try await strict.stop()
    }

    @Test func connectionsBeyondTheLimitAreAnsweredAndClosed() async throws {
        let fixture = try await ServerFixture(limits: ConnectionLimits(connectionsMax: 2))
        let first = try fixture.connect()
        let second = try fixture.connect()
        #expect(try first.roundTrip(.ping).reply == .ping)
        #expect(try second.roundTrip(.ping).reply == .ping)
        let third = try fixture.connect()
        let replies = try third.drainUntilClosed()
        #expect(replies.map(\.reply.status) == [.connectionLimit])
        #expect(replies.first?.requestID == 0)
        // A slot frees when a connection closes.
        _ = consume first
        try await Task.sleep(for: .milliseconds(100))
        let fourth = try fixture.connect()
        #expect(try fourth.roundTrip(.ping).reply == .ping)
        try await fixture.stop()
    }

    @Test func idleConnectionsAreClosed() async throws {
        let fixture = try await ServerFixture(limits: ConnectionLimits(idleTimeoutMilliseconds: 200))
        let socket = try fixture.connect()
        #expect(try socket.roundTrip(.ping).reply == .ping)
        let replies = try socket.drainUntilClosed(timeoutMilliseconds: 5_000)
        #expect(replies.map(\.reply.status) == [.idleTimeout])
        try await fixture.stop()
    }

    @Test func waitUntilDurableTimesOutWithoutLosingAnything() async throws {
        let fixture = try await ServerFixture()
        let socket = try fixture.connect()
        let reply = try socket.roundTrip(
            .waitUntilDurable(WaitUntilDurableRequest(sequence: 1_000, timeoutMilliseconds: 50))
        )
        #expect(reply.reply.status == .durabilityTimeout)
        let now = try socket.roundTrip(.waitUntilDurable(WaitUntilDurableRequest(sequence: 0, timeoutMilliseconds: 0)))
        #expect(now.reply == .waitUntilDurable(WaitUntilDurableReply(durableSequence: 0)))
        try await fixture.stop()
    }

    @Test func aClientThatDoesNotReadIsHeldAtTheInFlightLimit() async throws {
        let limits = ConnectionLimits(frameBytesMax: 4_096, inFlightBytesMax: 4_096)
        // The journal's sync thread syncs: with syncs held, an event loop that synced itself would
        // be blocked and could not answer the statistics request this test reads.
        let fixture = try await ServerFixture(limits: limits, syncOnEventLoop: false)
        let socket = try fixture.connect()
        _ = try socket.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup)))
        // Hold every sync: durable writes stay in flight, so the server must stop reading.
        fixture.fileSystem.hold(.synchronize)
        fixture.fileSystem.hold(.synchronizeData)
        var sent = 0
        let batch = OperationBatch([ServerFixture.capture(key: 1, amount: 100)])
        var bytes: [UInt8] = []
        RequestFrame(requestID: 1, .submitBatch(SubmitBatchRequest(batch))).encode(into: &bytes)
        let perFrame = bytes.count
        // Several times the in-flight budget, and far less than the socket's buffers hold (the
        // sends must not block once the server stops reading).
        for index in 0..<200 {
            var frame: [UInt8] = []
            let op = ServerFixture.capture(key: UInt64(index + 10), amount: 100)
            RequestFrame(requestID: UInt64(index + 10), .submitBatch(SubmitBatchRequest(OperationBatch([op]))))
                .encode(into: &frame)
            try socket.send(frame)
            sent += 1
        }
        try await Task.sleep(for: .milliseconds(200))
        let statistics = try fixture.connect().roundTrip(.statistics).reply
        guard case .statistics(let stats) = statistics else {
            Issue.record("\(statistics)")
            return
        }
        let named = Dictionary(uniqueKeysWithValues: stats.statistics.map { ($0.name, $0.value) })
        // The setup submit plus at most the frames that fit in the in-flight budget reached the engine.
        let submitted = try #require(named["server.requests.submit"])
        #expect(submitted >= 2)
        #expect(submitted <= 1 + UInt64(4_096 / perFrame) + 1)
        fixture.fileSystem.release(.synchronize)
        fixture.fileSystem.release(.synchronizeData)
        var answered = 0
        while answered < sent {
            guard let reply = try socket.receive() else { break }
            #expect(reply.reply.status == .ok)
            answered += 1
        }
        #expect(answered == sent)
        try await fixture.stop()
    }

    @Test(arguments: [true, false])
    func durableSubmitsAreSyncedByTheEventLoopOrTheSyncThreadAsConfigured(onEventLoop: Bool) async throws {
        let fixture = try await ServerFixture(syncOnEventLoop: onEventLoop)
        let socket = try fixture.connect()
        _ = try socket.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup)))
        for key in 1...40 {
            let batch = OperationBatch([ServerFixture.capture(key: UInt64(key), amount: 1_000)])
            let reply = try socket.roundTrip(.submitBatch(SubmitBatchRequest(batch))).submit
            #expect(reply.results.map(\.code) == [.ok])
            // Acknowledged as durable: the journal says so before the reply leaves.
            #expect(fixture.engine.durableSequence >= reply.sequence)
        }
        // Applied acknowledgements are the sync thread's in either mode.
        let applied = OperationBatch([ServerFixture.capture(key: 99, amount: 1_000)])
        _ = try socket.roundTrip(.submitBatch(SubmitBatchRequest(applied, acknowledgement: .applied)))
        let statistics = try socket.roundTrip(.statistics).reply
        guard case .statistics(let stats) = statistics else {
            Issue.record("\(statistics)")
            return
        }
        let named = Dictionary(uniqueKeysWithValues: stats.statistics.map { ($0.name, $0.value) })
        let syncs = try #require(named["journal.syncs"])
        let onLoop = try #require(named["journal.syncs.on_event_loop"])
        #expect(syncs >= 41)
        if onEventLoop {
            // One request at a time: the loop synced nearly every one itself (the sync thread may
            // take a few on its periodic wake-up, and takes the applied one).
            #expect(onLoop >= 30, "\(onLoop) of \(syncs) syncs on the event loop")
        } else {
            #expect(onLoop == 0)
        }
        #expect(named["journal.synced_records"] ?? 0 >= 42)
        try await fixture.stop()
    }

    @Test func aFailedSyncOnTheEventLoopFailsTheWriteAndTheServerGoesOnAnsweringReads() async throws {
        let fixture = try await ServerFixture()
        let socket = try fixture.connect()
        let setup = try socket.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup))).submit
        #expect(setup.results.allSatisfy { $0.code == .ok })
        fixture.fileSystem.failCalls(.synchronizeData, with: .ioError, where: FaultInjectingFileSystem.segmentFiles)
        let batch = OperationBatch([ServerFixture.capture(key: 1, amount: 1_000)])
        let failed = try socket.roundTrip(.submitBatch(SubmitBatchRequest(batch)))
        // Never acknowledged: the sync that would have made it durable failed.
        #expect(failed.reply.status == .engineFailed)
        // Writes are refused for good; reads are served from what is durable (the setup only).
        let again = try socket.roundTrip(.submitBatch(SubmitBatchRequest(batch)))
        #expect(again.reply.status == .engineFailed)
        let balances = try fixture.connect().roundTrip(.balances(BalancesRequest([1, 2])))
        guard case .balances(let read) = balances.reply else {
            Issue.record("\(balances)")
            return
        }
        #expect(read.balances.map { $0?.debitsPosted } == [0, 0])
        await fixture.server.shutdown()
        #expect(throws: EngineError.self) { try fixture.engine.close() }
        try? FileManager.default.removeItem(atPath: fixture.directory)
    }

    @Test func theStatisticsReplyCarriesTheServersSwiftMetrics() async throws {
        let registry = MetricsRegistry()
        let fixture = try await ServerFixture(metrics: registry)
        let socket = try fixture.connect()
        _ = try socket.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup)))
        for key in 1...5 {
            let batch = OperationBatch([ServerFixture.capture(key: UInt64(key), amount: 1_000)])
            _ = try socket.roundTrip(.submitBatch(SubmitBatchRequest(batch)))
        }
        _ = try socket.roundTrip(.ping)
        let reply = try socket.roundTrip(.statistics).reply
        guard case .statistics(let stats) = reply else {
            Issue.record("\(reply)")
            return
        }
        let named = Dictionary(uniqueKeysWithValues: stats.statistics.map { ($0.name, $0) })
        // Six submits and a ping before this request; the statistics request counts itself.
        #expect(named["metrics.tally_requests_total"]?.value == 8)
        #expect(named["metrics.tally_requests_total"]?.kind == .counter)
        #expect(named["metrics.tally_operations_total"]?.value == 4 + 5)
        #expect(named["metrics.tally_connections_total"]?.value == 1)
        #expect(named["metrics.tally_connections_open"]?.value == 1)
        #expect(named["metrics.tally_connections_open"]?.kind == .gauge)
        #expect(named["metrics.tally_submit_duration.count"]?.value == 6)
        let p50 = try #require(named["metrics.tally_submit_duration.p50_us"]?.value)
        let maximum = try #require(named["metrics.tally_submit_duration.max_us"]?.value)
        #expect(p50 >= 1 && p50 <= maximum)
        #expect(named["metrics.tally_error_replies_total"]?.value == 0)
        try await fixture.stop()
    }

    @Test func metricNamesAreStatisticNames() {
        #expect(MetricsRegistry.name("tally_requests_total", []) == "tally_requests_total")
        #expect(MetricsRegistry.name("HTTP-Requests", [("Method", "GET /x")]) == "http_requests.method_get__x")
        let long = MetricsRegistry.name(String(repeating: "a", count: 200), [])
        #expect(Statistic.isValidName("metrics." + long + ".count"))
        // A counter and a timer under one label are both kept.
        let registry = MetricsRegistry()
        registry.makeCounter(label: "same", dimensions: []).increment(by: 3)
        registry.makeTimer(label: "same", dimensions: []).recordNanoseconds(5_000)
        let names = registry.statistics().map(\.name)
        #expect(names.contains("metrics.same"))
        #expect(names.contains("metrics.same_.count"))
        #expect(registry.statistics().first { $0.name == "metrics.same" }?.value == 3)
    }

    @Test func gracefulShutdownAnswersWhatWasReceivedThenCloses() async throws {
        let fixture = try await ServerFixture()
        let socket = try fixture.connect()
        _ = try socket.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup)))
        fixture.fileSystem.hold(.synchronizeData)
        fixture.fileSystem.hold(.synchronize)
        let id = try socket.send(
            .submitBatch(SubmitBatchRequest(OperationBatch([ServerFixture.capture(key: 77, amount: 100)])))
        )
        try await Task.sleep(for: .milliseconds(100))
        let server = fixture.server
        let shutdown = Task { await server.shutdown() }
        try await Task.sleep(for: .milliseconds(100))
        fixture.fileSystem.release(.synchronizeData)
        fixture.fileSystem.release(.synchronize)
        let replies = try socket.drainUntilClosed()
        await shutdown.value
        #expect(replies.count == 2)
        #expect(replies.first?.requestID == id)
        #expect(try replies.first?.submit.results.first?.code == .ok)
        #expect(replies.last?.requestID == 0)
        #expect(replies.last?.reply.status == .shuttingDown)
        #expect(replies.last?.isClosing == true)
        #expect(!FileManager.default.fileExists(atPath: fixture.socketPath))
        #expect(fixture.engine.durableSequence == 2)
        try fixture.engine.close()
    }
}
