import ArgumentParser
import TallyCore

/// The `tally` command: the only place that assembles the pieces into a program.
@main
struct Tally: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "An in-memory, single-writer, double-entry ledger engine for payment platforms.",
        discussion: """
            `tally serve` serves a data directory on a Unix socket; the client commands (assets, \
            accounts, post, hold, capture, increase, void, reverse, balance, lookup, stats) talk to \
            it. `tally load` drives a server with a realistic payment workload and verifies its state; \
            `tally drill` kills a server at random moments and proves nothing acknowledged is lost. \
            Offline: `tally simulate` runs the workload in memory (or through the engine with \
            --data-directory), `tally journal` and `tally snapshot` verify and inspect a data \
            directory's files. docs/CLI.md describes every command.
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
