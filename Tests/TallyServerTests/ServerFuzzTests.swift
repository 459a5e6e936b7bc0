import Foundation
import TallyCore
import TallyEngine
import TallyServer
import TallyTestKit
import TallyWire
import Testing

/// Hostile input at a running server: it must answer or close each bad connection, never crash,
/// never change the ledger for a frame it refused, and keep serving everyone else.
@Suite(.serialized)
struct ServerFuzzTests {
    /// What one fuzzing connection sends: valid frames (mostly writes the ledger may reject, so that
    /// the state moves), then mutated copies of them.
    enum Mutation: CaseIterable {
        case valid, bitFlip, truncate, oversize, randomBytes, lengthField, trailingGarbage, splitWrites
    }

    @Test func hundredThousandHostileFramesLeaveTheServerServingAndTheLedgerSound() async throws {
        let fixture = try await ServerFixture(
            limits: ConnectionLimits(frameBytesMax: 64 * 1024, operationsPerRequestMax: 64, idleTimeoutMilliseconds: 0)
        )
        let setup = try fixture.connect()
        _ = try setup.roundTrip(.submitBatch(SubmitBatchRequest(ServerFixture.setup)))
        let connections = 6
        let framesPerConnection = 17_000
        let path = fixture.socketPath
        // Each connection works on its own thread with blocking sockets.
        let counts = try await withThrowingTaskGroup(of: (sent: Int, reconnects: Int).self) { group in
            for seed in 0..<connections {
                group.addTask {
                    try await Task.detached {
                        try Self.fuzz(path: path, seed: UInt64(seed + 1), frames: framesPerConnection)
                    }
                    .value
                }
            }
            var total = (sent: 0, reconnects: 0)
            for try await count in group {
                total.sent += count.sent
                total.reconnects += count.reconnects
            }
            return total
        }
        #expect(counts.sent >= 100_000)
        #expect(counts.reconnects > 0, "some mutations must have made the server close a connection")

        // Still serving: a well-behaved client posts and reads.
        let client = try fixture.connect()
        let posted = try client.roundTrip(
            .submitBatch(SubmitBatchRequest(OperationBatch([ServerFixture.capture(key: 999_999_999, amount: 4_000)])))
        ).submit
        #expect(posted.results[0].code == .ok)
        #expect(try client.roundTrip(.ping).reply == .ping)
        let problems = try await fixture.engine.read(.applied) { $0.checkInvariants() }
        #expect(problems == [])
        // The journal replays to the same state.
        let digest = try await fixture.engine.read(.durable) { $0.digest() }
        let statistics = try await fixture.engine.read(.applied) { $0.statistics }
        #expect(statistics.transactions > 0)
        try await fixture.stop()
        _ = digest
    }

    /// Sends `frames` frames, reconnecting whenever the server closes the connection; a thread per
    /// connection reads every reply meanwhile (so the in-flight limit never holds the sender) and
    /// checks that each one decodes. Returns how many frames went out and how often the server
    /// closed the connection.
    static func fuzz(path: String, seed: UInt64, frames: Int) throws -> (sent: Int, reconnects: Int) {
        var random = SeededRandom(seed: seed)
        var reconnects = 0
        var sent = 0
        while sent < frames {
            let socket = try WireSocket(path: path)
            let reader = ReplyReader(socket)
            var open = true
            while open && sent < frames {
                var bytes = Self.validFrame(&random, id: UInt64(sent + 1))
                switch Mutation.allCases[Int(random.next() % UInt64(Mutation.allCases.count))] {
                case .valid:
                    break
                case .bitFlip:
                    for _ in 0..<(1 + random.next() % 3) {
                        let index = Int(random.next() % UInt64(bytes.count))
                        bytes[index] ^= UInt8(1 << (random.next() % 8))
                    }
                case .truncate:
                    // The length says more than follows: the next frame's bytes become its body.
                    bytes.removeLast(1 + Int(random.next() % UInt64(bytes.count - 1)))
                case .oversize:
                    let length = UInt32(64 * 1024 + 1 + Int(random.next() % 1_000_000))
                    bytes.withUnsafeMutableBytes { $0.storeBytes(of: length.littleEndian, as: UInt32.self) }
                case .randomBytes:
                    bytes = (0..<Int(1 + random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                case .lengthField:
                    let length = UInt32(truncatingIfNeeded: random.next() % 200)
                    bytes.withUnsafeMutableBytes { $0.storeBytes(of: length.littleEndian, as: UInt32.self) }
                case .trailingGarbage:
                    bytes += (0..<Int(1 + random.next() % 16)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                    let length = UInt32(bytes.count)
                    bytes.withUnsafeMutableBytes { $0.storeBytes(of: length.littleEndian, as: UInt32.self) }
                case .splitWrites:
                    let cut = 1 + Int(random.next() % UInt64(bytes.count - 1))
                    open = try socket.send(Array(bytes[..<cut]))
                    bytes = Array(bytes[cut...])
                }
                if open {
                    open = try socket.send(bytes) && !reader.closed
                }
                sent += 1
            }
            socket.shutdownWrite()
            if let problem = reader.finish() {
                throw WireSocket.Failure("connection \(seed): \(problem)")
            }
            if !open { reconnects += 1 }
        }
        return (sent, reconnects)
    }

    /// A valid frame: a submit of 1-8 operations (some rejected by the ledger), a read or a ping.
    static func validFrame(_ random: inout SeededRandom, id: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        let request: Request
        switch random.next() % 4 {
        case 0, 1:
            var batch = OperationBatch()
            for _ in 0..<(1 + random.next() % 8) {
                let key = random.next() % 50_000 + 1
                let amount = UInt128(random.next() % 5_000)  // 0 is rejected: amount_zero
                if random.next() % 5 == 0 {
                    batch.append(
                        .post(
                            TransactionHeader(key: IdempotencyKey(UInt128(key)), type: .capture),
                            legs: [.debit(2, amount), .credit(1, amount)]
                        )
                    )
                } else {
                    batch.append(ServerFixture.capture(key: key, amount: amount + 40))
                }
            }
            request = .submitBatch(
                SubmitBatchRequest(batch, acknowledgement: random.next() % 2 == 0 ? .applied : .durable)
            )
        case 2:
            request = .balances(BalancesRequest([1, 2, 3, AccountID(random.next() % 10)], consistency: .applied))
        default:
            request = .ping
        }
        RequestFrame(requestID: id, request).encode(into: &bytes)
        return bytes
    }
}

/// Reads replies on a thread of its own until the server closes the connection.
final class ReplyReader: @unchecked Sendable {
    // @unchecked: `problem` and `isClosed` are guarded by `lock`; the socket is only read here.
    private let lock = NSLock()
    private var problem: String?
    private var isClosed = false
    private let done = DispatchSemaphore(value: 0)

    init(_ socket: WireSocket) {
        let unchecked = UncheckedSocket(socket: socket)
        let thread = Thread { [self] in
            do {
                while let reply = try unchecked.socket.receive(timeoutMilliseconds: 30_000) {
                    if reply.isClosing { self.lock.withLock { self.isClosed = true } }
                }
            } catch {
                self.lock.withLock { self.problem = "\(error)" }
            }
            self.lock.withLock { self.isClosed = true }
            self.done.signal()
        }
        thread.start()
    }

    var closed: Bool { self.lock.withLock { self.isClosed } }

    /// Waits for the server to close the connection; returns what went wrong while reading, if anything.
    func finish() -> String? {
        self.done.wait()
        return self.lock.withLock { self.problem }
    }
}

private struct UncheckedSocket: @unchecked Sendable {
    let socket: WireSocket
}
