import Foundation
import TallyClient
import TallyCore
import TallyTestKit
import TallyWire
import Testing

extension ProcessTests {
    /// `tally serve` as a real process, spoken to through `TallyClient` over its socket.
    @Suite
    struct ServerProcessTests {
        static func start(readOnlySocket: Bool = false, _ arguments: [String] = []) throws -> ServerProcess {
            let binary = try TallyBinary.requirePath()
            let directory = "/tmp/tally-e2e-\(UInt32.random(in: 0...UInt32.max))"
            return try ServerProcess(
                binary: binary,
                directory: directory,
                readOnlySocket: readOnlySocket,
                arguments: [
                    "--log-level", "warning", "--snapshot-every-records", "0", "--snapshot-interval-seconds", "0",
                ]
                    + arguments
            )
        }

        static let setup = OperationBatch([
            .createAsset(CreateAsset(code: "USD", scale: 2)),
            .createAsset(CreateAsset(code: "EUR", scale: 2)),
            .createAccount(CreateAccount(id: 1, asset: "USD", kind: .pspReceivable, partner: 7)),
            .createAccount(CreateAccount(id: 2, asset: "USD", kind: .merchantPayable, merchant: 42)),
            .createAccount(CreateAccount(id: 3, asset: "USD", kind: .feeRevenue)),
            .createAccount(CreateAccount(id: 4, asset: "USD", kind: .merchantPayable, merchant: 43)),
            .createAccount(CreateAccount(id: 5, asset: "EUR", kind: .pspReceivable, partner: 8)),
            .createAccount(CreateAccount(id: 6, asset: "EUR", kind: .merchantPayable, merchant: 42)),
        ])

        static func header(_ key: UInt128, _ type: TransactionType = .capture) -> TransactionHeader {
            TransactionHeader(key: IdempotencyKey(key), type: type)
        }

        @Test func everyOperationThroughARealServerSurvivesARestart() async throws {
            let server = try Self.start()
            let client = try await TallyClient.connect(socketPath: server.socketPath)
            #expect(client.server.version == 1)
            let setup = try await client.submit(Self.setup)
            #expect(setup.results.allSatisfy { $0.code == .ok }, "\(setup.results)")

            // post, hold, capture (partial), increase, void, reverse, freeze, and an atomic chain.
            let post = try await client.submit(
                .post(Self.header(1), legs: [.debit(1, 10_000), .credit(2, 9_700), .credit(3, 300)])
            )
            #expect(post.result.code == .ok)
            let hold = try await client.submit(
                .hold(Self.header(2, .reserveHold), HoldTerms(debit: 1, credit: 4, amount: 5_000))
            )
            #expect(hold.result.code == .ok)
            let holdID = hold.result.transactionID
            let increase = try await client.submit(
                .increaseHold(Self.header(3), IncreaseTerms(hold: holdID, amount: 1_000))
            )
            #expect(increase.result.code == .ok)
            let capture = try await client.submit(.capture(Self.header(4), CaptureTerms(hold: holdID, amount: 2_000)))
            #expect(capture.result.code == .ok)
            let heldNow = try await client.holds([holdID])
            #expect(heldNow.first??.id == holdID)
            let void = try await client.submit(.voidHold(Self.header(5), hold: holdID))
            #expect(void.result.code == .ok)
            let reverse = try await client.submit(
                .reverse(Self.header(6, .refund), transaction: post.result.transactionID)
            )
            #expect(reverse.result.code == .ok)
            let again = try await client.submit(
                .reverse(Self.header(7, .refund), transaction: post.result.transactionID)
            )
            #expect(again.result.code == .alreadyReversed)
            let freeze = try await client.submit(.setAccountStatus(SetAccountStatus(account: 4, status: .frozen)))
            #expect(freeze.result.code == .ok)
            let frozen = try await client.submit(.post(Self.header(8), legs: [.debit(1, 100), .credit(4, 100)]))
            #expect(frozen.result.code == .accountFrozen)
            // An atomic chain whose second member fails: neither applies.
            var chain = OperationBatch()
            chain.append(.post(Self.header(9), legs: [.debit(1, 500), .credit(2, 500)]), linked: true)
            chain.append(.post(Self.header(10), legs: [.debit(1, 500), .credit(99, 500)]))
            let chained = try await client.submit(chain)
            #expect(chained.results.allSatisfy { $0.code != .ok })
            // A retry with the same key replays the first result.
            let replay = try await client.submit(
                .post(Self.header(1), legs: [.debit(1, 10_000), .credit(2, 9_700), .credit(3, 300)])
            )
            #expect(replay.result.transactionID == post.result.transactionID)

            // Reads.
            let balances = try await client.balances([1, 2, 3, 4, 77])
            #expect(balances[1]?.creditsPosted == 9_700)
            #expect(balances[1]?.debitsPosted == 9_700)  // reversed
            #expect(balances[3]?.creditsPosted == 2_000)  // captured into the frozen merchant before the freeze
            #expect(balances[4] == nil)
            let accounts = try await client.accounts([4])
            #expect(accounts[0]?.status == .frozen)
            let total = try await client.aggregateBalance(kind: .merchantPayable, asset: "USD", dimension: .total)
            #expect(total?.creditsPosted == UInt128(9_700 + 2_000))
            let page = try await client.aggregateBalances(
                kind: .merchantPayable,
                asset: "USD",
                grouping: .merchant,
                limit: 1
            )
            #expect(page.entries.map(\.value) == [42])
            #expect(page.hasMore)
            let assets = try await client.assets(["USD", "GBP"])
            #expect(assets[0]?.scale == 2 && assets[1] == nil)
            let found = try await client.transaction(post.result.transactionID)
            guard case .found(let record) = found else {
                Issue.record("\(found)")
                return
            }
            #expect(record.id == post.result.transactionID)
            let remembered = try await client.idempotencyRecord(IdempotencyKey(UInt128(8)))
            #expect(remembered?.result.code == .accountFrozen)
            let durable = try await client.waitUntilDurable(replay.sequence, timeout: .seconds(5))
            #expect(durable >= replay.sequence)
            let statistics = try await client.statistics()
            #expect(statistics.contains { $0.name == "server.requests.submit" && $0.value > 10 })
            try await client.ping()
            let digestBefore = balances
            await client.close()

            // SIGTERM: exit 0; a restart serves the same balances.
            #expect(try server.terminate() == 0)
            let restarted = try ServerProcess(
                binary: try TallyBinary.requirePath(),
                directory: server.directory,
                arguments: ["--log-level", "warning"]
            )
            let second = try await TallyClient.connect(socketPath: restarted.socketPath)
            #expect(try await second.balances([1, 2, 3, 4, 77]) == digestBefore)
            await second.close()
            #expect(try restarted.terminate() == 0)
            try? FileManager.default.removeItem(atPath: server.directory)
        }

        @Test func concurrentAndPipelinedClientsAllGetTheirOwnResults() async throws {
            let server = try Self.start()
            let setupClient = try await TallyClient.connect(socketPath: server.socketPath)
            _ = try await setupClient.submit(Self.setup)
            await setupClient.close()
            let clients = 8
            let perClient = 250
            let socketPath = server.socketPath
            let outcomes = try await withThrowingTaskGroup(of: [OperationOutcome].self) { group in
                for clientIndex in 0..<clients {
                    group.addTask {
                        let client = try await TallyClient.connect(socketPath: socketPath)
                        // Every operation of this client in flight at once: pipelined and coalesced.
                        let mine = try await withThrowingTaskGroup(of: OperationOutcome.self) { inner in
                            for index in 0..<perClient {
                                let key = UInt128(1_000_000 + clientIndex * perClient + index)
                                inner.addTask {
                                    try await client.submit(
                                        .post(Self.header(key), legs: [.debit(1, 10), .credit(2, 10)])
                                    )
                                }
                            }
                            var all: [OperationOutcome] = []
                            for try await outcome in inner { all.append(outcome) }
                            return all
                        }
                        await client.close()
                        return mine
                    }
                }
                var all: [OperationOutcome] = []
                for try await some in group { all += some }
                return all
            }
            #expect(outcomes.count == clients * perClient)
            #expect(outcomes.allSatisfy { $0.result.code == .ok })
            #expect(Set(outcomes.map(\.result.transactionID)).count == clients * perClient)
            let check = try await TallyClient.connect(socketPath: socketPath)
            let merchant = try await check.balances([2])
            #expect(merchant[0]?.creditsPosted == UInt128(10 * clients * perClient))
            let statistics = try await check.statistics()
            let submits = statistics.first { $0.name == "server.requests.submit" }?.value ?? 0
            #expect(submits < UInt64(clients * perClient), "concurrent callers were combined into fewer requests")
            await check.close()
            #expect(try server.terminate() == 0)
            try? FileManager.default.removeItem(atPath: server.directory)
        }

        @Test func theReadOnlySocketRefusesWritesAndServesReads() async throws {
            let server = try Self.start(readOnlySocket: true)
            let writer = try await TallyClient.connect(socketPath: server.socketPath)
            _ = try await writer.submit(Self.setup)
            let reader = try await TallyClient.connect(socketPath: server.readOnlySocketPath!)
            #expect(reader.server.isReadOnly)
            do {
                _ = try await reader.submit(.post(Self.header(1), legs: [.debit(1, 10), .credit(2, 10)]))
                Issue.record("a write on the read-only socket was accepted")
            } catch {
                #expect(error.code == .server)
                #expect(error.status == .readOnly)
            }
            #expect(try await reader.balances([2])[0]?.creditsPosted == 0)
            let permissions =
                try FileManager.default.attributesOfItem(atPath: server.socketPath)[.posixPermissions] as? Int
            #expect(permissions == 0o600)
            await reader.close()
            await writer.close()
            #expect(try server.terminate() == 0)
            try? FileManager.default.removeItem(atPath: server.directory)
        }

        @Test func gracefulShutdownAnswersInFlightWritesAndKeepsThem() async throws {
            let server = try Self.start()
            let client = try await TallyClient.connect(socketPath: server.socketPath)
            _ = try await client.submit(Self.setup)
            // Many writes in flight when SIGTERM arrives: each is either answered ok (and then durable)
            // or refused as a whole (shutting_down / connection closed) — never acknowledged and lost.
            let acknowledged = try await withThrowingTaskGroup(of: UInt128?.self) { group in
                for index in 0..<2_000 {
                    group.addTask {
                        let key = UInt128(5_000_000 + index)
                        do {
                            let outcome = try await client.submit(
                                .post(Self.header(key), legs: [.debit(1, 1), .credit(2, 1)])
                            )
                            return outcome.result.code == .ok ? key : nil
                        } catch {
                            return nil
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(30))
                kill(server.processID, SIGTERM)
                var keys: [UInt128] = []
                for try await key in group { if let key { keys.append(key) } }
                return keys
            }
            #expect(try server.waitForExit(timeoutSeconds: 60) == 0)
            await client.close()
            let restarted = try ServerProcess(
                binary: try TallyBinary.requirePath(),
                directory: server.directory,
                arguments: ["--log-level", "warning"]
            )
            let check = try await TallyClient.connect(socketPath: restarted.socketPath)
            for key in acknowledged.prefix(200) {
                let record = try await check.idempotencyRecord(IdempotencyKey(key))
                #expect(record?.result.code == .ok, "acknowledged write \(key) lost")
            }
            let merchant = try await check.balances([2])
            #expect(merchant[0]?.creditsPosted ?? 0 >= UInt128(acknowledged.count))
            await check.close()
            #expect(try restarted.terminate() == 0)
            try? FileManager.default.removeItem(atPath: server.directory)
        }

        @Test func aClientWithoutAServerFailsClearly() async throws {
            do {
                _ = try await TallyClient.connect(
                    socketPath: "/tmp/tally-no-such-\(UInt32.random(in: 0...UInt32.max)).sock"
                )
                Issue.record("connected to nothing")
            } catch {
                #expect(error.code == .connectFailed)
                #expect(error.message.contains("running"))
            }
        }
    }
}

extension TallyBinary {
    static func requirePath() throws -> String {
        guard let path = Self.locate() else { throw NotFound() }
        return path
    }
}
