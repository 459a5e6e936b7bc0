import ArgumentParser
import TallyCore

/// The options of `tally accounts freeze|reopen|close`.
struct AccountStatusOptions: ParsableArguments {
    @OptionGroup var options: ClientOptions

    @Argument(help: "The account id.", transform: FlagValue.account)
    var account: AccountID

    @Option(name: .long, help: "Who asks for the change (kept in the journal). Default: 0.")
    var actor: UInt64 = 0

    @Option(name: .long, help: "Why (a client-defined reason code, kept in the journal). Default: 0.")
    var reason: UInt32 = 0

    @Flag(name: .long, help: "Acknowledge once applied, before it is durable.")
    var applied = false

    func run(_ status: AccountStatus) async throws {
        let operation = Operation.setAccountStatus(
            SetAccountStatus(account: self.account, status: status, actor: self.actor, reason: self.reason)
        )
        try await SingleOperation.run(
            operation,
            options: self.options,
            acknowledgement: self.applied ? .applied : .durable
        )
    }
}

struct AccountsFreezeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze",
        abstract: "Freeze an account: no new movement may touch it (voids and expiries still release).",
        discussion: "Exit status: 0 frozen (or already), 1 rejected, and as for every client command (docs/CLI.md)."
    )

    @OptionGroup var status: AccountStatusOptions

    func run() async throws {
        try await self.status.run(.frozen)
    }
}

struct AccountsReopenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reopen",
        abstract: "Reopen a frozen account.",
        discussion:
            "A closed account stays closed. Exit status: 0 open (or already), 1 rejected, and as for every client command (docs/CLI.md)."
    )

    @OptionGroup var status: AccountStatusOptions

    func run() async throws {
        try await self.status.run(.open)
    }
}

struct AccountsCloseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Close an account for good; it must be settled (posted debits = credits, nothing pending).",
        discussion: "Exit status: 0 closed (or already), 1 rejected, and as for every client command (docs/CLI.md)."
    )

    @OptionGroup var status: AccountStatusOptions

    func run() async throws {
        try await self.status.run(.closed)
    }
}
