import ArgumentParser
import TallyCore

/// `tally increase`: adds to an open hold (incremental authorisation).
struct IncreaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "increase",
        abstract: "Increase an open hold (incremental authorisation); its deadline stays.",
        discussion:
            "--type defaults to capture. Exit status: 0 increased, 1 rejected, and as for every client command (docs/CLI.md)."
    )

    @OptionGroup var options: ClientOptions
    @OptionGroup var transaction: TransactionOptions

    @Argument(help: "The hold's id (its transaction id).", transform: FlagValue.transaction)
    var hold: TransactionID

    @Option(name: .long, help: "The amount added, in minor units.", transform: FlagValue.amount)
    var amount: UInt128

    func run() async throws {
        let operation = Operation.increaseHold(
            try self.transaction.header(defaultType: .capture),
            IncreaseTerms(hold: self.hold, amount: self.amount),
            references: self.transaction.references
        )
        try await SingleOperation.run(
            operation,
            options: self.options,
            acknowledgement: self.transaction.acknowledgement
        )
    }
}
