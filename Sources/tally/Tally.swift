import ArgumentParser
import TallyCore

/// The `tally` command: the only place that assembles the pieces into a program.
@main
struct Tally: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "An in-memory, single-writer, double-entry ledger engine for payment platforms.",
        discussion: """
            This build has the ledger core and its durable engine: `tally simulate` runs a seeded, \
            realistic payment workload through the ledger in memory, or through the engine's \
            write-ahead journal with --data-directory; `tally journal` verifies and inspects a data \
            directory's journal, `tally snapshot` creates, verifies and inspects its snapshots; \
            `tally serve` serves a data directory on a Unix socket.
            """,
        version: TallyVersion.string,
        subcommands: [
            VersionCommand.self, ServeCommand.self, SimulateCommand.self, JournalCommand.self, SnapshotCommand.self,
            CodesCommand.self,
            AssetsCommand.self, AccountsCommand.self, PostCommand.self, HoldCommand.self, CaptureCommand.self,
            IncreaseCommand.self, VoidCommand.self, ReverseCommand.self, BalanceCommand.self, LookupCommand.self,
            StatsCommand.self, DrillCommand.self, LoadCommand.self,
        ]
    )
}

/// The version of this build and of the formats it reads and writes.
enum TallyVersion {
    static let string = "0.1.0"
    /// The state digest's canonical order (see docs/LEDGER.md).
    static let stateDigestVersion = 1
    /// The idempotency content fingerprint function.
    static let fingerprintVersion = 1
}
