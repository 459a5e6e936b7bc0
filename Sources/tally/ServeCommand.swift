import ArgumentParser
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import SystemPackage
import TallyCore
import TallyEngine
import TallyServer
import TallyWire

/// `tally serve`: recover the data directory and serve it on a Unix socket until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a ledger on a Unix socket until SIGTERM or SIGINT.",
        discussion: """
            Recovers the data directory (newest good snapshot, then the journal after it), then \
            listens on the socket. Out of the box: ./tally-data and ./tally.sock in the current \
            directory, the socket readable and writable by this user only. SIGTERM or SIGINT stop \
            accepting, answer every request already received, make the journal durable, write a \
            snapshot and exit 0. Logs go to standard error. The wire protocol is docs/PROTOCOL.md; \
            every flag is in docs/CLI.md.
            """
    )

    @Option(name: .long, help: "The data directory (created when missing).")
    var dataDirectory: String = "tally-data"

    @Option(name: .long, help: "The Unix socket for reads and writes.")
    var socket: String = "tally.sock"

    @Option(name: .long, help: "A second Unix socket that serves reads only and refuses every write.")
    var readOnlySocket: String?

    @Option(name: .long, help: "Permission bits of the socket files, in octal (connecting needs write permission).")
    var socketMode: String = "600"

    @Option(
        name: .long,
        help: "A user id allowed to write (repeatable; default: the server's own user; root always may)."
    )
    var writerUid: [UInt32] = []

    @Option(name: .long, help: "A group id whose members (by primary group) may write (repeatable).")
    var writerGid: [UInt32] = []

    @Option(name: .long, help: "Connections served at once.")
    var maxConnections: Int = ConnectionLimits.defaults.connectionsMax

    @Option(name: .long, help: "The largest request frame in bytes (4096 to 16777204).")
    var maxFrameBytes: Int = ConnectionLimits.defaults.frameBytesMax

    @Option(name: .long, help: "Operations in one submit, items in one read (1 to 16384).")
    var maxOperationsPerRequest: Int = ConnectionLimits.defaults.operationsPerRequestMax

    @Option(name: .long, help: "Bytes of unanswered requests per connection before the server stops reading it.")
    var maxInFlightBytes: Int = ConnectionLimits.defaults.inFlightBytesMax

    @Option(name: .long, help: "Close connections idle this long, in milliseconds (0: never).")
    var idleTimeoutMs: UInt32 = ConnectionLimits.defaults.idleTimeoutMilliseconds

    @Option(name: .long, help: "The longest wait for durability a client may ask for, in milliseconds.")
    var maxWaitMs: UInt32 = ConnectionLimits.defaults.waitTimeoutMaxMilliseconds

    @Option(name: .long, help: "Requests queued for the writer before new ones are answered busy.")
    var maxQueuedRequests: Int = 4_096

    @Option(name: .long, help: "Event loop threads serving connections.")
    var eventLoopThreads: Int = 1

    @Flag(
        name: .long,
        inversion: .prefixedNo,
        help: """
            Let an event loop sync the journal itself for the durable writes of one pass over its connections \
            (no thread wake-up per request); without, the journal's sync thread does every sync.
            """
    )
    var syncOnEventLoop = true

    @Option(
        name: .long,
        help:
            "The largest batch an event loop applies itself when the writer is idle; larger ones go to the writer thread."
    )
    var maxInlineOperations: Int = 256

    @Flag(
        name: .long,
        help: """
            For load tests only: engine time is the latest effective (business) time clients send, not the \
            wall clock, so a load generator's virtual clock drives hold deadlines and retention (tally load \
            --start-server uses it). Never in production: any client could move the ledger's time ahead.
            """
    )
    var virtualClock = false

    @Option(name: .long, help: "At shutdown, how long connections get to receive their replies, in milliseconds.")
    var drainTimeoutMs: Int64 = 30_000

    @Option(name: .long, help: "Write a snapshot every this many journal records (0: never by count).")
    var snapshotEveryRecords: UInt64 = 250_000

    @Option(name: .long, help: "Write a snapshot this often when there are new records, in seconds (0: never by time).")
    var snapshotIntervalSeconds: UInt64 = 300

    @Option(name: .long, help: "Snapshots kept.")
    var snapshotsRetained: Int = 3

    @Flag(name: .long, help: "Keep covered journal segments as they are instead of moving them into journal/archive/.")
    var noArchive = false

    @Flag(name: .long, help: "Do not write a snapshot when shutting down.")
    var noSnapshotOnClose = false

    @Option(name: .long, help: "Accounts to size the tables for (a new data directory only; grows as needed).")
    var expectedAccounts: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard UInt16(self.socketMode, radix: 8).map({ $0 & ~0o777 == 0 }) == true else {
            throw ValidationError(
                "--socket-mode must be octal permission bits such as 600 or 660, not \(self.socketMode)"
            )
        }
        guard Logger.Level(rawValue: self.logLevel) != nil else {
            throw ValidationError(
                "--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard self.eventLoopThreads >= 1 else { throw ValidationError("--event-loop-threads must be at least 1") }
        guard self.maxInlineOperations >= 0 else { throw ValidationError("--max-inline-operations must be at least 0") }
        guard self.maxQueuedRequests >= 1 else { throw ValidationError("--max-queued-requests must be at least 1") }
        guard self.snapshotsRetained >= 1 else { throw ValidationError("--snapshots-retained must be at least 1") }
        guard self.drainTimeoutMs >= 0 else { throw ValidationError("--drain-timeout-ms must be at least 0") }
        if let problem = ConnectionLimits.problem(
            frameBytesMax: self.maxFrameBytes,
            operationsPerRequestMax: self.maxOperationsPerRequest,
            inFlightBytesMax: self.maxInFlightBytes,
            connectionsMax: self.maxConnections
        ) {
            throw ValidationError(problem)
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: self.logLevel)!
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tally")
        // Metrics stay in the process and are reported by the statistics request (`tally stats`).
        let metrics = MetricsRegistry()
        MetricsSystem.bootstrap(metrics)

        var engineConfiguration = Engine.Configuration(dataDirectory: FilePath(self.dataDirectory))
        engineConfiguration.queuedRequestsMax = self.maxQueuedRequests
        engineConfiguration.callerAppliesOperationsMax = self.maxInlineOperations
        engineConfiguration.snapshotEveryRecords = self.snapshotEveryRecords == 0 ? nil : self.snapshotEveryRecords
        engineConfiguration.snapshotIntervalNanoseconds =
            self.snapshotIntervalSeconds == 0 ? nil : self.snapshotIntervalSeconds * 1_000_000_000
        engineConfiguration.snapshotsRetained = self.snapshotsRetained
        engineConfiguration.archiveCoveredSegments = !self.noArchive
        engineConfiguration.snapshotOnClose = !self.noSnapshotOnClose
        if let expectedAccounts = self.expectedAccounts {
            engineConfiguration.ledger.expectedAccounts = expectedAccounts
        }

        let engine: Engine
        do {
            engineConfiguration.clockFollowsEffectiveTime = self.virtualClock
            let clock: any EngineClock = self.virtualClock ? VirtualClock(.zero) : SystemClock()
            let (opened, recovery) = try Engine.open(engineConfiguration, clock: clock)
            engine = opened
            logger.info(
                "recovered",
                metadata: [
                    "data_directory": "\(self.dataDirectory)",
                    "snapshot_sequence": "\(recovery.snapshot.map { String($0.sequence) } ?? "none")",
                    "records_replayed": "\(recovery.recordsReplayed)",
                    "durable_sequence": "\(engine.durableSequence)",
                    "milliseconds": "\(recovery.nanoseconds / 1_000_000)",
                ]
            )
            for rejected in recovery.rejectedSnapshots {
                logger.warning("skipped a snapshot that does not verify", metadata: ["snapshot": "\(rejected)"])
            }
        } catch {
            throw ServeFailure("cannot open \(self.dataDirectory): \(error)")
        }

        let serverConfiguration = ServerConfiguration(
            socketPath: self.socket,
            readOnlySocketPath: self.readOnlySocket,
            socketMode: mode_t(UInt16(self.socketMode, radix: 8)!),
            writerUserIDs: Set(self.writerUid.isEmpty ? [geteuid()] : self.writerUid),
            writerGroupIDs: Set(self.writerGid),
            limits: ConnectionLimits(
                frameBytesMax: self.maxFrameBytes,
                operationsPerRequestMax: self.maxOperationsPerRequest,
                inFlightBytesMax: self.maxInFlightBytes,
                connectionsMax: self.maxConnections,
                idleTimeoutMilliseconds: self.idleTimeoutMs,
                waitTimeoutMaxMilliseconds: self.maxWaitMs
            ),
            eventLoopThreads: self.eventLoopThreads,
            syncOnEventLoop: self.syncOnEventLoop,
            shutdownDrainMilliseconds: self.drainTimeoutMs,
            serverVersion: "tally \(TallyVersion.string)"
        )
        let server = TallyServer(engine: engine, configuration: serverConfiguration, logger: logger, metrics: metrics)
        do {
            try await server.start()
        } catch {
            try? engine.close()
            throw ServeFailure("\(error)")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: EngineService(engine: engine, logger: logger)),
                    .init(service: server),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// A failure to start serving: printed as it is, exit code 1.
struct ServeFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
