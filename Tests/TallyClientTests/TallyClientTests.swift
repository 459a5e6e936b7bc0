import Foundation
import NIOCore
import TallyClient
import TallyCore
import TallyWire
import Testing

@Suite("TallyClient against a fake server")
struct TallyClientTests {
    @Test("connect exchanges a handshake and keeps the server's limits")
    func handshakeTakesLimits() async throws {
        let limits = ConnectionLimits(
            frameBytesMax: 8_192,
            operationsPerRequestMax: 100,
            inFlightBytesMax: 65_536,
            connectionsMax: 3,
            idleTimeoutMilliseconds: 1_234,
            waitTimeoutMaxMilliseconds: 5_678
        )
        var options = FakeServer.Options()
        options.handshake = FakeServer.handshake(limits: limits, isReadOnly: true)
        var configuration = TallyClient.Configuration.testing
        configuration.clientName = "handshake-test"
        try await withConnectedClient(options, configuration: configuration) { _, connection, client in
            let handshake = try await connection.handshakes.next()
            #expect(handshake.clientName == "handshake-test")
            #expect(handshake.versions == WireProtocol.versionsSupported)
            #expect(client.server.limits == limits)
            #expect(client.server.isReadOnly)
            #expect(client.server.version == 1)
            #expect(client.server.serverVersion == "fake 0.1")
        }
    }

    @Test("pipelined requests answered out of order reach their callers")
    func pipelinedRepliesOutOfOrder() async throws {
        try await withConnectedClient { _, connection, client in
            let ids: [AccountID] = [11, 12, 13, 14, 15, 16]
            let calls = ids.map { id in
                Task { await outcome { try await client.balances([id]) } }
            }
            // Every request is in flight before any reply: the client pipelines.
            let requests = try await connection.nextRequests(ids.count)
            #expect(Set(requests.map(\.requestID)).count == ids.count)
            #expect(!requests.contains { $0.requestID == 0 })
            for request in requests.reversed() {
                guard case .balances(let read) = request.request else {
                    Issue.record("expected a balances request, got \(request.request)")
                    continue
                }
                try await connection.reply(to: request, .balances(BalancesReply(read.accounts.map(balance(for:)))))
            }
            for (id, call) in zip(ids, calls) {
                let balances = try await call.value.get()
                #expect(balances == [balance(for: id)])
            }
        }
    }

    @Test("a request that times out throws timeout; its late reply is dropped and the connection still works")
    func timeoutThenLateReply() async throws {
        var configuration = TallyClient.Configuration.testing
        configuration.requestTimeout = .milliseconds(300)
        try await withConnectedClient(configuration: configuration) { _, connection, client in
            let clock = ContinuousClock()
            let start = clock.now
            let call = Task { await outcome { try await client.ping() } }
            let request = try await connection.nextRequest()
            let error = await call.value.failure
            let elapsed = clock.now - start
            #expect(error?.code == .timeout)
            #expect(elapsed >= .milliseconds(300))
            #expect(elapsed < .seconds(3))
            // The late reply must not count as a protocol violation.
            try await connection.reply(to: request, .ping)
            let next = Task { await outcome { try await client.ping() } }
            let second = try await connection.nextRequest()
            try await connection.reply(to: second, .ping)
            #expect(await next.value.failure == nil)
        }
    }

    @Test("the server closing the connection fails every call in flight with connectionClosed")
    func serverClosesConnection() async throws {
        try await withConnectedClient { _, connection, client in
            let ping = Task { await outcome { try await client.ping() } }
            let read = Task { await outcome { try await client.balances([1, 2]) } }
            let write = Task { await outcome { try await client.submit(createAccount(1)) } }
            _ = try await connection.nextRequests(3)
            await connection.close()
            #expect(await ping.value.failure?.code == .connectionClosed)
            #expect(await read.value.failure?.code == .connectionClosed)
            #expect(await write.value.failure?.code == .connectionClosed)
            // Later calls fail at once, without a timeout.
            #expect(await outcome { try await client.ping() }.failure?.code == .connectionClosed)
            #expect(await outcome { try await client.submit(createAccount(2)) }.failure?.code == .connectionClosed)
        }
    }

    @Test("after a reply with the closing flag, requests in progress are still answered and new ones fail")
    func closingFlag() async throws {
        try await withConnectedClient { _, connection, client in
            let first = Task { await outcome { try await client.balances([7]) } }
            let firstRequest = try await connection.nextRequest()
            let second = Task { await outcome { try await client.ping() } }
            let secondRequest = try await connection.nextRequest()
            try await connection.fail(secondRequest, .shuttingDown, message: "stopping", isClosing: true)
            let secondError = await second.value.failure
            #expect(secondError?.code == .server)
            #expect(secondError?.status == .shuttingDown)
            // Refused locally: the server reads nothing more.
            let refused = await outcome { try await client.ping() }.failure
            #expect(refused?.code == .connectionClosed)
            #expect(refused?.status == .shuttingDown)
            try await connection.reply(to: firstRequest, .balances(BalancesReply([balance(for: 7)])))
            #expect(try await first.value.get() == [balance(for: 7)])
            #expect(connection.requests.count == 0)
        }
    }

    @Test("a reply with a non-ok status throws server with that status, and the connection stays usable")
    func serverStatuses() async throws {
        try await withConnectedClient { _, connection, client in
            let statuses: [ReplyStatus] = [
                .busy, .readOnly, .engineFailed, .tooManyOperations, .internalError, ReplyStatus(rawValue: 999),
            ]
            for status in statuses {
                let call = Task { await outcome { try await client.submit(OperationBatch([createAccount(1)])) } }
                let request = try await connection.nextRequest()
                try await connection.fail(request, status, message: "because \(status.rawValue)")
                let error = await call.value.failure
                #expect(error?.code == .server)
                #expect(error?.status == status)
                #expect(error?.reply?.message == "because \(status.rawValue)")
            }
            // A single operation's batch failing fails its caller with the same status.
            let single = Task { await outcome { try await client.submit(createAccount(3)) } }
            let request = try await connection.nextRequest()
            try await connection.fail(request, .readOnly)
            #expect(await single.value.failure?.status == .readOnly)
            // Malformed carries its reason and offset.
            let read = Task { await outcome { try await client.balances([1]) } }
            let readRequest = try await connection.nextRequest()
            try await connection.reply(
                ReplyFrame(
                    requestID: readRequest.requestID,
                    opcode: Opcode.balances.rawValue,
                    failure: ErrorReply(.malformed, reason: .truncated, offset: 24, message: "short")
                )
            )
            let malformed = await read.value.failure
            #expect(malformed?.status == .malformed)
            #expect(malformed?.reply?.reason == .truncated)
            #expect(malformed?.reply?.offset == 24)
            // Still connected.
            let ping = Task { await outcome { try await client.ping() } }
            try await connection.reply(to: try await connection.nextRequest(), .ping)
            #expect(await ping.value.failure == nil)
        }
    }

    @Test("a reply with request id 0 fails every call in flight with its status")
    func connectionLevelFailure() async throws {
        try await withConnectedClient { _, connection, client in
            let ping = Task { await outcome { try await client.ping() } }
            let read = Task { await outcome { try await client.balances([1]) } }
            _ = try await connection.nextRequests(2)
            try await connection.reply(
                ReplyFrame(requestID: 0, opcode: 0, failure: ErrorReply(.idleTimeout, message: "idle"), isClosing: true)
            )
            let pingError = await ping.value.failure
            let readError = await read.value.failure
            #expect(pingError?.code == .server)
            #expect(pingError?.status == .idleTimeout)
            #expect(readError?.status == .idleTimeout)
            let later = await outcome { try await client.ping() }.failure
            #expect(later?.code == .connectionClosed)
            #expect(later?.status == .idleTimeout, "later calls tell why the connection closed")
        }
    }

    @Test("bytes that are not a frame fail every call in flight with protocolViolation")
    func garbageIsProtocolViolation() async throws {
        try await withConnectedClient { _, connection, client in
            let ping = Task { await outcome { try await client.ping() } }
            let read = Task { await outcome { try await client.balances([1]) } }
            _ = try await connection.nextRequests(2)
            try await connection.send(raw: Array("this is not a tally frame at all".utf8))
            #expect(await ping.value.failure?.code == .protocolViolation)
            #expect(await read.value.failure?.code == .protocolViolation)
            #expect(await outcome { try await client.ping() }.failure?.code == .connectionClosed)
        }
    }

    @Test("a reply to a request not in flight is a protocol violation")
    func unknownRequestID() async throws {
        try await withConnectedClient { _, connection, client in
            let ping = Task { await outcome { try await client.ping() } }
            let request = try await connection.nextRequest()
            try await connection.reply(ReplyFrame(requestID: request.requestID + 1_000, .ping))
            #expect(await ping.value.failure?.code == .protocolViolation)
        }
    }

    @Test("a well-delimited reply that cannot be decoded fails only its request")
    func undecodableReplyFailsItsRequest() async throws {
        try await withConnectedClient { _, connection, client in
            let ping = Task { await outcome { try await client.ping() } }
            let request = try await connection.nextRequest()
            var bytes: [UInt8] = []
            ReplyFrame(requestID: request.requestID, .ping).encode(into: &bytes)
            bytes.append(0xFF)  // a ping reply has no payload
            bytes[0] = UInt8(bytes.count)
            try await connection.send(raw: bytes)
            #expect(await ping.value.failure?.code == .protocolViolation)
            // A reply of the wrong kind fails its request too.
            let read = Task { await outcome { try await client.balances([1]) } }
            try await connection.reply(to: try await connection.nextRequest(), .ping)
            #expect(await read.value.failure?.code == .protocolViolation)
            // A reply with the wrong number of items as well.
            let short = Task { await outcome { try await client.balances([1, 2]) } }
            try await connection.reply(to: try await connection.nextRequest(), .balances(BalancesReply([nil])))
            #expect(await short.value.failure?.code == .protocolViolation)
            let next = Task { await outcome { try await client.ping() } }
            try await connection.reply(to: try await connection.nextRequest(), .ping)
            #expect(await next.value.failure == nil)
        }
    }

    @Test("close fails calls in flight with connectionClosed; closing again does nothing")
    func closeFailsCallsInFlight() async throws {
        try await withConnectedClient { _, connection, client in
            let ping = Task { await outcome { try await client.ping() } }
            let write = Task { await outcome { try await client.submit(createAccount(1)) } }
            _ = try await connection.nextRequests(2)
            await client.close()
            let pingError = await ping.value.failure
            #expect(pingError?.code == .connectionClosed)
            #expect(await write.value.failure?.code == .connectionClosed)
            await client.close()
            #expect(await outcome { try await client.ping() }.failure?.code == .connectionClosed)
            // The server sees the connection close.
            try await connection.channel.closeFuture.get()
        }
    }

    @Test("requests beyond the server's limits throw requestTooLarge without being sent")
    func requestTooLargeIsLocal() async throws {
        var options = FakeServer.Options()
        options.handshake = FakeServer.handshake(
            limits: ConnectionLimits(frameBytesMax: 4_096, operationsPerRequestMax: 4)
        )
        try await withConnectedClient(options) { _, connection, client in
            let tooMany = OperationBatch((1...5).map { createAccount($0) })
            #expect(await outcome { try await client.submit(tooMany) }.failure?.code == .requestTooLarge)
            // Two operations of about 2 KiB each: within the count, beyond 4,096 frame bytes.
            let tooBig = OperationBatch([post(key: 1, referenceBytes: 1_024), post(key: 2, referenceBytes: 1_024)])
            #expect(await outcome { try await client.submit(tooBig) }.failure?.code == .requestTooLarge)
            // One operation bigger than a frame, and one beyond the encoding's 255 legs.
            #expect(
                await outcome { try await client.submit(post(key: 3, legs: 200)) }.failure?.code == .requestTooLarge
            )
            #expect(
                await outcome { try await client.submit(post(key: 4, legs: 300)) }.failure?.code == .requestTooLarge
            )
            #expect(
                await outcome { try await client.submit(OperationBatch([post(key: 5, legs: 300)])) }.failure?.code
                    == .requestTooLarge
            )
            #expect(await outcome { try await client.balances([1, 2, 3, 4, 5]) }.failure?.code == .requestTooLarge)
            #expect(await outcome { try await client.submit(OperationBatch()) }.failure?.code == .invalidArgument)
            // Nothing of the above reached the server: its next request is this ping.
            let ping = Task { await outcome { try await client.ping() } }
            let request = try await connection.nextRequest()
            #expect(request.request == .ping)
            try await connection.reply(to: request, .ping)
            #expect(await ping.value.failure == nil)
            // Within the limits, the same kinds of request go through.
            let fits = Task {
                await outcome { try await client.submit(OperationBatch([post(key: 6, referenceBytes: 1_024)])) }
            }
            let submit = try await connection.nextRequest()
            #expect(operations(of: submit).count == 1)
            try await connection.reply(
                to: submit,
                .submitBatch(
                    SubmitBatchReply(sequence: 1, recordedTime: Timestamp(nanosecondsSinceEpoch: 5), results: [.ok(9)])
                )
            )
            #expect(try await fits.value.get().results == [.ok(9)])
        }
    }

    @Test("a read whose frame exceeds the server's frame limit throws requestTooLarge")
    func readBeyondFrameLimit() async throws {
        var options = FakeServer.Options()
        options.handshake = FakeServer.handshake(limits: ConnectionLimits(frameBytesMax: 4_096))
        try await withConnectedClient(options) { _, connection, client in
            // 1,000 ids take 8,024 bytes: within 16,384 items, beyond 4,096 bytes.
            let ids = (1...1_000).map { AccountID(rawValue: UInt64($0)) }
            #expect(await outcome { try await client.balances(ids) }.failure?.code == .requestTooLarge)
            let fits = Task { await outcome { try await client.balances(Array(ids.prefix(500))) } }
            let request = try await connection.nextRequest()
            try await connection.reply(to: request, .balances(BalancesReply(Array(repeating: nil, count: 500))))
            #expect(try await fits.value.get().count == 500)
        }
    }

    @Test("connecting where no server listens fails quickly with the path in the message")
    func connectFailsWithoutServer() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = ContinuousClock()
        let missing = directory.appendingPathComponent("missing.sock").path
        // A long connect timeout: failing by it would be `timeout`, and take a minute.
        var configuration = TallyClient.Configuration.testing
        configuration.connectTimeout = .seconds(60)
        let start = clock.now
        let error = await outcome { try await TallyClient.connect(socketPath: missing, configuration: configuration) }
            .failure
        #expect(clock.now - start < .seconds(30))
        #expect(error?.code == .connectFailed)
        #expect(error?.message.contains(missing) == true)
        #expect(error?.message.contains("is the server running?") == true)
        // A file that is not a socket.
        let file = directory.appendingPathComponent("file").path
        #expect(FileManager.default.createFile(atPath: file, contents: Data([1, 2, 3])))
        let notSocket = await outcome { try await TallyClient.connect(socketPath: file) }.failure
        #expect(notSocket?.code == .connectFailed)
        #expect(notSocket?.message.contains(file) == true)
    }

    @Test("a handshake that is never answered times out by the connect timeout")
    func handshakeTimeout() async throws {
        var options = FakeServer.Options()
        options.handshake = nil
        let server = try await FakeServer.start(options)
        var configuration = TallyClient.Configuration.testing
        configuration.connectTimeout = .milliseconds(300)
        let error = await outcome {
            try await TallyClient.connect(socketPath: server.socketPath, configuration: configuration)
        }
        .failure
        await server.stop()
        #expect(error?.code == .timeout)
    }

    @Test("a server at its connection limit turns the client away with that status")
    func connectionLimit() async throws {
        var options = FakeServer.Options()
        options.greeting = ReplyFrame(
            requestID: 0,
            opcode: 0,
            failure: ErrorReply(.connectionLimit, message: "256 connections"),
            isClosing: true
        )
        let server = try await FakeServer.start(options)
        let error = await outcome {
            try await TallyClient.connect(socketPath: server.socketPath, configuration: .testing)
        }
        .failure
        await server.stop()
        #expect(error?.code == .server)
        #expect(error?.status == .connectionLimit)
    }

    @Test("a configuration the client cannot use is refused")
    func invalidConfiguration() async throws {
        var configuration = TallyClient.Configuration.testing
        configuration.requestTimeout = .zero
        let error = await outcome {
            try await TallyClient.connect(socketPath: "/nonexistent", configuration: configuration)
        }
        .failure
        #expect(error?.code == .invalidArgument)
    }
}
