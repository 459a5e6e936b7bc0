import Foundation
import Logging
import SystemPackage
import TallyCore
import TallyEngine
import TallyServer
import TallyStorage
import TallyTestKit
import TallyWire

/// A server on a fresh data directory, in this process, with raw wire sockets to talk to it.
final class ServerFixture {
    let directory: String
    let engine: Engine
    let server: TallyServer
    let fileSystem: FaultInjectingFileSystem
    var socketPath: String { self.server.configuration.socketPath }
    var readOnlySocketPath: String? { self.server.configuration.readOnlySocketPath }

    static let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    init(
        limits: ConnectionLimits = .defaults,
        readOnlySocket: Bool = false,
        writerUserIDs: Set<uid_t>? = nil,
        queuedRequestsMax: Int = 4_096,
        shutdownDrainMilliseconds: Int64 = 10_000,
        syncOnEventLoop: Bool = true,
        metrics: MetricsRegistry? = nil
    ) async throws {
        // Short paths: a Unix socket path has at most 107 bytes.
        let directory = "/tmp/tally-server-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.fileSystem = FaultInjectingFileSystem()
        var configuration = Engine.Configuration(
            dataDirectory: FilePath(directory + "/data"),
            journal: Journal.Configuration(segmentBytes: Journal.segmentBytesMin),
            queuedRequestsMax: queuedRequestsMax,
            snapshotOnClose: false
        )
        configuration.snapshotEveryRecords = nil
        configuration.snapshotIntervalNanoseconds = nil
        self.engine = try Engine.open(configuration, clock: VirtualClock(Self.start), fileSystem: self.fileSystem)
            .engine
        var logger = Logger(label: "tally-server-test")
        logger.logLevel = .critical
        self.server = TallyServer(
            engine: self.engine,
            configuration: ServerConfiguration(
                socketPath: directory + "/tally.sock",
                readOnlySocketPath: readOnlySocket ? directory + "/read.sock" : nil,
                writerUserIDs: writerUserIDs ?? [geteuid()],
                limits: limits,
                syncOnEventLoop: syncOnEventLoop,
                shutdownDrainMilliseconds: shutdownDrainMilliseconds,
                serverVersion: "tally test"
            ),
            logger: logger,
            metrics: metrics
        )
        try await self.server.start()
    }

    /// Shuts the server down and closes the engine; returns the engine's ledger invariant problems.
    func stop() async throws {
        await self.server.shutdown()
        try self.engine.close()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    func connect(readOnly: Bool = false) throws -> WireSocket {
        try WireSocket(path: readOnly ? self.readOnlySocketPath! : self.socketPath)
    }

    static let setup = OperationBatch([
        .createAsset(CreateAsset(code: "USD", scale: 2)),
        .createAccount(CreateAccount(id: 1, asset: "USD", kind: .pspReceivable, partner: 7)),
        .createAccount(
            CreateAccount(id: 2, asset: "USD", kind: .merchantPayable, merchant: 42, flags: .debitsMustNotExceedCredits)
        ),
        .createAccount(CreateAccount(id: 3, asset: "USD", kind: .feeRevenue)),
    ])

    static func capture(key: UInt64, amount: UInt128) -> TallyCore.Operation {
        let fee = amount / 40
        let legs: [Leg] = [.debit(1, amount), .credit(2, amount - fee), .credit(3, fee)]
        return .post(TransactionHeader(key: IdempotencyKey(UInt128(key)), type: .capture), legs: legs)
    }
}

extension ServerFixture {
    /// A frame header claiming `length` bytes, then `payload`: for frames the codec would not write.
    static func rawFrame(length: Int, opcode: UInt8, requestID: UInt64, payload: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        FrameHeader(length: length, opcode: opcode, requestID: requestID).encode(into: &bytes)
        bytes.withUnsafeMutableBytes {
            $0.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 0, as: UInt32.self)
        }
        return bytes + payload
    }
}

extension ReplyFrame {
    /// The submit reply, or a failure naming what came instead.
    var submit: SubmitBatchReply {
        get throws {
            guard case .submitBatch(let reply) = self.reply else {
                throw WireSocket.Failure("not a submit reply: \(self)")
            }
            return reply
        }
    }
}
